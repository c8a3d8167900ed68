"""One-stage linear mixed model (REML from per-trial cross-products) against lme4 1.1-31."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipdstats.lmm import fit_reml

DATA = Path(__file__).resolve().parents[1] / "data" / "reference" / "data"


def sparse_continuous(seed=20261127):
    """Twelve trials of 8 to 200 participants, one of them with one arm only."""
    rng = np.random.default_rng(seed)
    sizes = [8, 12, 20, 35, 50, 60, 80, 120, 150, 200, 16, 40]
    frames = []
    for i, n in enumerate(sizes):
        treat = rng.integers(0, 2, n)
        if i == 10:
            treat[:] = 1
        x = rng.normal(50 + 3 * i, 8, n).round(1)
        y = 10 + i + (-1.5 + rng.normal(0, 0.8)) * treat + 0.2 * x + 0.03 * treat * (x - 50) + rng.normal(0, 4, n)
        frames.append(pd.DataFrame({"trial": f"T{i:02d}", "treat": treat, "x": x, "y": y.round(3)}))
    return pd.concat(frames, ignore_index=True)


def design(frame, covariate=None, interaction=False):
    group = pd.factorize(frame["trial"], sort=True)[0]
    t = frame["treat"].to_numpy(float) - 0.5
    nuisance = np.empty((len(frame), 0)) if covariate is None else frame[[covariate]].to_numpy(float)
    if not interaction:
        return group, nuisance, t[:, None]
    z = frame[covariate].to_numpy(float)
    means = frame.groupby("trial")[covariate].transform("mean").to_numpy()
    centre = frame.groupby("trial")[covariate].mean().mean()
    return group, nuisance, np.column_stack([t, t * (z - means), t * (means - centre)])


@pytest.fixture(scope="module")
def cont_a():
    return pd.read_csv(DATA / "cont_a.csv.gz")


def test_treatment_only_matches_lmer(cont_a):
    # lmer(y ~ 0 + trial + tc + (0 + tc | trial), d, REML = TRUE), tc = treat - 0.5 (reference case cont_a)
    group, nuisance, fixed = design(cont_a)
    fit = fit_reml(cont_a["y"], group, nuisance, fixed)
    assert fit.coef[0] == pytest.approx(-2.50520713019662, rel=1e-6)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(0.276316179649358, rel=1e-5)
    assert fit.tau2 == pytest.approx(0.279956898219393, rel=1e-4)
    assert fit.sigma2 == pytest.approx(22.1938896759, rel=1e-6)
    assert fit.converged and not fit.at_boundary


def test_adjusted_one_coefficient_per_trial_matches_lmer(cont_a):
    # lmer(y ~ 0 + trial + trial:y0 + tc + (0 + tc | trial), d, REML = TRUE)
    group, nuisance, fixed = design(cont_a, "y0")
    fit = fit_reml(cont_a["y"], group, nuisance, fixed)
    assert fit.coef[0] == pytest.approx(-2.50479303485179, rel=1e-6)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(0.267446325348208, rel=1e-5)
    assert fit.tau2 == pytest.approx(0.340701937716526, rel=1e-4)


def test_within_and_across_interaction_matches_lmer_at_the_boundary(cont_a):
    # lmer(y ~ 0 + trial + trial:age + tc + tc:w + tc:m + (0 + tc | trial)), w = age - trial mean, m = trial mean;
    # lme4 reports a singular fit (tau2 = 0)
    group, nuisance, fixed = design(cont_a, "age", interaction=True)
    fit = fit_reml(cont_a["y"], group, nuisance, fixed)
    np.testing.assert_allclose(fit.coef[1:], [-0.00490218283120287, -0.0577828809601809], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov))[1:], [0.0262845766945915, 0.0197775928226511], rtol=1e-6)
    assert fit.at_boundary and fit.tau2 == 0.0


def test_sparse_trials_and_a_one_arm_trial_match_lmer():
    # R on sparse_continuous() written to CSV, tc = treat - 0.5, m = trial mean of x, mc = m - mean of trial means:
    #   lmer(y ~ 0 + trial + tc + (0 + tc | trial), REML = TRUE)
    #   lmer(y ~ 0 + trial + trial:x + tc + (0 + tc | trial), REML = TRUE)
    #   lmer(y ~ 0 + trial + trial:x + tc + tc:I(x - m) + tc:mc + (0 + tc | trial), REML = TRUE)
    frame = sparse_continuous()
    fit = fit_reml(frame["y"], *design(frame))
    assert fit.coef[0] == pytest.approx(-1.90061503606, rel=1e-6)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(0.609346373535, rel=1e-5)
    assert fit.tau2 == pytest.approx(2.3907361517, rel=1e-4)
    assert fit.sigma2 == pytest.approx(18.3707929614, rel=1e-6)
    adjusted = fit_reml(frame["y"], *design(frame, "x"))
    assert adjusted.coef[0] == pytest.approx(-1.96332718779, rel=1e-6)
    assert np.sqrt(adjusted.cov[0, 0]) == pytest.approx(0.612231467336, rel=1e-5)
    assert adjusted.tau2 == pytest.approx(2.58041065672, rel=1e-4)
    interaction = fit_reml(frame["y"], *design(frame, "x", interaction=True))
    np.testing.assert_allclose(interaction.coef, [-2.11218183212, 0.0740464568216, 0.133975156531], rtol=1e-6)
    np.testing.assert_allclose(
        np.sqrt(np.diag(interaction.cov)), [0.578682943173, 0.0356378068092, 0.0692049032726], rtol=1e-5
    )
    assert interaction.tau2 == pytest.approx(2.11265003899, rel=1e-4)


def test_shifting_outcomes_within_trials_changes_nothing_but_intercepts():
    frame = sparse_continuous()
    base = fit_reml(frame["y"], *design(frame, "x"))
    shifted = frame["y"] + pd.factorize(frame["trial"], sort=True)[0] * 100.0
    other = fit_reml(shifted, *design(frame, "x"))
    np.testing.assert_allclose(other.coef, base.coef, rtol=1e-8)
    assert other.tau2 == pytest.approx(base.tau2, rel=1e-6)


def test_tau2_zero_when_the_effect_does_not_vary():
    rng = np.random.default_rng(5)
    group = np.repeat(np.arange(20), 100)
    treat = np.tile([0.0, 1.0], 1000)
    y = group * 0.5 - 1.0 * treat + rng.normal(0, 3, 2000)
    fit = fit_reml(y, group, np.empty((2000, 0)), (treat - 0.5)[:, None])
    assert fit.at_boundary and fit.tau2 == 0.0 and fit.converged
    # on the boundary the model is the fixed-effect one: least squares with trial intercepts
    ordinary = np.linalg.lstsq(np.column_stack([np.eye(20)[group], treat - 0.5]), y, rcond=None)[0][-1]
    assert fit.coef[0] == pytest.approx(ordinary, rel=1e-10)


def test_estimate_tau_false_is_least_squares_with_trial_intercepts():
    frame = sparse_continuous()
    group, nuisance, fixed = design(frame)
    fit = fit_reml(frame["y"], group, nuisance, fixed, estimate_tau=False)
    x = np.column_stack([np.eye(group.max() + 1)[group], fixed])
    coef, rss = np.linalg.lstsq(x, frame["y"], rcond=None)[:2]
    assert fit.coef[0] == pytest.approx(coef[-1], rel=1e-10)
    sigma2 = rss[0] / (len(frame) - x.shape[1])
    assert fit.cov[0, 0] == pytest.approx(sigma2 * np.linalg.inv(x.T @ x)[-1, -1], rel=1e-8)
