"""Linear mixed model for one-stage IPD meta-analysis, fitted by REML from per-trial sufficient statistics.

Model, for participant j of trial i:

    y_ij = a_i + z_ij' c_i + x_ij' beta + u_i t_ij + e_ij,   u_i ~ N(0, tau2),  e_ij ~ N(0, sigma2)

with trial-specific nuisance coefficients (a_i, c_i), common fixed coefficients beta (treatment and any
interaction columns), and a random slope on one of the fixed columns, t (treatment coded -1/2, +1/2). It is the
model lme4 fits with `y ~ 0 + trial + trial:z + x + (0 + t | trial)`.

Within a trial, V_i = sigma2 (I + g t t'), g = tau2 / sigma2, so V_i^-1 = (I - h t t') / sigma2 with
h = g / (1 + g t't). Every quantity of the REML criterion is therefore a function of the per-trial cross-product
matrix of [1, z, x, y]: the rows are read once, and the optimisation over g costs O(trials), not O(rows).
"""

from dataclasses import dataclass

import numpy as np

from ipdstats.errors import AnalysisError


@dataclass(frozen=True)
class LmmFit:
    coef: np.ndarray  # common fixed coefficients (the columns of `fixed`)
    cov: np.ndarray  # sigma2 * (X' H^-1 X)^-1 restricted to those coefficients
    tau2: float
    sigma2: float
    reml_deviance: float  # -2 REML log-likelihood, lme4's REML criterion
    iterations: int  # deviance evaluations of the optimiser
    converged: bool
    gradient: float  # derivative of the criterion in theta = tau / sigma at the estimate (one-sided at 0)
    at_boundary: bool  # tau2 estimated as 0


@dataclass(frozen=True)
class _Stats:
    cross: np.ndarray  # (K, m, m) per-trial cross-products of [1, z, x, y]
    n_nuisance: int  # 1 + number of z columns
    random_col: int  # column of t within the cross-product matrix
    n_rows: int
    n_fixed: int  # number of fixed-effect parameters after dropping columns without variation


