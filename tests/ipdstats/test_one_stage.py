"""fit_one_stage: the one-stage models as the engine calls them, their warnings, and simulations showing that
the within-trial interaction is recovered and the across-trial term absorbs an ecological effect."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipdstats.data import Prepared
from ipdstats.errors import AnalysisError
from ipdstats.onestage import fit_one_stage

DATA = Path(__file__).resolve().parents[1] / "data" / "reference" / "data"


def prepared(frame: pd.DataFrame, outcome: str | None = None, covariates=(), survival=False) -> Prepared:
    trials = sorted(frame["trial"].astype(str).unique())
    return Prepared(
        trials=trials,
        trial_index=pd.Categorical(frame["trial"].astype(str), categories=trials).codes.astype(np.int64),
        treat=frame["treat"].to_numpy(float),
        outcome=frame[outcome].to_numpy(float) if outcome else None,
        time=frame["time"].to_numpy(float) if survival else None,
        event=frame["event"].to_numpy(float) if survival else None,
        covariates={name: frame[name].to_numpy(float) for name in covariates},
        rows_dropped=0,
    )


def run(data, measure, adjust=(), interaction=None, quadrature=1):
    return fit_one_stage(data, measure=measure, adjust=list(adjust), interaction=interaction, quadrature=quadrature)


@pytest.fixture(scope="module")
def surv_a():
    return pd.read_csv(DATA / "surv_a.csv.gz")


@pytest.fixture(scope="module")
def bin_a():
    return pd.read_csv(DATA / "bin_a.csv.gz")


def test_md_interaction_result_shape_and_values():
    frame = pd.read_csv(DATA / "cont_a.csv.gz")
    result = run(prepared(frame, "y", ["age"]), "MD", interaction="age")
    within, across = result["interaction"]["within"], result["interaction"]["across"]
    # lmer values of the reference case cont_a
    assert within["estimate"] == pytest.approx(-0.00490218283120287, rel=1e-5)
    assert across["se"] == pytest.approx(0.0197775928226511, rel=1e-5)
    assert within["ci_low"] < within["estimate"] < within["ci_high"]
    assert 0 <= across["p"] <= 1
    assert result["heterogeneity"]["tau2"] == 0.0
    assert any("boundary" in text for text in result["warnings"])
    assert result["convergence"]["converged"] is True
    assert result["pooled"]["k"] == len(frame["trial"].unique())


def test_hr_adjusted_has_one_age_coefficient_per_trial(surv_a):
    # coxph(Surv(time, event) ~ treat + strata(trial) + age:strata(trial), d)
    result = run(prepared(surv_a, covariates=["age"], survival=True), "HR", adjust=["age"])
    assert result["pooled"]["estimate"] == pytest.approx(-0.274006515169589, abs=1e-9)
    assert result["pooled"]["se"] == pytest.approx(0.0839075094811567, rel=1e-7)
    assert result["heterogeneity"] is None


def test_hr_interaction_matches_coxph(surv_a):
    # m = ave(age, trial); w = age - m; mc = m - mean(tapply(age, trial, mean))
    # coxph(Surv(time, event) ~ treat + treat:w + treat:mc + strata(trial) + age:strata(trial), d)
    result = run(prepared(surv_a, covariates=["age"], survival=True), "HR", interaction="age")
    assert result["pooled"]["estimate"] == pytest.approx(-0.272831676465871, abs=1e-8)
    assert result["interaction"]["within"]["estimate"] == pytest.approx(0.0133886297997147, rel=1e-6)
    assert result["interaction"]["across"]["estimate"] == pytest.approx(-0.122089584569199, rel=1e-6)
    assert result["interaction"]["within"]["se"] == pytest.approx(0.0105432555057202, rel=1e-6)
    assert result["interaction"]["across"]["se"] == pytest.approx(0.310366636274658, rel=1e-6)


def test_or_interaction_matches_glmer(bin_a):
    # w = age - ave(age, trial); mc = trial mean - mean of trial means;
    # glmer(y ~ 0 + trial + trial:w + tc + tc:w + tc:mc + (0 + tc | trial), binomial, bobyqa)   (Laplace)
    result = run(prepared(bin_a, "y", ["age"]), "OR", interaction="age")
    assert result["pooled"]["estimate"] == pytest.approx(-0.5463120655, abs=2e-5)
    assert result["interaction"]["within"]["estimate"] == pytest.approx(0.01760376218, abs=2e-6)
    assert result["interaction"]["within"]["se"] == pytest.approx(0.01031952054, rel=5e-4)
    assert result["interaction"]["across"]["estimate"] == pytest.approx(0.01929037619, abs=2e-5)
    assert result["interaction"]["across"]["se"] == pytest.approx(0.03435410539, rel=5e-4)
    assert result["heterogeneity"]["tau2"] == pytest.approx(0.06377085268, rel=2e-3)


def test_trials_without_events_or_with_only_events_are_left_out_with_a_warning(bin_a):
    frame = bin_a.copy()
    trials = sorted(frame["trial"].unique())
    frame.loc[frame["trial"] == trials[0], "y"] = 0
    frame.loc[frame["trial"] == trials[1], "y"] = 1
    result = run(prepared(frame, "y"), "OR")
    kept = frame[~frame["trial"].isin(trials[:2])]
    reference = run(prepared(kept, "y"), "OR")
    assert result["pooled"]["k"] == len(trials) - 2
    assert result["pooled"]["estimate"] == pytest.approx(reference["pooled"]["estimate"], abs=1e-10)
    assert any(trials[0] in text and "no participant had" in text for text in result["warnings"])
    assert any(trials[1] in text and "every participant had" in text for text in result["warnings"])


def test_every_trial_without_events_is_an_error(bin_a):
    frame = bin_a.assign(y=0)
    with pytest.raises(AnalysisError, match="No trial"):
        run(prepared(frame, "y"), "OR")


def test_one_trial_has_no_heterogeneity_and_says_so(bin_a):
    frame = bin_a[bin_a["trial"] == sorted(bin_a["trial"].unique())[0]]
    result = run(prepared(frame, "y"), "OR", quadrature=5)
    table = pd.crosstab(frame["treat"], frame["y"])
    log_or = np.log(table.loc[1, 1] * table.loc[0, 0] / (table.loc[1, 0] * table.loc[0, 1]))
    assert result["pooled"]["estimate"] == pytest.approx(log_or, abs=1e-8)
    assert result["pooled"]["se"] == pytest.approx(np.sqrt((1 / table.to_numpy()).sum()), rel=1e-5)
    assert result["heterogeneity"] is None
    assert any("Only one trial contributes" in text for text in result["warnings"])


def test_a_trial_with_one_arm_stays_in_and_is_named(bin_a):
    frame = bin_a.copy()
    first = sorted(frame["trial"].unique())[0]
    frame = frame[~((frame["trial"] == first) & (frame["treat"] == 0))]
    result = run(prepared(frame, "y"), "OR")
    assert any(first in text and "one arm" in text for text in result["warnings"])
    assert result["convergence"]["converged"] is True


def test_ratio_measures_other_than_or_are_two_stage_only(bin_a):
    with pytest.raises(AnalysisError, match="RR"):
        run(prepared(bin_a, "y"), "RR")


def test_all_participants_in_one_arm_is_an_error(bin_a):
    with pytest.raises(AnalysisError, match="same arm"):
        run(prepared(bin_a.assign(treat=1), "y"), "OR")


def simulate(seed, outcome, within, across, n_trials=30, size=400):
    """Trials whose mean covariate differs; the treatment effect varies with z - trial mean (within) and with
    the trial mean (across, an ecological effect)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 2, n_trials)
    group = np.repeat(np.arange(n_trials), size)
    z = means[group] + rng.normal(0, 1, len(group))
    treat = rng.integers(0, 2, len(group)).astype(float)
    effect = -0.5 + within * (z - means[group]) + across * (means[group] - means.mean())
    linear = rng.normal(0, 0.5, n_trials)[group] + 0.3 * z + effect * (treat - 0.5)
    if outcome == "binary":
        y = (rng.random(len(group)) < 1 / (1 + np.exp(-linear))).astype(float)
    else:
        y = 3 * linear + rng.normal(0, 2, len(group))
    frame = pd.DataFrame({"trial": [f"S{i:02d}" for i in group], "treat": treat, "z": z, "y": y})
    return prepared(frame, "y", ["z"])


