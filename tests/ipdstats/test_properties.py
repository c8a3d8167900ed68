"""Properties that must hold for any data: invariances, bounds and the effect of shifting or swapping arms."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ipdstats.data import prepare
from ipdstats.engine import analyse
from ipdstats.pooling import pool
from ipdstats.spec import Spec

METHODS = ["FE", "DL", "REML", "PM", "ML", "HE", "SJ", "EB"]
CLOSE = {"rel": 1e-7, "abs": 1e-9}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

trial_estimates = st.lists(st.tuples(st.floats(-5, 5), st.floats(1e-3, 10)), min_size=2, max_size=12).map(
    lambda pairs: (np.array([y for y, _ in pairs]), np.array([v for _, v in pairs]))
)


@SETTINGS
@given(trial_estimates, st.sampled_from(METHODS), st.sampled_from(["wald", "hksj"]))
def test_bounds_hold(estimates, method, ci):
    y, v = estimates
    result = pool(y, v, tau2_method=method, ci_method=ci)
    assert result.tau2 >= 0
    assert 0 <= result.I2 <= 100
    assert result.H2 >= (0 if method == "FE" else 1 - 1e-12)  # for FE, H2 = Q / (k - 1) may fall below 1
    assert result.ci_low <= result.estimate <= result.ci_high
    assert 0 <= result.p <= 1
    low, high = result.tau2_ci
    assert 0 <= low <= high


@SETTINGS
@given(trial_estimates)
def test_fixed_effect_estimate_lies_between_the_trial_estimates(estimates):
    y, v = estimates
    estimate = pool(y, v, tau2_method="FE").estimate
    assert y.min() - 1e-12 <= estimate <= y.max() + 1e-12


@SETTINGS
@given(trial_estimates, st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_pooling_does_not_depend_on_trial_order(estimates, method, random):
    y, v = estimates
    order = list(range(len(y)))
    random.shuffle(order)
    first, second = pool(y, v, tau2_method=method), pool(y[order], v[order], tau2_method=method)
    assert second.estimate == pytest.approx(first.estimate, **CLOSE)
    assert second.tau2 == pytest.approx(first.tau2, **CLOSE)
    assert second.se == pytest.approx(first.se, **CLOSE)


@SETTINGS
@given(trial_estimates, st.sampled_from(METHODS), st.floats(-10, 10))
def test_adding_c_to_every_estimate_shifts_the_pooled_estimate_by_c(estimates, method, shift):
    y, v = estimates
    first, second = pool(y, v, tau2_method=method), pool(y + shift, v, tau2_method=method)
    assert second.estimate == pytest.approx(first.estimate + shift, rel=1e-7, abs=1e-7)
    assert second.tau2 == pytest.approx(first.tau2, rel=1e-6, abs=1e-9)


def spec(outcome: str, measure: str, **more) -> Spec:
    columns = {"trial": "trial", "treatment": "treat", "outcome": "y"}
    if outcome == "survival":
        columns = {"trial": "trial", "treatment": "treat", "time": "time", "event": "event"}
    return Spec(data=Path("rows.csv"), outcome=outcome, columns=columns, measure=measure, approach="two-stage", **more)


def continuous_rows(seed: int, trials: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(6, 40, trials)
    trial = np.repeat([f"T{i}" for i in range(trials)], sizes)
    treat = np.concatenate([rng.permutation(np.arange(n) % 2) for n in sizes])
    effect = rng.normal(1, 0.5, trials)
    y = rng.normal(0, 1, len(trial)) + treat * np.repeat(effect, sizes)
    return pd.DataFrame({"trial": trial, "treat": treat, "y": y})


def run(frame: pd.DataFrame, analysis: Spec) -> dict:
    return analyse(analysis, prepare(frame, analysis))


@SETTINGS
@given(st.integers(0, 10_000), st.integers(2, 6), st.sampled_from(["DL", "REML", "PM"]))
def test_results_do_not_depend_on_row_order_or_trial_labels(seed, trials, method):
    frame = continuous_rows(seed, trials)
    analysis = spec("continuous", "MD", tau2=method)
    first = run(frame, analysis)
    shuffled = frame.sample(frac=1, random_state=seed).reset_index(drop=True)
    relabelled = shuffled.assign(trial="Z" + shuffled["trial"].str[::-1])  # a different sort order of trials
    for other in (run(shuffled, analysis), run(relabelled, analysis)):
        assert other["pooled"]["estimate"] == pytest.approx(first["pooled"]["estimate"], **CLOSE)
        assert other["heterogeneity"]["tau2"] == pytest.approx(first["heterogeneity"]["tau2"], **CLOSE)


@SETTINGS
@given(st.integers(0, 10_000), st.integers(2, 6), st.floats(-20, 20))
def test_adding_c_to_the_intervention_arm_shifts_every_md_and_the_pooled_md_by_c(seed, trials, shift):
    frame = continuous_rows(seed, trials)
    analysis = spec("continuous", "MD", tau2="REML")
    first = run(frame, analysis)
    second = run(frame.assign(y=frame["y"] + shift * frame["treat"]), analysis)
    for before, after in zip(first["per_trial"], second["per_trial"], strict=True):
        assert after["estimate"] == pytest.approx(before["estimate"] + shift, rel=1e-9, abs=1e-9)
        assert after["se"] == pytest.approx(before["se"], rel=1e-9)
    assert second["pooled"]["estimate"] == pytest.approx(first["pooled"]["estimate"] + shift, rel=1e-7, abs=1e-7)


tables = st.lists(
    st.tuples(st.integers(1, 30), st.integers(0, 30), st.integers(1, 30), st.integers(0, 30)), min_size=2, max_size=6
)


def binary_rows(cells) -> pd.DataFrame:
    rows = []
    for index, (n1, a, n2, c) in enumerate(cells):
        a, c = min(a, n1), min(c, n2)
        trial = f"T{index}"
        rows += [(trial, 1, 1)] * a + [(trial, 1, 0)] * (n1 - a) + [(trial, 0, 1)] * c + [(trial, 0, 0)] * (n2 - c)
    return pd.DataFrame(rows, columns=["trial", "treat", "y"])


@SETTINGS
@given(tables, st.sampled_from(["OR", "RR"]), st.sampled_from(["FE", "DL", "REML"]))
def test_swapping_arms_negates_log_ratios(cells, measure, method):
    frame = binary_rows(cells)
    analysis = spec("binary", measure, tau2=method)
    prepared = prepare(frame, analysis)
    from ipdstats.effects import treatment_effects

    assume(treatment_effects(prepared, measure, []).included.any())
    first = run(frame, analysis)
    second = run(frame.assign(treat=1 - frame["treat"]), analysis)
    for before, after in zip(first["per_trial"], second["per_trial"], strict=True):
        assert after["excluded"] == before["excluded"]
        if not before["excluded"]:
            assert after["estimate"] == pytest.approx(-before["estimate"], rel=1e-9, abs=1e-12)
    assert second["pooled"]["estimate"] == pytest.approx(-first["pooled"]["estimate"], rel=1e-7, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_swapping_arms_negates_log_hazard_ratios(seed):
    rng = np.random.default_rng(seed)
    trial = np.repeat(["A", "B", "C"], 40)
    treat = np.tile([0, 1], 60)
    time = np.round(rng.exponential(1 / np.exp(-0.4 * treat)), 2) + 0.01
    event = (rng.random(120) < 0.8).astype(int)
    frame = pd.DataFrame({"trial": trial, "treat": treat, "time": time, "event": event})
    analysis = spec("survival", "HR", tau2="REML")
    first = run(frame, analysis)
    second = run(frame.assign(treat=1 - treat), analysis)
    for before, after in zip(first["per_trial"], second["per_trial"], strict=True):
        assert after["estimate"] == pytest.approx(-before["estimate"], rel=1e-8, abs=1e-10)
        assert after["se"] == pytest.approx(before["se"], rel=1e-8)
    assert second["pooled"]["estimate"] == pytest.approx(-first["pooled"]["estimate"], rel=1e-7, abs=1e-9)


def test_an_overshooting_fisher_scoring_still_gives_the_likelihood_maximum_in_any_order():
    # Fisher scoring oscillates with growing steps on these trials (R's rma.uni stops with an error there);
    # the estimate is the maximum of the REML likelihood whatever the order of the trials.
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, -2, 0.0])
    v = np.array([1, 1, 1, 1, 1, 1, 2, 2, 2.25, 4, 0.5, 1])
    from ipdstats.pooling import log_likelihood

    grid = np.linspace(0.0, 1.0, 100_001)
    best = grid[np.argmax([log_likelihood(y, v, t, "REML") for t in grid])]
    for order in (list(range(12)), list(range(11, -1, -1)), [11, 3, 8, 0, 5, 9, 1, 10, 2, 7, 4, 6]):
        result = pool(y[order], v[order], tau2_method="REML")
        assert result.tau2 == pytest.approx(best, abs=2e-5)
        # A maximum to the last digits: a nudge either way lowers the likelihood.
        for nudge in (-1e-7, 1e-7):
            assert log_likelihood(y, v, result.tau2 + nudge, "REML") < log_likelihood(y, v, result.tau2, "REML")


def test_the_fallback_takes_the_highest_of_several_likelihood_maxima(monkeypatch):
    # A likelihood with maxima at tau2 = 1 (lower) and 4 (higher) and a minimum at 2 between them: the score's
    # three roots fall, rise and fall; the estimate is the higher maximum, not the first root found.
    from ipdstats import pooling

    def score(y, v, tau2, method):
        return -(tau2 - 1) * (tau2 - 2) * (tau2 - 4)

    def log_likelihood(y, v, tau2, method):
        return -(tau2**4) / 4 + 7 * tau2**3 / 3 - 7 * tau2**2 + 8 * tau2

    monkeypatch.setattr(pooling, "_score", score)
    monkeypatch.setattr(pooling, "log_likelihood", log_likelihood)
    tau2, _ = pooling._score_root(np.zeros(3), np.ones(3), "REML")
    assert tau2 == pytest.approx(4.0, rel=1e-12)
