"""Stage one keeps a trial whose adjustment covariate is constant or collinear in it, as R's lm, glm and coxph
do: the aliased covariate is left out of that trial's model and the treatment effect is still estimated."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipdstats.data import Prepared
from ipdstats.effects import interaction_effects, sequential_aliasing, treatment_effects
from ipdstats.engine import run_spec

EXTRA = Path(__file__).resolve().parent.parent / "data" / "reference" / "extra"
MEASURES = ["MD", "OR", "HR"]


def prepared(trial, treat, outcome=None, time=None, event=None, **covariates) -> Prepared:
    labels = sorted(set(trial.tolist()))
    as_float = lambda values: None if values is None else np.asarray(values, dtype=float)  # noqa: E731
    return Prepared(
        trials=labels,
        trial_index=np.searchsorted(labels, trial).astype(np.int64),
        treat=as_float(treat),
        outcome=as_float(outcome),
        time=as_float(time),
        event=as_float(event),
        covariates={name: as_float(values) for name, values in covariates.items()},
        rows_dropped=0,
    )


def simulated(measure: str, seed: int = 11, **covariates) -> Prepared:
    """Three trials (A, B, C) of 120 participants; `covariates` are functions of (rng, trial, treat)."""
    rng = np.random.default_rng(seed)
    trial = np.repeat(np.array(["A", "B", "C"]), 120)
    treat = np.tile([0.0, 1.0], 180)
    values = {name: make(rng, trial, treat) for name, make in covariates.items()}
    signal = -0.5 * treat + sum(0.3 * (value - value.mean()) / value.std() for value in values.values())
    if measure == "MD":
        return prepared(trial, treat, signal + rng.normal(0, 1, len(trial)), **values)
    if measure == "OR":
        return prepared(trial, treat, (rng.random(len(trial)) < 1 / (1 + np.exp(-signal))).astype(float), **values)
    event_time = rng.exponential(1 / (0.2 * np.exp(signal)))
    censor = rng.uniform(1, 8, len(trial))
    return prepared(trial, treat, time=np.minimum(event_time, censor), event=event_time <= censor, **values)


def age(rng, trial, treat):
    return rng.normal(60, 8, len(trial))


def twice_age_plus_one_in_b(data_age):
    def make(rng, trial, treat):
        other = rng.normal(0, 1, len(trial))
        return np.where(trial == "B", 2 * data_age + 1, other)

    return make


def test_sequential_aliasing_keeps_the_earlier_of_two_collinear_columns():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    z = np.array([0.5, -1.0, 2.0, 1.0])
    columns = [x, z, 3 * x - 2, np.full(4, 5.0)]
    centred = [column - column.mean() for column in columns]
    cross = np.array([[[a @ b for b in centred] for a in centred]])
    scale = np.array([[column @ column for column in columns]])
    aliased, constant = sequential_aliasing(cross, scale)
    assert aliased.tolist() == [[False, False, True, True]]
    assert constant.tolist() == [[False, False, False, True]]


def w04_log_odds_ratio() -> dict:
    rows = pd.read_csv(EXTRA / "data" / "single_sex.csv.gz").query("trial == 'W04'")
    (d, c), (b, a) = pd.crosstab(rows["treat"], rows["yb"]).to_numpy()
    return {"estimate": np.log(a * d / (b * c)), "se": np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)}


@pytest.mark.parametrize("number, measure", [(0, "MD"), (1, "OR"), (2, "HR")])
def test_single_sex_trial_is_kept_with_r_values(number, measure):
    case = json.loads((EXTRA / "cases" / "single_sex.json").read_text())
    analysis = case["analyses"][number]
    assert analysis["spec"]["measure"] == measure and analysis["spec"]["adjust"] == ["sex"]
    result = run_spec(analysis["spec"], EXTRA / "data")
    w04 = next(row for row in result["per_trial"] if row["trial"] == "W04")
    assert not w04["excluded"]
    expected = next(row for row in analysis["expect"]["per_trial"] if row["trial"] == "W04")
    if measure == "OR":  # with sex left out, the treatment coefficient is W04's log odds ratio
        closed_form = w04_log_odds_ratio()
        assert w04["estimate"] == pytest.approx(closed_form["estimate"], rel=1e-9)
        assert w04["se"] == pytest.approx(closed_form["se"], rel=1e-9)
    assert w04["estimate"] == pytest.approx(expected["estimate"], rel=1e-6)
    assert w04["se"] == pytest.approx(expected["se"], rel=1e-6)
    assert (
        "In trial W04 the covariate 'sex' is constant, so it was left out of that trial's model (as R does)."
        in result["warnings"]
    )
    assert not any("excluded" in warning for warning in result["warnings"])


@pytest.mark.parametrize("measure", MEASURES)
def test_constant_covariate_gives_the_unadjusted_estimate_of_that_trial(measure):
    data = simulated(measure, sex=lambda rng, trial, treat: np.where(trial == "B", 1.0, rng.integers(0, 2, len(trial))))
    adjusted = treatment_effects(data, measure, ["sex"])
    unadjusted = treatment_effects(data, measure, [])
    assert adjusted.reasons == [None, None, None]
    # Same model in trial B, so the same estimate and SE (for MD, residual df n - rank = n - 2 as R's lm).
    assert adjusted.estimate[1] == pytest.approx(unadjusted.estimate[1], rel=1e-9)
    assert adjusted.se[1] == pytest.approx(unadjusted.se[1], rel=1e-9)
    assert adjusted.estimate[0] != pytest.approx(unadjusted.estimate[0], rel=1e-9)
    assert adjusted.left_out == [("B", "sex", "constant")]


@pytest.mark.parametrize("measure", MEASURES)
def test_covariate_collinear_with_an_earlier_covariate_is_left_out_in_that_trial_only(measure):
    rng = np.random.default_rng(5)
    base_age = rng.normal(60, 8, 360)
    data = simulated(
        measure,
        age=lambda rng, trial, treat: base_age,
        score=twice_age_plus_one_in_b(base_age),
    )
    both = treatment_effects(data, measure, ["age", "score"])
    age_only = treatment_effects(data, measure, ["age"])
    assert both.reasons == [None, None, None]
    assert both.estimate[1] == pytest.approx(age_only.estimate[1], rel=1e-8)
    assert both.se[1] == pytest.approx(age_only.se[1], rel=1e-8)
    assert both.estimate[0] != pytest.approx(age_only.estimate[0], rel=1e-8)
    assert both.left_out == [("B", "score", "collinear")]
    assert both.left_out_warnings() == [
        "In trial B the covariate 'score' is collinear with the treatment or the other covariates, so it was left "
        "out of that trial's model (as R does)."
    ]


@pytest.mark.parametrize("measure", MEASURES)
def test_covariate_identical_to_treatment_is_left_out_and_treatment_kept(measure):
    data = simulated(
        measure, dose=lambda rng, trial, treat: np.where(trial == "C", treat, rng.normal(0, 1, len(trial)))
    )
    adjusted = treatment_effects(data, measure, ["dose"])
    unadjusted = treatment_effects(data, measure, [])
    assert adjusted.reasons == [None, None, None]
    assert adjusted.estimate[2] == pytest.approx(unadjusted.estimate[2], rel=1e-9)
    assert adjusted.se[2] == pytest.approx(unadjusted.se[2], rel=1e-9)
    assert adjusted.left_out == [("C", "dose", "collinear")]


@pytest.mark.parametrize("measure", MEASURES)
def test_interaction_with_a_constant_covariate_stays_excluded(measure):
    data = simulated(measure, sex=lambda rng, trial, treat: np.where(trial == "B", 1.0, rng.integers(0, 2, len(trial))))
    effects = interaction_effects(data, measure, "sex", [])
    assert effects.reasons[1] == "the covariate sex does not vary in the trial"
    assert np.isnan(effects.estimate[1]) and np.isfinite(effects.estimate[[0, 2]]).all()
    assert effects.left_out == []


@pytest.mark.parametrize("measure", MEASURES)
def test_interaction_with_a_covariate_equal_to_treatment_is_excluded_with_its_reason(measure):
    data = simulated(
        measure, dose=lambda rng, trial, treat: np.where(trial == "C", treat, rng.normal(0, 1, len(trial)))
    )
    effects = interaction_effects(data, measure, "dose", [])
    assert effects.reasons[2] == (
        "the interaction of treatment with dose cannot be estimated in the trial: dose is collinear with the "
        "treatment or the other covariates (R's coefficient would be NA)"
    )
    assert np.isfinite(effects.estimate[[0, 1]]).all()


@pytest.mark.parametrize("measure", MEASURES)
def test_interaction_keeps_the_trial_when_only_an_adjustment_covariate_is_constant(measure):
    data = simulated(
        measure,
        age=age,
        sex=lambda rng, trial, treat: np.where(trial == "A", 0.0, rng.integers(0, 2, len(trial))),
    )
    with_sex = interaction_effects(data, measure, "age", ["sex"])
    without_sex = interaction_effects(data, measure, "age", [])
    assert with_sex.reasons == [None, None, None]
    assert with_sex.estimate[0] == pytest.approx(without_sex.estimate[0], rel=1e-8)
    assert with_sex.se[0] == pytest.approx(without_sex.se[0], rel=1e-8)
    assert with_sex.left_out == [("A", "sex", "constant")]
