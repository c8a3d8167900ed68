"""Stage one: per-trial estimates against closed forms, numpy least squares, and R (glm, coxph)."""

from pathlib import Path

import numpy as np
import pytest

from ipdstats.data import Prepared, load
from ipdstats.effects import interaction_effects, treatment_effects
from ipdstats.spec import parse_spec

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "reference" / "data"


def prepared(trial, treat, outcome=None, time=None, event=None, **covariates) -> Prepared:
    trial = np.asarray(trial)
    labels = sorted(set(trial.tolist()))
    as_float = lambda values: None if values is None else np.asarray(values, dtype=float)  # noqa: E731
    return Prepared(
        trials=labels,
        trial_index=np.array([labels.index(label) for label in trial], dtype=np.int64),
        treat=as_float(treat),
        outcome=as_float(outcome),
        time=as_float(time),
        event=as_float(event),
        covariates={name: as_float(values) for name, values in covariates.items()},
        rows_dropped=0,
    )


def table_rows(trial, a, n1, c, n2):
    """Rows of one trial with a/n1 events in the intervention arm and c/n2 in the control arm."""
    treat = [1] * n1 + [0] * n2
    outcome = [1] * a + [0] * (n1 - a) + [1] * c + [0] * (n2 - c)
    return [trial] * (n1 + n2), treat, outcome


def binary_data(*tables) -> Prepared:
    trial, treat, outcome = [], [], []
    for table in tables:
        rows = table_rows(*table)
        trial += rows[0]
        treat += rows[1]
        outcome += rows[2]
    return prepared(trial, treat, outcome)


def reference(name: str, **spec) -> Prepared:
    columns = {
        "cont_a": {"trial": "trial", "treatment": "treat", "outcome": "y"},
        "bin_a": {"trial": "trial", "treatment": "treat", "outcome": "y"},
        "surv_a": {"trial": "trial", "treatment": "treat", "time": "time", "event": "event"},
    }[name]
    outcome = {"cont_a": "continuous", "bin_a": "binary", "surv_a": "survival"}[name]
    return load(parse_spec({"data": f"{name}.csv.gz", "outcome": outcome, "columns": columns} | spec, DATA_DIR))


def test_mean_difference_is_the_difference_of_means_with_the_pooled_variance_se():
    rng = np.random.default_rng(3)
    trial = np.repeat(["A", "B", "C"], [30, 45, 60])
    treat = rng.integers(0, 2, len(trial))
    y = rng.normal(5, 2, len(trial)) + treat
    effects = treatment_effects(prepared(trial, treat, y), "MD", [])
    for index, label in enumerate(["A", "B", "C"]):
        y1, y0 = y[(trial == label) & (treat == 1)], y[(trial == label) & (treat == 0)]
        pooled = ((len(y1) - 1) * y1.var(ddof=1) + (len(y0) - 1) * y0.var(ddof=1)) / (len(y1) + len(y0) - 2)
        assert effects.estimate[index] == pytest.approx(y1.mean() - y0.mean(), rel=1e-12)
        assert effects.se[index] == pytest.approx(np.sqrt(pooled * (1 / len(y1) + 1 / len(y0))), rel=1e-12)


def test_adjusted_mean_difference_matches_least_squares():
    rng = np.random.default_rng(4)
    trial = np.repeat(["A", "B"], [40, 50])
    treat, age = rng.integers(0, 2, 90), rng.normal(60, 8, 90)
    y = 2 + treat + 0.3 * age + rng.normal(0, 1, 90)
    effects = treatment_effects(prepared(trial, treat, y, age=age), "MD", ["age"])
    for index, label in enumerate(["A", "B"]):
        rows = trial == label
        design = np.column_stack([np.ones(rows.sum()), treat[rows], age[rows]])
        beta, rss, *_ = np.linalg.lstsq(design, y[rows], rcond=None)
        covariance = rss[0] / (rows.sum() - 3) * np.linalg.inv(design.T @ design)
        assert effects.estimate[index] == pytest.approx(beta[1], rel=1e-10)
        assert effects.se[index] == pytest.approx(np.sqrt(covariance[1, 1]), rel=1e-10)


