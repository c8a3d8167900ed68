"""Stage two: inverse-variance pooling with the between-trial variance estimators of metafor's rma.uni.

The model is y_i ~ N(mu, v_i + tau2), intercept only. Every estimator is solved to full convergence (no
loose stopping rule), so results agree with R's to many digits.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import distributions
from .errors import AnalysisError

LEVEL = 0.95
MAX_ITERATIONS = 10_000
# Fisher scoring converges in tens of steps when it converges at all; past this it is overshooting.
FISHER_ITERATIONS = 1_000
# Points at which the fallback looks for the score's roots, spaced evenly on a log scale over its bracket.
ROOT_GRID_POINTS = 400
STEP_TOLERANCE = 1e-13
LOCAL_MAXIMUM_TOLERANCE = np.finfo(float).eps ** 0.25  # metafor's control$tol for its ll0 check


@dataclass(frozen=True)
class Tau2Fit:
    tau2: float
    iterations: int = 0
    converged: bool = True
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pooled:
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    df: int | None  # t degrees of freedom for hksj, None for a normal-based interval
    tau2: float | None
    tau2_ci: tuple[float, float] | None
    I2: float | None
    H2: float | None
    Q: float | None
    Q_df: int | None
    Q_p: float | None
    prediction_interval: tuple[float, float] | None
    tau2_method: str
    ci_method: str
    iterations: int
    converged: bool
    warnings: list[str]

    def pooled_dict(self) -> dict:
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p": self.p,
            "k": self.k,
            "df": self.df,
        }

    def heterogeneity_dict(self) -> dict:
        return {
            "tau2": self.tau2,
            "tau": None if self.tau2 is None else math.sqrt(self.tau2),
            "tau2_ci": None if self.tau2_ci is None else list(self.tau2_ci),
            "I2": self.I2,
            "H2": self.H2,
            "Q": self.Q,
            "Q_df": self.Q_df,
            "Q_p": self.Q_p,
            "method": self.tau2_method,
        }

    def convergence_dict(self) -> dict:
        return {"tau2_method": self.tau2_method, "iterations": self.iterations, "converged": self.converged}


def _brentq(*args, **kwargs):
    # scipy.optimize is imported on first use: it costs a third of a second, and most command-line runs never
    # need a root.
    from scipy import optimize

    return optimize.brentq(*args, **kwargs)


def weighted_mean(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, np.ndarray]:
    w = 1.0 / (v + tau2)
    return float(np.sum(w * y) / np.sum(w)), w


def generalised_q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Q with weights 1/(v + tau2) around their weighted mean; decreasing in tau2."""
    mu, w = weighted_mean(y, v, tau2)
    return float(np.sum(w * (y - mu) ** 2))


def _hedges(y, v) -> float:
    k = len(y)
    return float((np.sum((y - y.mean()) ** 2) - np.sum(v) * (1 - 1 / k)) / (k - 1))


def _dersimonian_laird(y, v) -> float:
    w = 1.0 / v
    trace_p = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float((generalised_q(y, v, 0.0) - (len(y) - 1)) / trace_p)


def _sidik_jonkman(y, v) -> float:
    k = len(y)
    tau2_start = float(np.var(y))  # R's var(y) * (k - 1) / k
    return tau2_start * generalised_q(y, v, tau2_start) / (k - 1)


def _paule_mandel(y, v) -> Tau2Fit:
    """Root of generalised Q = k - 1, or 0 when Q at 0 is already below k - 1."""
    target = len(y) - 1
    if generalised_q(y, v, 0.0) < target:
        return Tau2Fit(0.0)
    upper = _bracket_upper(lambda t: generalised_q(y, v, t) - target, 100.0)
    root, info = _brentq(
        lambda t: generalised_q(y, v, t) - target,
        0.0,
        upper,
        xtol=1e-300,
        rtol=4 * np.finfo(float).eps,
        maxiter=MAX_ITERATIONS,
        full_output=True,
    )
    return Tau2Fit(root, info.iterations, info.converged)


def _bracket_upper(decreasing, start: float) -> float:
    upper = start
    while decreasing(upper) > 0:
        upper *= 10
        if upper > 1e12:
            raise AnalysisError("The between-trial variance could not be bracketed: the trial estimates are extreme.")
    return upper


def _scoring_step(y, v, tau2: float, method: str) -> float:
    """metafor's Fisher scoring adjustment for ML, REML and EB (intercept-only model)."""
    mu, w = weighted_mean(y, v, tau2)
    residual = y - mu
    sum_w, sum_w2 = np.sum(w), np.sum(w**2)
    y_pp_y = np.sum(w**2 * residual**2)  # y' P P y, as P y = w * (y - mu)
    if method == "ML":
        return float((y_pp_y - sum_w) / sum_w2)
    if method == "REML":
        trace_p = sum_w - sum_w2 / sum_w
        trace_pp = sum_w2 - 2 * np.sum(w**3) / sum_w + sum_w2**2 / sum_w**2
        return float((y_pp_y - trace_p) / trace_pp)
    k = len(y)
    return float((np.sum(w * residual**2) * k / (k - 1) - k) / sum_w)


