"""The parts of stage two that the R comparisons reach only through their results: one trial alone, the result's
dictionaries, the likelihood and its score, and the root searches, each checked against an independent value."""

import math

import numpy as np
import pytest
from scipy import stats

from ipdstats.pooling import _paule_mandel, _score, _score_root, log_likelihood, pool
from tests.ipdstats.test_pooling import R_RESULTS, VI, YI

Z975 = 1.959963984540054  # qnorm(0.975)


def test_one_trial_is_its_own_estimate_with_a_normal_interval():
    result = pool([0.4], [0.04], tau2_method="DL", ci_method="hksj")
    assert (result.k, result.estimate, result.se) == (1, 0.4, 0.2)
    assert result.ci_low == pytest.approx(0.4 - Z975 * 0.2, rel=1e-14)
    assert result.ci_high == pytest.approx(0.4 + Z975 * 0.2, rel=1e-14)
    assert result.p == pytest.approx(math.erfc(2 / math.sqrt(2)), rel=1e-12)  # two-sided, z = 0.4 / 0.2
    assert (result.df, result.tau2, result.tau2_ci, result.I2, result.H2) == (None, None, None, None, None)
    assert (result.Q, result.Q_df, result.Q_p, result.prediction_interval) == (None, None, None, None)
    assert (result.tau2_method, result.ci_method, result.iterations, result.converged) == ("DL", "hksj", 0, True)
    assert result.warnings == [
        "Only one trial could be pooled: the pooled result is that trial's own estimate with a normal-based "
        "interval, and heterogeneity cannot be estimated."
    ]
    assert result.heterogeneity_dict()["tau"] is None


def test_a_negative_single_estimate_has_the_same_p_as_its_mirror():
    assert pool([-0.4], [0.04]).p == pytest.approx(pool([0.4], [0.04]).p, rel=1e-14)
    assert pool([-0.4], [0.04]).ci_high == pytest.approx(-0.4 + Z975 * 0.2, rel=1e-14)


def test_the_result_dictionaries_name_every_figure():
    result = pool(YI, VI, tau2_method="REML", ci_method="hksj")
    assert result.pooled_dict() == {
        "estimate": result.estimate,
        "se": result.se,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p": result.p,
        "k": 14,
        "df": 13,
    }
    heterogeneity = result.heterogeneity_dict()
    assert list(heterogeneity) == ["tau2", "tau", "tau2_ci", "I2", "H2", "Q", "Q_df", "Q_p", "method"]
    assert heterogeneity["tau"] == pytest.approx(math.sqrt(R_RESULTS[("REML", "wald")][4]), rel=1e-6)
    assert heterogeneity["tau2_ci"] == list(result.tau2_ci) and heterogeneity["method"] == "REML"
    assert result.convergence_dict() == {"tau2_method": "REML", "iterations": result.iterations, "converged": True}
    assert pool(YI, VI, tau2_method="FE").pooled_dict()["df"] is None


@pytest.mark.parametrize("tau2", [0.0, 0.05, 0.3])
def test_the_ml_log_likelihood_is_the_sum_of_the_normal_densities(tau2):
    w = 1 / (VI + tau2)
    mu = np.sum(w * YI) / np.sum(w)
    expected = float(np.sum(stats.norm.logpdf(YI, mu, np.sqrt(VI + tau2))))
    assert log_likelihood(YI, VI, tau2, "ML") == pytest.approx(expected, rel=1e-12)
    # REML adds the log-determinant of the mean's information and counts k - 1 dimensions.
    reml = expected + 0.5 * math.log(2 * math.pi) - 0.5 * math.log(np.sum(w))
    assert log_likelihood(YI, VI, tau2, "REML") == pytest.approx(reml, rel=1e-12)


@pytest.mark.parametrize("method", ["ML", "REML"])
@pytest.mark.parametrize("tau2", [0.01, 0.0657, 0.4])
def test_the_score_is_twice_the_slope_of_the_log_likelihood(method, tau2):
    h = 1e-6
    slope = (log_likelihood(YI, VI, tau2 + h, method) - log_likelihood(YI, VI, tau2 - h, method)) / (2 * h)
    assert _score(YI, VI, tau2, method) == pytest.approx(2 * slope, rel=1e-5)


def test_the_eb_score_is_q_minus_its_degrees_of_freedom():
    tau2 = 0.1
    w = 1 / (VI + tau2)
    mu = np.sum(w * YI) / np.sum(w)
    assert _score(YI, VI, tau2, "EB") == pytest.approx(float(np.sum(w * (YI - mu) ** 2)) - 13, rel=1e-12)


@pytest.mark.parametrize(("method", "r_method"), [("REML", "REML"), ("ML", "ML"), ("EB", "PM")])
def test_the_score_root_is_rs_estimate(method, r_method):
    tau2, iterations = _score_root(YI, VI, method)
    assert tau2 == pytest.approx(R_RESULTS[(r_method, "wald")][4], rel=1e-6)
    assert iterations > 400  # the grid's points and the root search's steps


@pytest.mark.parametrize("method", ["REML", "ML", "EB"])
def test_trials_that_agree_have_no_root_above_zero(method):
    y, v = np.array([0.1, 0.11, 0.09, 0.1]), np.array([0.2, 0.3, 0.25, 0.2])
    assert _score_root(y, v, method)[0] == 0.0


def test_paule_mandel_solves_q_equal_to_its_degrees_of_freedom():
    fit = _paule_mandel(YI, VI)
    assert fit.tau2 == pytest.approx(R_RESULTS[("PM", "wald")][4], rel=1e-9)
    assert fit.converged and fit.iterations > 0
    w = 1 / (VI + fit.tau2)
    mu = np.sum(w * YI) / np.sum(w)
    assert float(np.sum(w * (YI - mu) ** 2)) == pytest.approx(13, rel=1e-10)
    agreeing = _paule_mandel(np.array([0.1, 0.11, 0.09]), np.array([0.2, 0.3, 0.25]))
    assert (agreeing.tau2, agreeing.iterations, agreeing.converged) == (0.0, 0, True)


@pytest.mark.parametrize("method", ["REML", "ML", "EB"])
def test_fisher_scoring_converges_by_itself_on_ordinary_data(method):
    result = pool(YI, VI, tau2_method=method)
    assert result.warnings == []  # no fallback to the root search, no boundary
    assert result.converged and 1 < result.iterations < 100
    r_method = "PM" if method == "EB" else method
    assert result.tau2 == pytest.approx(R_RESULTS[(r_method, "wald")][4], rel=1e-6)


def test_paule_mandel_counts_its_iterations():
    assert _paule_mandel(YI, VI).iterations > 1