def test_two_by_two_measures_with_zero_cell_correction_and_exclusions():
    data = binary_data(("A", 0, 40, 5, 38), ("B", 0, 30, 0, 31), ("C", 20, 20, 22, 22), ("D", 10, 50, 20, 50))
    odds = treatment_effects(data, "OR", [])
    a, b, c, d = 0.5, 40.5, 5.5, 33.5
    assert odds.estimate[0] == pytest.approx(np.log(a * d / (b * c)))
    assert odds.se[0] == pytest.approx(np.sqrt(1 / a + 1 / b + 1 / c + 1 / d))
    assert odds.estimate[3] == pytest.approx(np.log(10 * 30 / (40 * 20)))  # no zero cell: no correction
    assert odds.reasons[1] == "no events in either arm"
    assert odds.reasons[2] == "every participant had the event in both arms"
    risk = treatment_effects(data, "RR", [])
    assert risk.estimate[0] == pytest.approx(np.log((0.5 / 41) / (5.5 / 39)))
    assert risk.se[0] == pytest.approx(np.sqrt(1 / 0.5 - 1 / 41 + 1 / 5.5 - 1 / 39))
    assert risk.reasons[1] == "no events in either arm"
    difference = treatment_effects(data, "RD", [])
    assert difference.reasons == [None, None, None, None]  # RD keeps double-zero and all-event trials
    assert difference.estimate[1] == pytest.approx(0.5 / 31 - 0.5 / 32)  # 0.5 added to all four cells
    p1, p2 = 0.5 / 31, 0.5 / 32
    assert difference.se[1] == pytest.approx(np.sqrt(p1 * (1 - p1) / 31 + p2 * (1 - p2) / 32))


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_a_trial_with_one_arm_is_excluded_with_that_reason(measure):
    data = binary_data(("A", 3, 20, 6, 20), ("B", 4, 25, 0, 0))
    effects = treatment_effects(data, measure, [])
    assert effects.reasons == [None, "only one arm: no control participants"]
    assert np.isnan(effects.estimate[1]) and np.isnan(effects.se[1])


def test_one_arm_trial_is_excluded_for_continuous_outcomes_too():
    effects = treatment_effects(prepared(["A"] * 4 + ["B"] * 3, [0, 1, 0, 1, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]), "MD", [])
    assert effects.reasons == [None, "only one arm: no intervention participants"]


# R: glm(y ~ treat + age, binomial) and glm(y ~ treat * age, binomial) per trial of bin_a (epsilon 1e-14)
R_OR_ADJUSTED = [(-0.0311586086727746, 0.25591110820647), (0.00285832056864239, 0.207708351851047),
                 (-0.737091797983953, 0.452672428274583), (-0.937121776087662, 0.509841302541511)]  # fmt: skip
R_OR_INTERACTION = [(0.0377736592986361, 0.0287508447531167), (0.0215212433375531, 0.0220723064466857),
                    (0.0364339179229177, 0.053953790600776), (-0.0188409206946405, 0.0575113753325423)]  # fmt: skip
# R: coxph(Surv(time, event) ~ treat + age) and ~ treat * age per trial of surv_a (Efron ties)
R_HR_ADJUSTED = [(-0.342841280364475, 0.166450659371626), (-0.315410224072875, 0.394625395944982),
                 (0.217383004259253, 0.392709292486265), (-0.00680592755594807, 0.216840965004865)]  # fmt: skip
R_HR_INTERACTION = [(0.0273916885504573, 0.0210409957448493), (-0.00570824026764152, 0.0529380811492568),
                    (0.00818407325072458, 0.0492447830323089), (-0.00332281280547451, 0.0267985266459688)]  # fmt: skip


def _first_three_and_last(effects):
    picks = [0, 1, 2, len(effects.trials) - 1]
    return [(effects.estimate[i], effects.se[i]) for i in picks]


@pytest.mark.parametrize(
    ("name", "measure", "expected", "interaction"),
    [
        ("bin_a", "OR", R_OR_ADJUSTED, False),
        ("bin_a", "OR", R_OR_INTERACTION, True),
        ("surv_a", "HR", R_HR_ADJUSTED, False),
        ("surv_a", "HR", R_HR_INTERACTION, True),
    ],
)
def test_logistic_and_cox_models_per_trial_match_r(name, measure, expected, interaction):
    data = reference(name, adjust=["age"]) if not interaction else reference(name, interaction="age")
    if interaction:
        effects = interaction_effects(data, measure, "age", [])
    else:
        effects = treatment_effects(data, measure, ["age"])
    for (estimate, se), (r_estimate, r_se) in zip(_first_three_and_last(effects), expected, strict=True):
        assert estimate == pytest.approx(r_estimate, rel=1e-6, abs=1e-9)
        assert se == pytest.approx(r_se, rel=1e-6)


def test_md_interaction_matches_least_squares_with_the_product_term():
    data = reference("cont_a", interaction="age")
    effects = interaction_effects(data, "MD", "age", [])
    rows = data.trial_index == 0
    age, treat = data.covariates["age"][rows], data.treat[rows]
    design = np.column_stack([np.ones(rows.sum()), treat, age, treat * age])
    beta, rss, *_ = np.linalg.lstsq(design, data.outcome[rows], rcond=None)
    covariance = rss[0] / (rows.sum() - 4) * np.linalg.inv(design.T @ design)
    assert effects.estimate[0] == pytest.approx(beta[3], rel=1e-9)
    assert effects.se[0] == pytest.approx(np.sqrt(covariance[3, 3]), rel=1e-9)
    assert effects.estimate[0] == pytest.approx(0.0622462205093406, rel=1e-7)  # R: lm(y ~ treat * age)