@pytest.mark.parametrize(("outcome", "measure", "scale"), [("binary", "OR", 1.0), ("continuous", "MD", 3.0)])
def test_simulation_recovers_a_within_trial_interaction(outcome, measure, scale):
    result = run(simulate(11, outcome, within=0.4, across=0.0), measure, interaction="z")
    within, across = result["interaction"]["within"], result["interaction"]["across"]
    assert abs(within["estimate"] - 0.4 * scale) < 3 * within["se"]
    assert within["ci_low"] > 0
    assert abs(across["estimate"]) < 3 * across["se"]


@pytest.mark.parametrize(("outcome", "measure", "scale"), [("binary", "OR", 1.0), ("continuous", "MD", 3.0)])
def test_simulation_across_term_absorbs_an_ecological_effect(outcome, measure, scale):
    data = simulate(12, outcome, within=0.0, across=0.5)
    result = run(data, measure, interaction="z")
    within, across = result["interaction"]["within"], result["interaction"]["across"]
    assert abs(within["estimate"]) < 3 * within["se"]
    assert abs(across["estimate"] - 0.5 * scale) < 3 * across["se"]
    assert across["ci_low"] > 0


@pytest.mark.parametrize(
    ("name", "measure", "outcome", "covariates", "survival"),
    [
        ("cont_a", "MD", "y", ["y0"], False),
        ("bin_a", "OR", "y", ["age"], False),
        ("surv_a", "HR", None, ["age"], True),
    ],
)
def test_row_order_and_trial_labels_do_not_change_the_result(name, measure, outcome, covariates, survival):
    frame = pd.read_csv(DATA / f"{name}.csv.gz")
    base = run(prepared(frame, outcome, covariates, survival), measure, adjust=covariates)
    shuffled = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    shuffled["trial"] = "x" + shuffled["trial"].str[::-1]  # another sort order of the labels
    other = run(prepared(shuffled, outcome, covariates, survival), measure, adjust=covariates)
    assert other["pooled"]["estimate"] == pytest.approx(base["pooled"]["estimate"], abs=1e-8)
    assert other["pooled"]["se"] == pytest.approx(base["pooled"]["se"], rel=1e-5)


def test_swapping_the_arms_negates_the_effect(bin_a):
    base = run(prepared(bin_a, "y", ["age"]), "OR", adjust=["age"])
    swapped = run(prepared(bin_a.assign(treat=1 - bin_a["treat"]), "y", ["age"]), "OR", adjust=["age"])
    assert swapped["pooled"]["estimate"] == pytest.approx(-base["pooled"]["estimate"], abs=1e-8)
    assert swapped["pooled"]["se"] == pytest.approx(base["pooled"]["se"], rel=1e-5)
    assert swapped["heterogeneity"]["tau2"] == pytest.approx(base["heterogeneity"]["tau2"], rel=1e-5)
