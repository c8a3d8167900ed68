"""Cox model with Efron ties against R's survival 3.5 (coxph) on the reference survival trials."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipdstats.cox import cox_efron, cox_efron_stratum_specific
from ipdstats.errors import AnalysisError

DATA = Path(__file__).resolve().parents[1] / "data" / "reference" / "data" / "surv_a.csv.gz"


@pytest.fixture(scope="module")
def surv():
    frame = pd.read_csv(DATA)
    frame["stratum"] = pd.factorize(frame["trial"], sort=True)[0]
    return frame


def test_stratified_treatment_only_matches_coxph(surv):
    # R: coxph(Surv(time, event) ~ treat + strata(trial), d, control = coxph.control(eps = 1e-14))
    fit = cox_efron(surv["time"], surv["event"], surv[["treat"]].to_numpy(), surv["stratum"].to_numpy())
    assert fit.converged
    assert fit.coef[0] == pytest.approx(-0.276315892198221, abs=1e-9)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(0.0837478830424562, rel=1e-8)
    assert fit.loglik == pytest.approx(-2988.2769822996, rel=1e-11)


def test_stratified_with_age_matches_coxph(surv):
    # R: coxph(Surv(time, event) ~ treat + age + strata(trial), d, control = coxph.control(eps = 1e-14))
    x = surv[["treat", "age"]].to_numpy()
    fit = cox_efron(surv["time"], surv["event"], x, surv["stratum"].to_numpy())
    np.testing.assert_allclose(fit.coef, [-0.273841064737314, 0.0175921305077641], rtol=1e-8)
    np.testing.assert_allclose(
        fit.cov.ravel(),
        [0.00701580870659609, 5.26148702678116e-06, 5.26148702678116e-06, 2.65249016157009e-05],
        rtol=1e-7,
    )
    assert fit.loglik == pytest.approx(-2982.4475445338, rel=1e-11)


def test_heavy_ties_match_coxph_efron(surv):
    # R: d$tr <- ceiling(d$time * 3); coxph(Surv(tr, event) ~ treat + age, d, ties = "efron",
    #    control = coxph.control(eps = 1e-12, toler.chol = 1e-13))  and the same + strata(trial)
    tied = np.ceil(surv["time"].to_numpy() * 3)
    x = surv[["treat", "age"]].to_numpy()
    fit = cox_efron(tied, surv["event"], x)
    np.testing.assert_allclose(fit.coef, [-0.288564049219906, 0.0172055984073323], rtol=1e-8)
    np.testing.assert_allclose(
        fit.cov.ravel(),
        [0.00697147232541232, 2.7673524224408e-06, 2.7673524224408e-06, 2.62407100606599e-05],
        rtol=1e-7,
    )
    assert fit.loglik == pytest.approx(-4152.59789144042, rel=1e-11)
    stratified = cox_efron(tied, surv["event"], x, surv["stratum"].to_numpy())
    np.testing.assert_allclose(stratified.coef, [-0.272556618502313, 0.0177215092829651], rtol=1e-8)
    assert stratified.cov[0, 0] == pytest.approx(0.00701046267224327, rel=1e-7)


def test_row_order_and_stratum_labels_do_not_matter(surv):
    x = surv[["treat"]].to_numpy()
    base = cox_efron(surv["time"], surv["event"], x, surv["stratum"].to_numpy())
    shuffled = np.random.default_rng(3).permutation(len(surv))
    relabelled = 1000 - surv["stratum"].to_numpy()[shuffled]
    other = cox_efron(surv["time"].to_numpy()[shuffled], surv["event"].to_numpy()[shuffled], x[shuffled], relabelled)
    np.testing.assert_allclose(other.coef, base.coef, rtol=1e-10)
    np.testing.assert_allclose(other.cov, base.cov, rtol=1e-9)


def test_small_hand_checked_example():
    # Two events tied at t=1 among three at risk, one in each arm: the Efron score at beta=0 is 0 by symmetry
    # when the arms are mirrored, so the estimate is exactly 0.
    time = np.array([1.0, 1.0, 2.0, 2.0])
    event = np.array([1.0, 1.0, 1.0, 1.0])
    treat = np.array([[1.0], [0.0], [1.0], [0.0]])
    fit = cox_efron(time, event, treat)
    assert fit.coef[0] == pytest.approx(0.0, abs=1e-12)


def test_no_events_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="no events"):
        cox_efron(np.array([1.0, 2.0]), np.array([0.0, 0.0]), np.array([[0.0], [1.0]]))


def test_covariate_without_variation_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="singular"):
        cox_efron(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0]), np.array([[1.0], [1.0], [1.0]]))


def test_stratum_specific_covariates_match_coxph(surv):
    # coxph(Surv(time, event) ~ treat + strata(trial) + age:strata(trial), d, control = coxph.control(eps = 1e-12))
    args = (surv[["treat"]].to_numpy(), surv[["age"]].to_numpy(), surv["stratum"].to_numpy())
    fit = cox_efron_stratum_specific(surv["time"], surv["event"], *args)
    assert fit.coef[0] == pytest.approx(-0.274006515169589, abs=1e-9)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(0.0839075094811567, rel=1e-8)
    assert fit.loglik == pytest.approx(-2981.53856127341, rel=1e-11)


def test_stratum_without_events_or_without_covariate_variation(surv):
    # as above, with d$event set to 0 in the first trial; then with d$age set to 60 in the first trial
    # (coxph reports NA for that trial's age coefficient)
    first = surv["stratum"] == 0
    args = (surv[["treat"]].to_numpy(), surv[["age"]].to_numpy(), surv["stratum"].to_numpy())
    no_events = cox_efron_stratum_specific(surv["time"], surv["event"].where(~first, 0), *args)
    assert no_events.coef[0] == pytest.approx(-0.250369537842839, abs=1e-9)
    assert np.sqrt(no_events.cov[0, 0]) == pytest.approx(0.0972153924291309, rel=1e-8)
    flat_age = surv[["age"]].where(~first.to_numpy()[:, None], 60).to_numpy()
    flat = cox_efron_stratum_specific(surv["time"], surv["event"], args[0], flat_age, args[2])
    assert flat.coef[0] == pytest.approx(-0.280581773356424, abs=1e-9)
    assert np.sqrt(flat.cov[0, 0]) == pytest.approx(0.0838275053346477, rel=1e-8)
    assert flat.converged