def test_adjusted_logistic_excludes_a_trial_with_an_event_free_arm():
    trial, treat, outcome = table_rows("A", 0, 30, 6, 30)
    more = table_rows("B", 5, 30, 9, 30)
    age = np.random.default_rng(6).normal(50, 10, 120)
    data = prepared(trial + more[0], treat + more[1], outcome + more[2], age=age)
    effects = treatment_effects(data, "OR", ["age"])
    assert effects.reasons[0].startswith("an arm with no events")
    assert effects.reasons[1] is None


def test_separated_logistic_data_excludes_the_trial_as_not_converged():
    trial, treat, outcome = table_rows("A", 5, 30, 6, 30)
    more = table_rows("B", 5, 30, 9, 30)
    age = np.array([40.0 if event else 60.0 for event in outcome] + list(np.random.default_rng(7).normal(50, 10, 60)))
    data = prepared(trial + more[0], treat + more[1], outcome + more[2], age=age)
    effects = treatment_effects(data, "OR", ["age"])
    assert effects.reasons[0] == "the trial's logistic model did not converge (the data may be separated)"
    assert effects.reasons[1] is None and np.isfinite(effects.se[1])


def test_cox_excludes_a_trial_with_no_events_in_one_arm():
    trial = ["A"] * 6 + ["B"] * 6
    treat = [1, 1, 1, 0, 0, 0] * 2
    time = [1, 2, 3, 1.5, 2.5, 3.5] * 2
    event = [0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0]
    effects = treatment_effects(prepared(trial, treat, time=time, event=event), "HR", [])
    assert effects.reasons[0] == "no events in the intervention arm"
    assert effects.reasons[1] is None and np.isfinite(effects.estimate[1])


def test_interaction_with_a_covariate_constant_in_a_trial_excludes_that_trial():
    rng = np.random.default_rng(5)
    trial = np.repeat(["A", "B"], 40)
    treat = np.tile([0, 1], 40)
    age = np.where(trial == "A", 50.0, rng.normal(50, 5, 80))
    y = rng.normal(0, 1, 80)
    effects = interaction_effects(prepared(trial, treat, y, age=age), "MD", "age", [])
    assert effects.reasons[0] == "the covariate age does not vary in the trial"
    assert effects.reasons[1] is None


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_cox_fits_of_all_trials_at_once_equal_one_fit_per_trial(scale):
    from ipdstats.cox import cox_efron

    rng = np.random.default_rng(8)
    trial = np.repeat(["A", "B", "C", "D"], [60, 80, 45, 100])
    treat = rng.integers(0, 2, len(trial))
    age = rng.normal(60, 10, len(trial)) * scale  # also on a scale far from that of treatment
    time = np.round(rng.exponential(np.exp(-0.3 * treat - 0.02 * age / scale)), 1) + 0.1  # many ties
    event = (rng.random(len(trial)) < 0.7).astype(float)
    data = prepared(trial, treat, time=time, event=event, age=age)
    effects = treatment_effects(data, "HR", ["age"])
    for index, label in enumerate(data.trials):
        rows = trial == label
        fit = cox_efron(time[rows], event[rows], np.column_stack([treat[rows], age[rows]]))
        assert effects.estimate[index] == pytest.approx(fit.coef[0], rel=1e-8, abs=1e-12)
        assert effects.se[index] == pytest.approx(np.sqrt(fit.cov[0, 0]), rel=1e-8)


@pytest.mark.parametrize("interaction", [False, True])
def test_logistic_fits_on_grouped_cells_equal_fits_on_rows(monkeypatch, interaction):
    import ipdstats.effects as effects_module

    rng = np.random.default_rng(9)
    trial = np.repeat(["A", "B", "C"], [3000, 2500, 4000])
    treat = rng.integers(0, 2, len(trial))
    age = np.round(rng.normal(55, 8, len(trial)))  # few distinct values: rows collapse to cells
    y = (rng.random(len(trial)) < 1 / (1 + np.exp(1 + 0.4 * treat - 0.03 * (age - 55)))).astype(float)
    data = prepared(trial, treat, y, age=age)

    def fit():
        if interaction:
            return interaction_effects(data, "OR", "age", [])
        return treatment_effects(data, "OR", ["age"])

    grouped = fit()
    assert grouped.convergence["logistic_terms"] < len(trial) / 20
    monkeypatch.setattr(effects_module, "_cell_index", lambda *arguments: None)
    by_row = fit()
    assert by_row.convergence["logistic_terms"] == len(trial)
    np.testing.assert_allclose(grouped.estimate, by_row.estimate, rtol=1e-10)
    np.testing.assert_allclose(grouped.se, by_row.se, rtol=1e-10)