def _per_trial_cross_products(columns: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    m = columns.shape[1]
    cross = np.empty((n_groups, m, m))
    for a in range(m):
        for b in range(a, m):
            values = np.bincount(group, weights=columns[:, a] * columns[:, b], minlength=n_groups)
            cross[:, a, b] = values
            cross[:, b, a] = values
    return cross


def _centre_by_group(values: np.ndarray, group: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Subtract each trial's mean; a shift absorbed by the trial's intercept changes no REML quantity."""
    sums = np.stack([np.bincount(group, weights=col, minlength=len(counts)) for col in values.T], axis=1)
    return values - (sums / counts[:, None])[group]


def _sufficient_stats(y, group, nuisance, fixed, random_col) -> _Stats:
    n_groups = int(group.max()) + 1
    counts = np.bincount(group, minlength=n_groups).astype(float)
    z = _centre_by_group(nuisance, group, counts) if nuisance.shape[1] else nuisance
    y_centred = _centre_by_group(y[:, None], group, counts)
    columns = np.column_stack([np.ones(len(y)), z, fixed, y_centred])
    cross = _per_trial_cross_products(columns, group, n_groups)
    n_nuisance = 1 + z.shape[1]
    n_fixed = n_groups + fixed.shape[1]
    # a covariate constant within a trial has no coefficient there (lme4 drops such a column): replace its
    # zero row by a unit pivot, which adds no information and no determinant, and count it as absent
    for j in range(1, n_nuisance):
        scale = np.maximum(cross[:, j, j].max(), 1.0)
        flat = cross[:, j, j] <= 1e-10 * scale
        cross[flat, j, :] = 0.0
        cross[flat, :, j] = 0.0
        cross[flat, j, j] = 1.0
        n_fixed += int((~flat).sum())
    return _Stats(cross, n_nuisance, n_nuisance + random_col, len(y), n_fixed)


def _profiled(stats: _Stats, theta: float):
    """REML criterion at theta = tau / sigma, with the fixed estimates and the profiled sigma2."""
    g = theta * theta
    cross = stats.cross
    t = stats.random_col
    t_cross = cross[:, :, t]
    h = g / (1.0 + g * cross[:, t, t])
    weighted = cross - h[:, None, None] * t_cross[:, :, None] * t_cross[:, None, :]
    q = stats.n_nuisance
    a_nn = weighted[:, :q, :q]
    a_nr = weighted[:, :q, q:]
    sign, logdet_nn = np.linalg.slogdet(a_nn)
    if np.any(sign <= 0):
        raise AnalysisError("The trial-specific covariate columns are collinear in at least one trial.")
    reduced = weighted[:, q:, q:] - np.einsum("kia,kib->kab", a_nr, np.linalg.solve(a_nn, a_nr))
    total = reduced.sum(axis=0)
    xx, xy, yy = total[:-1, :-1], total[:-1, -1], total[-1, -1]
    sign_x, logdet_x = np.linalg.slogdet(xx)
    if sign_x <= 0:
        raise AnalysisError("The treatment effect cannot be estimated: no trial has participants in both arms.")
    coef = np.linalg.solve(xx, xy)
    rss = yy - xy @ coef
    dof = stats.n_rows - stats.n_fixed
    if dof <= 0 or rss <= 0:
        raise AnalysisError("Too few participants to estimate the residual variance of the mixed model.")
    log_h = np.log1p(g * cross[:, t, t]).sum()
    deviance = log_h + logdet_nn.sum() + logdet_x + dof * (1.0 + np.log(2 * np.pi * rss / dof))
    return deviance, coef, xx, rss / dof


def _check_minimum(criterion, theta: float, value: float) -> tuple[float, bool]:
    """Slope of the criterion at theta by differences, and whether theta is a minimum: on the boundary the
    criterion must not fall into the interior; inside, the Newton step slope / curvature must be negligible."""
    h = 1e-3 * max(theta, 1e-3)
    up = criterion(theta + h)
    if theta == 0.0:
        return (up - value) / h, up >= value - 1e-9 * max(1.0, abs(value))
    down = criterion(theta - h)
    slope = (up - down) / (2 * h)
    curvature = (up - 2 * value + down) / (h * h)
    return slope, curvature > 0 and abs(slope / curvature) < 1e-6 * max(theta, 1e-3)


def fit_reml(y, group, nuisance, fixed, random_col: int = 0, *, estimate_tau: bool = True) -> LmmFit:
    """REML fit of the model above.

    y (n,); group (n,) trial index 0..K-1; nuisance (n, q) covariates with one coefficient per trial (a
    per-trial intercept is always included); fixed (n, r) common columns; random_col: the column of `fixed`
    that carries the random effect; estimate_tau False fits the model with tau2 = 0.
    """
    y = np.asarray(y, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    nuisance = np.asarray(nuisance, dtype=float).reshape(len(y), -1)
    fixed = np.asarray(fixed, dtype=float).reshape(len(y), -1)
    stats = _sufficient_stats(y, group, nuisance, fixed, random_col)

    evaluations = 0

    def criterion(theta):
        nonlocal evaluations
        evaluations += 1
        return _profiled(stats, theta)[0]

    if not estimate_tau:
        deviance, coef, xx, sigma2 = _profiled(stats, 0.0)
        return LmmFit(coef, sigma2 * np.linalg.inv(xx), 0.0, sigma2, float(deviance), 1, True, 0.0, False)

    # theta = tau / sigma; a coarse grid brackets the minimum, bounded Brent refines it
    grid = np.r_[0.0, np.logspace(-4, 5, 46)]
    values = np.array([criterion(theta) for theta in grid])
    best = int(np.argmin(values))
    lower, upper = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    from scipy import optimize  # on first use: a third of a second that other analyses need not pay

    refined = optimize.minimize_scalar(
        criterion, bounds=(lower, upper), method="bounded", options={"xatol": 1e-10 * max(upper, 1e-6)}
    )
    theta = float(refined.x)
    if criterion(0.0) <= refined.fun + 1e-9:  # the boundary fits as well: tau2 = 0, as lme4 reports it
        theta = 0.0
    deviance, coef, xx, sigma2 = _profiled(stats, theta)
    at_boundary = theta == 0.0
    slope, converged = _check_minimum(criterion, theta, deviance)
    converged = converged and bool(refined.success)
    return LmmFit(
        coef=coef,
        cov=sigma2 * np.linalg.inv(xx),
        tau2=theta * theta * sigma2,
        sigma2=sigma2,
        reml_deviance=float(deviance),
        iterations=evaluations,
        converged=converged,
        gradient=float(slope),
        at_boundary=at_boundary,
    )