def log_likelihood(y, v, tau2: float, method: str) -> float:
    """ML or REML log-likelihood of the intercept-only random-effects model."""
    mu, w = weighted_mean(y, v, tau2)
    rss = np.sum(w * (y - mu) ** 2)
    k = len(y)
    if method == "ML":
        return float(-0.5 * k * math.log(2 * math.pi) - 0.5 * np.sum(np.log(v + tau2)) - 0.5 * rss)
    return float(
        -0.5 * (k - 1) * math.log(2 * math.pi) - 0.5 * np.sum(np.log(v + tau2)) - 0.5 * math.log(np.sum(w)) - 0.5 * rss
    )


def _fisher_scoring(y, v, method: str) -> Tau2Fit:
    tau2 = max(0.0, _hedges(y, v))
    iteration, converged = 0, False
    while iteration < FISHER_ITERATIONS and not converged:
        iteration += 1
        step = _scoring_step(y, v, tau2, method)
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        converged = abs(step) <= STEP_TOLERANCE * max(1.0, tau2)
    warnings = []
    if not converged:
        # Fisher scoring can overshoot back and forth for ever (where R's rma.uni stops with an error); the
        # estimate is still the root of the score, which a bracketing search finds whatever the order of trials.
        tau2, iterations = _score_root(y, v, method)
        warnings.append(
            f"Fisher scoring did not converge for the {method} estimate of tau2; it was found as the root of the "
            "score function instead."
        )
        iteration += iterations
    if method in ("ML", "REML") and tau2 > 0:
        # As metafor: a stationary point below the likelihood at tau2 = 0 is a local maximum; take 0.
        if log_likelihood(y, v, 0.0, method) - log_likelihood(y, v, tau2, method) > LOCAL_MAXIMUM_TOLERANCE:
            warnings.append(f"The {method} search stopped at a local maximum; tau2 was set to 0.")
            tau2 = 0.0
    return Tau2Fit(tau2, iteration, True, warnings)


def _score(y, v, tau2: float, method: str) -> float:
    """A positive multiple of the derivative of the ML or REML log-likelihood in tau2 (for EB: of k - 1 minus
    the generalised Q, whose root the EB iteration seeks, the Paule-Mandel equation)."""
    mu, w = weighted_mean(y, v, tau2)
    residual = y - mu
    if method == "ML":
        return float(np.sum(w**2 * residual**2) - np.sum(w))
    if method == "REML":
        sum_w = np.sum(w)
        return float(np.sum(w**2 * residual**2) - (sum_w - np.sum(w**2) / sum_w))
    return float(np.sum(w * residual**2) - (len(y) - 1))


def _score_root(y, v, method: str) -> tuple[float, int]:
    """tau2 where the score falls through zero (a local maximum), the highest such one when the likelihood has
    several, or 0 when none beats the boundary; (tau2, iterations)."""

    def score(tau2: float) -> float:
        return _score(y, v, tau2, method)

    upper = _bracket_upper(score, 100.0)
    # A grid over the bracket finds every place the score falls from above zero to below it; for EB the score
    # only falls (Q decreases in tau2), so there is one at most.
    grid = np.concatenate([[0.0], np.geomspace(upper * 1e-12, upper, ROOT_GRID_POINTS)])
    signs = [score(t) for t in grid]
    roots, iterations = [], len(grid)
    for low, high, sign_low, sign_high in zip(grid[:-1], grid[1:], signs[:-1], signs[1:], strict=True):
        if sign_low > 0 >= sign_high:
            root, info = _brentq(
                score, low, high, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=MAX_ITERATIONS, full_output=True
            )
            if not info.converged:
                raise AnalysisError(f"The {method} estimate of tau2 could not be found: its search did not converge.")
            roots.append(root)
            iterations += info.iterations
    if method == "EB" or not roots:
        return (roots[0] if roots else 0.0), iterations
    return max([0.0, *roots], key=lambda t: log_likelihood(y, v, t, method)), iterations


def estimate_tau2(y: np.ndarray, v: np.ndarray, method: str) -> Tau2Fit:
    """Between-trial variance by one of rma.uni's estimators, truncated at 0 as rma.uni does."""
    if method == "FE":
        return Tau2Fit(0.0)
    if method == "DL":
        return Tau2Fit(max(0.0, _dersimonian_laird(y, v)))
    if method == "HE":
        return Tau2Fit(max(0.0, _hedges(y, v)))
    if method == "SJ":
        return Tau2Fit(max(0.0, _sidik_jonkman(y, v)))
    if method == "PM":
        return _paule_mandel(y, v)
    if method in ("ML", "REML", "EB"):
        return _fisher_scoring(y, v, method)
    raise AnalysisError(f"Unknown tau2 estimator {method!r}.")


