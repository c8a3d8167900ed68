"""One-stage logistic mixed model: Laplace and adaptive Gauss-Hermite against glmmTMB 1.1 and lme4 1.1-31."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipdstats import glmm
from ipdstats.glmm import fit_logistic

DATA = Path(__file__).resolve().parents[1] / "data" / "reference" / "data"


def load(name):
    frame = pd.read_csv(DATA / f"{name}.csv.gz")
    group = pd.factorize(frame["trial"], sort=True)[0]
    return frame, group, frame["treat"].to_numpy(float) - 0.5


@pytest.fixture(scope="module")
def bcg():
    return load("bcg")


@pytest.fixture(scope="module")
def bin_a():
    return load("bin_a")


def no_columns(frame):
    return np.empty((len(frame), 0))


@pytest.mark.parametrize(
    ("quadrature", "estimate", "se", "tau2"),
    [
        # glmmTMB(y ~ 0 + trial + tc + (0 + tc | trial), binomial) on the 357,347 rows of dat.bcg
        (1, -0.745025549825218, 0.175713314213039, 0.295541310036784),
        # glmer(y ~ 0 + trial + tc + (0 + tc | trial), binomial, nAGQ = 9)
        (9, -0.745004951588985, 0.175559795893987, 0.294886160840825),
    ],
)
def test_bcg_matches_r(bcg, quadrature, estimate, se, tau2):
    frame, group, t = bcg
    fit = fit_logistic(frame["y"], group, no_columns(frame), t, quadrature=quadrature)
    assert fit.converged
    assert fit.cells == 26  # 13 trials x 2 arms: the exact binomial reduction
    assert fit.coef[0] == pytest.approx(estimate, abs=1e-5)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(se, rel=5e-4)
    assert fit.tau2 == pytest.approx(tau2, rel=1e-3)
    assert fit.gradient_norm < 1e-6


@pytest.mark.parametrize(
    ("quadrature", "estimate", "se", "tau2"),
    [
        # d$agec <- d$age - ave(d$age, d$trial)
        # glmmTMB(y ~ 0 + trial + trial:agec + tc + (0 + tc | trial), d, family = binomial)     (Laplace)
        (1, -0.4858854132, 0.1290715706, 0.05978557505),
        # glmer(y ~ 0 + trial + trial:agec + tc + (0 + tc | trial), binomial, nAGQ = 5, optimizer "bobyqa")
        (5, -0.4858426263, 0.1290348506, 0.05970428507),
    ],
)
def test_age_adjusted_one_coefficient_per_trial_matches_glmer(bin_a, quadrature, estimate, se, tau2):
    frame, group, t = bin_a
    fit = fit_logistic(frame["y"], group, frame[["age"]].to_numpy(float), t, quadrature=quadrature)
    assert fit.converged
    assert fit.coef[0] == pytest.approx(estimate, abs=2e-5)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(se, rel=5e-4)
    assert fit.tau2 == pytest.approx(tau2, rel=2e-3)


@pytest.mark.parametrize("quadrature", [1, 4, 7])
def test_gradient_is_the_derivative_of_the_approximated_likelihood(bin_a, quadrature):
    frame, group, t = bin_a
    cells = glmm._collapse(frame["y"].to_numpy(float), group, frame[["age"]].to_numpy(float), t[:, None], 0)
    likelihood = glmm._Likelihood(cells, quadrature)
    rng = np.random.default_rng(1)
    phi = np.column_stack([rng.normal(-1, 0.3, cells.n_groups), rng.normal(0, 0.02, cells.n_groups)])
    beta, tau = np.array([-0.4]), 0.35

    def total(phi, beta, tau):
        likelihood.mode = np.zeros(cells.n_groups)
        return likelihood.evaluate(phi, beta, tau, want_gradient=False)[0]

    likelihood.mode = np.zeros(cells.n_groups)
    _, g_phi, g_psi = likelihood.evaluate(phi, beta, tau)
    h = 1e-5
    for j in range(2):
        up, down = phi.copy(), phi.copy()
        up[:, j] += h
        down[:, j] -= h
        np.testing.assert_allclose(g_phi[:, j], (total(up, beta, tau) - total(down, beta, tau)) / (2 * h), atol=2e-5)
    numeric_beta = (total(phi, beta + h, tau) - total(phi, beta - h, tau)).sum() / (2 * h)
    numeric_tau = (total(phi, beta, tau + h) - total(phi, beta, tau - h)).sum() / (2 * h)
    assert g_psi[:, 0].sum() == pytest.approx(numeric_beta, abs=1e-4)
    assert g_psi[:, 1].sum() == pytest.approx(numeric_tau, abs=1e-4)


def test_many_nodes_converge_to_the_integral(bin_a):
    frame, group, t = bin_a
    fits = [fit_logistic(frame["y"], group, no_columns(frame), t, quadrature=q) for q in (15, 25)]
    assert fits[0].coef[0] == pytest.approx(fits[1].coef[0], abs=1e-8)
    assert fits[0].tau2 == pytest.approx(fits[1].tau2, rel=1e-6)


def test_row_order_and_trial_labels_do_not_matter(bin_a):
    frame, group, t = bin_a
    base = fit_logistic(frame["y"], group, frame[["age"]].to_numpy(float), t)
    order = np.random.default_rng(2).permutation(len(frame))
    relabel = np.random.default_rng(3).permutation(group.max() + 1)
    other = fit_logistic(
        frame["y"].to_numpy()[order], relabel[group[order]], frame[["age"]].to_numpy(float)[order], t[order]
    )
    assert other.coef[0] == pytest.approx(base.coef[0], abs=1e-8)
    assert other.cov[0, 0] == pytest.approx(base.cov[0, 0], rel=1e-5)


def test_without_tau_it_is_logistic_regression_with_trial_intercepts():
    rng = np.random.default_rng(4)
    group = np.repeat(np.arange(6), 300)
    t = np.tile([-0.5, 0.5], 900)
    y = (rng.random(1800) < 1 / (1 + np.exp(-(-1 + 0.2 * group - 0.7 * t)))).astype(float)
    fit = fit_logistic(y, group, np.empty((1800, 0)), t, estimate_tau=False)
    # Newton-Raphson for the ordinary logistic regression with the same design
    x = np.column_stack([np.eye(6)[group], t])
    coef = np.zeros(7)
    for _ in range(30):
        p = 1 / (1 + np.exp(-x @ coef))
        information = x.T @ (x * (p * (1 - p))[:, None])
        coef += np.linalg.solve(information, x.T @ (y - p))
    assert fit.coef[0] == pytest.approx(coef[-1], abs=1e-9)
    assert fit.cov[0, 0] == pytest.approx(np.linalg.inv(information)[-1, -1], rel=1e-5)
    assert fit.tau2 == 0.0


def test_tau_at_the_boundary_is_reported_as_zero():
    rng = np.random.default_rng(8)
    group = np.repeat(np.arange(10), 400)
    t = np.tile([-0.5, 0.5], 2000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(-0.5 - 0.5 * t)))).astype(float)
    fit = fit_logistic(y, group, np.empty((4000, 0)), t)
    fixed = fit_logistic(y, group, np.empty((4000, 0)), t, estimate_tau=False)
    assert fit.at_boundary and fit.converged
    assert fit.tau2 == 0.0
    assert fit.coef[0] == pytest.approx(fixed.coef[0], abs=1e-6)
    assert fit.cov[0, 0] == pytest.approx(fixed.cov[0, 0], rel=1e-4)


def sparse_binary(seed=7):
    """Twelve small trials with few events; two of them (B00, B09) have none."""
    rng = np.random.default_rng(seed)
    sizes = [10, 14, 20, 30, 40, 60, 80, 100, 150, 30, 24, 50]
    rates = [0.05, 0.1, 0.3, 0.08, 0.2, 0.15, 0.4, 0.1, 0.25, 0.03, 0.5, 0.12]
    frames = []
    for i, (n, r) in enumerate(zip(sizes, rates, strict=True)):
        treat = rng.integers(0, 2, n)
        age = rng.integers(30, 80, n)
        logit = np.log(r / (1 - r)) + (-0.6 + rng.normal(0, 0.5)) * (treat - 0.5) + 0.03 * (age - 55)
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        frames.append(pd.DataFrame({"trial": f"B{i:02d}", "treat": treat, "age": age, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(
    ("adjust", "quadrature", "estimate", "se", "tau2"),
    [
        # R on sparse_binary() without B00 and B09 (no events), agec = age - ave(age, trial):
        # glmmTMB(y ~ 0 + trial + tc + (0 + tc | trial), binomial)                          (Laplace)
        (False, 1, -0.799334785, 0.2762226031, 0.08802351135),
        # glmer(y ~ 0 + trial + tc + (0 + tc | trial), binomial, nAGQ = 9, optimizer "bobyqa")
        (False, 9, -0.7992456725, 0.2762285666, 0.08820101018),
        # glmmTMB(y ~ 0 + trial + trial:agec + tc + (0 + tc | trial), binomial)               (Laplace)
        (True, 1, -0.8171661029, 0.2781420132, 0.07061618465),
        # glmer(y ~ 0 + trial + trial:agec + tc + (0 + tc | trial), binomial, nAGQ = 9)
        (True, 9, -0.8170500099, 0.2781636783, 0.07084732849),
    ],
)
def test_small_trials_with_few_events_match_glmer(adjust, quadrature, estimate, se, tau2):
    frame = sparse_binary()
    frame = frame[~frame["trial"].isin(["B00", "B09"])]
    group = pd.factorize(frame["trial"], sort=True)[0]
    nuisance = frame[["age"]].to_numpy(float) if adjust else no_columns(frame)
    fit = fit_logistic(frame["y"], group, nuisance, frame["treat"].to_numpy(float) - 0.5, quadrature=quadrature)
    assert fit.converged
    assert fit.coef[0] == pytest.approx(estimate, abs=2e-5)
    assert np.sqrt(fit.cov[0, 0]) == pytest.approx(se, rel=5e-4)
    assert fit.tau2 == pytest.approx(tau2, rel=2e-3)