def q_profile_interval(y: np.ndarray, v: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Values of tau2 where the generalised Q meets the chi-square(k-1) quantiles (Viechtbauer 2007)."""
    df = len(y) - 1
    alpha = 1 - level
    crit_upper = distributions.chi2_isf(alpha / 2, df)  # gives the lower bound
    crit_lower = distributions.chi2_ppf(alpha / 2, df)  # gives the upper bound
    q_at_zero = generalised_q(y, v, 0.0)

    def root(target: float) -> float:
        if q_at_zero <= target:
            return 0.0
        upper = _bracket_upper(lambda t: generalised_q(y, v, t) - target, 100.0)
        return _brentq(
            lambda t: generalised_q(y, v, t) - target,
            0.0,
            upper,
            xtol=1e-300,
            rtol=4 * np.finfo(float).eps,
            maxiter=MAX_ITERATIONS,
        )

    return root(crit_upper), root(crit_lower)


def _i2_h2(v: np.ndarray, tau2: float, q: float, method: str) -> tuple[float, float]:
    k = len(v)
    if method == "FE":
        i2 = 100 * max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
        return i2, q / (k - 1)
    w = 1.0 / v
    s2 = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))
    return float(100 * tau2 / (tau2 + s2)), float((tau2 + s2) / s2)


def _single_trial(y: float, v: float, tau2_method: str, ci_method: str) -> Pooled:
    se = math.sqrt(v)
    z = distributions.normal_isf((1 - LEVEL) / 2)
    return Pooled(
        k=1, estimate=y, se=se, ci_low=y - z * se, ci_high=y + z * se, p=2 * distributions.normal_sf(abs(y / se)),
        df=None, tau2=None, tau2_ci=None, I2=None, H2=None, Q=None, Q_df=None, Q_p=None, prediction_interval=None,
        tau2_method=tau2_method, ci_method=ci_method, iterations=0, converged=True,
        warnings=[
            "Only one trial could be pooled: the pooled result is that trial's own estimate with a normal-based "
            "interval, and heterogeneity cannot be estimated."
        ],
    )  # fmt: skip


def pool(estimates, variances, *, tau2_method: str = "REML", ci_method: str = "wald") -> Pooled:
    """Pools trial estimates with their sampling variances."""
    y = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    k = len(y)
    if k == 0:
        raise AnalysisError("No trial is left to pool.")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise AnalysisError("Every pooled trial needs a finite estimate and a positive, finite variance.")
    if k == 1:
        return _single_trial(float(y[0]), float(v[0]), tau2_method, ci_method)
    fit = estimate_tau2(y, v, tau2_method)
    tau2 = fit.tau2
    mu, w = weighted_mean(y, v, tau2)
    se = math.sqrt(1.0 / np.sum(w))
    df = None
    if ci_method == "hksj":
        # Knapp-Hartung: scale the variance by the weighted residual mean square, t with k - 1 df.
        df = k - 1
        se *= math.sqrt(np.sum(w * (y - mu) ** 2) / df)
        crit = distributions.t_isf((1 - LEVEL) / 2, df)
        p = 2 * distributions.t_sf(abs(mu / se), df) if se > 0 else 0.0
    else:
        crit = distributions.normal_isf((1 - LEVEL) / 2)
        p = 2 * distributions.normal_sf(abs(mu / se))
    q = generalised_q(y, v, 0.0)
    i2, h2 = _i2_h2(v, tau2, q, tau2_method)
    prediction = None
    if k >= 3:
        half = distributions.t_isf((1 - LEVEL) / 2, k - 2) * math.sqrt(tau2 + se**2)
        prediction = (mu - half, mu + half)
    warnings = list(fit.warnings)
    if tau2_method != "FE" and tau2 == 0.0:
        warnings.append(f"The {tau2_method} estimate of tau2 is on the boundary (0): no between-trial variance.")
    if not fit.converged:
        warnings.append(f"The {tau2_method} estimator of tau2 did not converge.")
    return Pooled(
        k=k, estimate=mu, se=se, ci_low=mu - crit * se, ci_high=mu + crit * se, p=float(p), df=df,
        tau2=tau2, tau2_ci=q_profile_interval(y, v), I2=i2, H2=h2, Q=q, Q_df=k - 1,
        Q_p=float(distributions.chi2_sf(q, k - 1)), prediction_interval=prediction, tau2_method=tau2_method,
        ci_method=ci_method, iterations=fit.iterations, converged=fit.converged, warnings=warnings,
    )  # fmt: skip
