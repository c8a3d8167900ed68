"""Logistic mixed model for one-stage IPD meta-analysis, maximum likelihood by Laplace or adaptive Gauss-Hermite.

Model, for participant j of trial i:

    logit P(y_ij = 1) = o_ij + tau u_i t_ij,   o_ij = a_i + z_ij' c_i + x_ij' beta,   u_i ~ N(0, 1)

with trial-specific nuisance coefficients phi_i = (a_i, c_i), common coefficients beta (treatment and any
interaction columns) and a random slope with standard deviation tau on t (treatment coded -1/2, +1/2): lme4's
`y ~ 0 + trial + trial:z + x + (0 + t | trial)` in its spherical parametrisation.

Each trial's marginal likelihood is a one-dimensional integral over u_i. With g(u) = log p(y_i | u) - u^2 / 2,
its conditional mode u^ and curvature H = -g''(u^) = 1 + tau^2 sum_j t_j^2 p_j (1 - p_j), the adaptive
Gauss-Hermite rule with nodes z_k and weights w_k for the standard normal density is

    log L_i = -log(H) / 2 + log sum_k w_k exp(g(u^ + z_k / sqrt(H)) + z_k^2 / 2)

(Pinheiro & Bates 1995); one node (z = 0, w = 1) is the Laplace approximation. The gradient of this
approximation is exact, including the dependence of u^ and H on the parameters (implicit differentiation);
the Hessian is a central difference of that gradient. Because trials are independent, perturbing one nuisance
coefficient in every trial at once yields the whole block-diagonal part of the Hessian in a single pass.

Rows that share trial and design values are merged into binomial cells first (an exact reduction: the
likelihood only depends on the events and participants of each cell).
"""

from dataclasses import dataclass

import numpy as np

from ipdstats import numerics
from ipdstats.errors import AnalysisError


@dataclass(frozen=True)
class GlmmFit:
    coef: np.ndarray  # common coefficients (the columns of `fixed`)
    cov: np.ndarray  # their covariance: the matching block of the inverse negative Hessian
    tau2: float
    tau_se: float  # standard error of tau, from the same inverse Hessian
    loglik: float  # the approximated log-likelihood (binomial coefficients omitted)
    iterations: int  # Newton iterations
    converged: bool
    gradient_norm: float  # largest absolute gradient component at the estimate, over all parameters
    at_boundary: bool  # tau estimated as 0
    quadrature: int
    cells: int  # binomial cells the rows reduced to


@dataclass(frozen=True)
class _Cells:
    group: np.ndarray  # (c,) trial of each cell, sorted
    starts: np.ndarray  # first cell of each trial
    events: np.ndarray  # (c,)
    size: np.ndarray  # (c,)
    design: np.ndarray  # (c, m) [1, z (centred per trial), x]
    n_nuisance: int  # 1 + number of z columns
    random_col: int  # column of t in `design`
    n_groups: int


def _centre_by_group(values, group, n_groups):
    counts = np.bincount(group, minlength=n_groups).astype(float)
    sums = np.stack([np.bincount(group, weights=col, minlength=n_groups) for col in values.T], axis=1)
    return values - (sums / counts[:, None])[group]


def _collapse(y, group, nuisance, fixed, random_col) -> _Cells:
    """Merge rows with the same trial and design values into binomial cells (exact)."""
    n_groups = int(group.max()) + 1
    z = _centre_by_group(nuisance, group, n_groups) if nuisance.shape[1] else nuisance
    design = np.column_stack([np.ones(len(y)), z, fixed])
    keys = [design[:, c] for c in range(design.shape[1] - 1, 0, -1)] + [group]
    order = np.lexsort(keys)
    sorted_design = design[order]
    sorted_group = group[order]
    new_cell = np.empty(len(y), dtype=bool)
    new_cell[0] = True
    new_cell[1:] = (sorted_group[1:] != sorted_group[:-1]) | np.any(sorted_design[1:] != sorted_design[:-1], axis=1)
    cell_starts = np.flatnonzero(new_cell)
    events = np.add.reduceat(y[order], cell_starts)
    size = np.diff(np.r_[cell_starts, len(y)]).astype(float)
    cell_group = sorted_group[cell_starts]
    trial_starts = np.flatnonzero(np.r_[True, cell_group[1:] != cell_group[:-1]])
    if len(trial_starts) != n_groups:
        raise AnalysisError("Every trial index must have at least one participant.")
    n_nuisance = 1 + z.shape[1]
    return _Cells(
        cell_group,
        trial_starts,
        events,
        size,
        sorted_design[cell_starts],
        n_nuisance,
        n_nuisance + random_col,
        n_groups,
    )


def _rule(points: int):
    """Gauss-Hermite nodes and weights for the standard normal density (probabilists' Hermite)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    return nodes, weights / np.sqrt(2 * np.pi)


class _Likelihood:
    """The approximated log-likelihood of each trial and its gradient, vectorised over trials.

    Per-cell products that do not depend on the parameters are formed once, and the per-trial sums of one
    evaluation are taken in a single stacked reduction over the cells.
    """

    def __init__(self, cells: _Cells, quadrature: int):
        self.cells = cells
        self.nodes, self.weights = _rule(quadrature)
        design, size = cells.design.T.copy(), cells.size  # column-major: reductions run along contiguous rows
        self.design = design
        self.t = design[cells.random_col]
        self.t_size = self.t * size
        self.t2_size = self.t * self.t_size
        self.m = design.shape[0]
        rows, cols = np.triu_indices(self.m)
        self.pairs = (rows, cols)
        # columns multiplied, per evaluation, by p, p(1-p), p(1-p)(1-2p) and p(1-p)
        self.weighted = np.vstack(
            [design * size, design * self.t_size, design * self.t2_size, design[rows] * design[cols] * size]
        )
        self.events_design = self._sum(design * cells.events)  # (K, m): sum_j d_j y_j
        self.mode = np.zeros(cells.n_groups)  # warm start of the conditional modes
        self.information = None  # (K, m, m) of the last evaluation: sum v d d' - tau^2 s s' / H

    def _sum(self, values):
        """Per-trial sums of a per-cell array (c,) -> (K,), or of the rows of a (w, c) array -> (K, w)."""
        if values.ndim == 1:
            return np.add.reduceat(values, self.cells.starts)
        return np.add.reduceat(values, self.cells.starts, axis=1).T

    def offset(self, phi, beta):
        c = self.cells
        q = c.n_nuisance
        return np.einsum("ji,ij->i", self.design[:q], phi[c.group]) + beta @ self.design[q:]

    def _mode(self, offset, tau):
        """Conditional modes u^ of every trial by Newton's method (g is strictly concave).

        Newton converges quadratically: once a step is below 1e-9 the error left is of the order of its square,
        so that step is the last one."""
        c = self.cells
        col = c.random_col
        u = self.mode.copy() if tau != 0 else np.zeros(c.n_groups)
        for _ in range(100):
            p = numerics.expit(offset + tau * self.t * u[c.group])
            slope = tau * (self.events_design[:, col] - self._sum(self.t_size * p)) - u
            curvature = 1.0 + tau * tau * self._sum(self.t2_size * (p * (1 - p)))
            step = np.clip(slope / curvature, -2.0, 2.0)
            u = u + step
            if np.max(np.abs(step)) < 1e-9:
                break
        return u

    def _node(self, offset, tau, u, want_score):
        """Per-trial sum of the binomial log-likelihood at u (and sum_j d_j (y_j - n_j p_j))."""
        c = self.cells
        eta = offset + tau * self.t * u[c.group]
        loglik = self._sum(c.events * eta - c.size * np.logaddexp(0.0, eta))
        if not want_score:
            return loglik, None
        return loglik, self.events_design - self._sum(self.weighted[: self.m] * numerics.expit(eta))

    def evaluate(self, phi, beta, tau, want_gradient=True):
        """Per-trial log-likelihood (K,) and gradient: d/dphi_i (K, q), d/d(beta, tau) per trial (K, r + 1)."""
        c, m, col = self.cells, self.m, self.cells.random_col
        offset = self.offset(phi, beta)
        u_hat = self._mode(offset, tau)
        self.mode = u_hat
        eta = offset + tau * self.t * u_hat[c.group]
        p = numerics.expit(eta)
        w = p * (1 - p)
        width = self.weighted.shape[0] if want_gradient else 3 * m
        per_cell = np.empty((width + 1, len(p)))
        np.multiply(self.weighted[:m], p, out=per_cell[:m])
        np.multiply(self.weighted[m : 2 * m], w, out=per_cell[m : 2 * m])
        np.multiply(self.weighted[2 * m : 3 * m], w * (1 - 2 * p), out=per_cell[2 * m : 3 * m])
        if want_gradient:
            np.multiply(self.weighted[3 * m :], w, out=per_cell[3 * m : -1])
        per_cell[-1] = c.events * eta - c.size * np.logaddexp(0.0, eta)
        sums = self._sum(per_cell)
        score_hat = self.events_design - sums[:, :m]  # sum_j d_j (y_j - n_j p_j) at the mode
        s_dtv = sums[:, m : 2 * m]  # sum_j d_j t_j v_j, v = n p (1 - p)
        s_dt2dv = sums[:, 2 * m : 3 * m]  # sum_j d_j t_j^2 dv/deta
        loglik_hat = sums[:, -1]
        curvature = 1.0 + tau * tau * s_dtv[:, col]
        sigma = 1.0 / np.sqrt(curvature)

        node_u = u_hat[:, None] + sigma[:, None] * self.nodes[None, :]  # (K, Q)
        node_g = np.empty_like(node_u)
        node_score = []
        for k, z in enumerate(self.nodes):
            if z == 0.0:  # the mode itself (the Laplace node, and the middle node of an odd rule)
                loglik_k, score_k = loglik_hat, score_hat
            else:
                loglik_k, score_k = self._node(offset, tau, node_u[:, k], want_gradient)
            node_g[:, k] = loglik_k - node_u[:, k] ** 2 / 2
            node_score.append(score_k)
        log_terms = np.log(self.weights)[None, :] + node_g + self.nodes[None, :] ** 2 / 2
        loglik = np.log(sigma) + numerics.logsumexp(log_terms, axis=1)
        if not want_gradient:
            return loglik, None, None

        pair_sums = sums[:, 3 * m : -1]
        information = np.empty((c.n_groups, m, m))
        information[:, self.pairs[0], self.pairs[1]] = pair_sums
        information[:, self.pairs[1], self.pairs[0]] = pair_sums
        self.information = information - (tau * tau / curvature)[:, None, None] * s_dtv[:, :, None] * s_dtv[:, None, :]

        # implicit derivatives of the mode and of the curvature
        s_t2v, s_t3dv = s_dtv[:, col], s_dt2dv[:, col]
        curvature_u = tau**3 * s_t3dv
        du_design = -tau * s_dtv / curvature[:, None]
        dh_design = tau * tau * s_dt2dv + curvature_u[:, None] * du_design
        du_tau = (score_hat[:, col] - tau * u_hat * s_t2v) / curvature
        dh_tau = 2 * tau * s_t2v + tau * tau * u_hat * s_t3dv + curvature_u * du_tau
        du = np.column_stack([du_design, du_tau])
        dlogsigma = -0.5 * np.column_stack([dh_design, dh_tau]) / curvature[:, None]
        dsigma = sigma[:, None] * dlogsigma

        node_weight = numerics.softmax(log_terms, axis=1)  # (K, Q)
        gradient = dlogsigma.copy()
        for k, z in enumerate(self.nodes):
            score = node_score[k]
            s_tr = score[:, col]
            direct = np.column_stack([score, node_u[:, k] * s_tr])
            slope_u = tau * s_tr - node_u[:, k]  # g'(u) at the node
            gradient += node_weight[:, [k]] * (direct + slope_u[:, None] * (du + z * dsigma))
        q = c.n_nuisance
        return loglik, gradient[:, :q], gradient[:, q:]


def _unpack(theta, n_groups, q):
    phi = theta[: n_groups * q].reshape(n_groups, q)
    psi = theta[n_groups * q :]
    return phi, psi[:-1], psi[-1]


class _Newton:
    """Newton's method on all parameters, using the block-arrow shape of the Hessian.

    Parameters: phi (K, q) per trial, then psi = (beta, tau). With estimate_tau False, tau stays at its value.
    A nuisance column without variation inside a trial has no coefficient there: its row of the per-trial block
    becomes a unit pivot, so its step is zero.
    """

    def __init__(self, likelihood: _Likelihood, estimate_tau: bool):
        self.lik = likelihood
        cells = likelihood.cells
        self.k, self.q = cells.n_groups, cells.n_nuisance
        self.r = cells.design.shape[1] - self.q + 1  # beta and tau
        self.free = self.r if estimate_tau else self.r - 1
        rms = np.sqrt(np.average(cells.design**2, axis=0, weights=cells.size))
        rms = np.where(rms > 0, rms, 1.0)
        self.step_phi = 1e-4 / rms[: self.q]
        self.step_psi = np.r_[1e-4 / rms[self.q :], 1e-4]
        spread = likelihood._sum(cells.size * likelihood.design[: self.q] ** 2)
        self.absent = spread <= 1e-12 * np.maximum(spread.max(axis=0), 1.0)
        self.absent[:, 0] = False

    def value_and_gradient(self, theta):
        phi, beta, tau = _unpack(theta, self.k, self.q)
        loglik, g_phi, g_psi = self.lik.evaluate(phi, beta, tau)
        return loglik.sum(), np.where(self.absent, 0.0, g_phi), g_psi.sum(axis=0)[: self.free]

    def value(self, theta):
        phi, beta, tau = _unpack(theta, self.k, self.q)
        return self.lik.evaluate(phi, beta, tau, want_gradient=False)[0].sum()

    def _gradient_change(self, phi, psi, mode, step):
        """Central differences of the per-trial gradients for one perturbation (K, q) of phi or (r,) of psi."""
        out = []
        for sign in (1.0, -1.0):
            self.lik.mode = mode.copy()
            shifted_phi, shifted_psi = phi + sign * step[0], psi + sign * step[1]
            _, g_phi, g_psi = self.lik.evaluate(shifted_phi, shifted_psi[:-1], shifted_psi[-1])
            out.append((g_phi, g_psi[:, : self.free]))
        return out[0][0] - out[1][0], out[0][1] - out[1][1]

    def _pivot(self, a, b):
        """Unit pivots for the coefficients a trial does not have (a column without variation there)."""
        absent = self.absent
        a = np.where(absent[:, :, None] | absent[:, None, :], 0.0, a)
        a[absent[:, :, None] & np.eye(self.q, dtype=bool)[None]] = 1.0
        return a, np.where(absent[:, :, None], 0.0, b)

    def hessian(self, theta):
        """Negative Hessian blocks by central differences of the exact gradient: per trial A (K, q, q), cross
        B (K, q, f), common C (f, f), f the free common parameters."""
        k, q, f = self.k, self.q, self.free
        a = np.empty((k, q, q))
        b_from_phi = np.empty((k, q, f))
        b_from_psi = np.empty((k, q, f))
        c = np.empty((f, f))
        phi, beta, tau = _unpack(theta, k, q)
        psi = np.r_[beta, tau]
        mode = self.lik.mode.copy()
        for j in range(q):
            shift = np.zeros((k, q))
            shift[:, j] = self.step_phi[j]
            d_phi, d_psi = self._gradient_change(phi, psi, mode, (shift, np.zeros(self.r)))
            a[:, :, j] = -d_phi / (2 * self.step_phi[j])
            b_from_phi[:, j, :] = -d_psi / (2 * self.step_phi[j])
        for j in range(f):
            shift = np.zeros(self.r)
            shift[j] = self.step_psi[j]
            d_phi, d_psi = self._gradient_change(phi, psi, mode, (np.zeros((k, q)), shift))
            b_from_psi[:, :, j] = -d_phi / (2 * self.step_psi[j])
            c[:, j] = -d_psi.sum(axis=0) / (2 * self.step_psi[j])
        self.lik.mode = mode
        a, b = self._pivot((a + a.transpose(0, 2, 1)) / 2, (b_from_phi + b_from_psi) / 2)
        return a, b, (c + c.T) / 2

    def working_hessian(self, theta):
        """Cheaper negative Hessian for the Newton steps: for the linear-predictor coefficients, the information
        with the random effect integrated out at its mode (sum v d d' - tau^2 s s' / H, recorded by the last
        gradient evaluation, at theta); for tau, central differences of the exact gradient. The exact gradient
        decides convergence, so this only changes the path, not the estimate."""
        k, q, f = self.k, self.q, self.free
        information = self.lik.information
        a = information[:, :q, :q]
        b = np.zeros((k, q, f))
        c = np.zeros((f, f))
        n_beta = self.r - 1
        b[:, :, :n_beta] = information[:, :q, q:]
        c[:n_beta, :n_beta] = information[:, q:, q:].sum(axis=0)
        if f > n_beta:
            phi, beta, tau = _unpack(theta, k, q)
            mode = self.lik.mode.copy()
            shift = np.zeros(self.r)
            shift[-1] = self.step_psi[-1]
            d_phi, d_psi = self._gradient_change(phi, np.r_[beta, tau], mode, (np.zeros((k, q)), shift))
            self.lik.mode = mode
            b[:, :, -1] = -d_phi / (2 * shift[-1])
            c[:, -1] = -d_psi.sum(axis=0) / (2 * shift[-1])
            c[-1, :-1] = c[:-1, -1]
        return (*self._pivot(a, b), c)

    @staticmethod
    def schur(a, b, c):
        """Negative Hessian of the common parameters once the per-trial ones are eliminated."""
        return c - np.einsum("kqi,kqj->ij", b, np.linalg.solve(a, b))

    def direction(self, g_phi, g_psi, a, b, c):
        """Newton step solving (-H) step = gradient, with a ridge where -H is not positive definite."""
        eig_a = np.linalg.eigvalsh(a)
        bad = eig_a[:, 0] <= 1e-10 * np.maximum(eig_a[:, -1], 1e-10)
        ridge = np.where(bad, np.abs(eig_a[:, 0]) + 1e-3 * np.maximum(np.abs(eig_a[:, -1]), 1.0), 0.0)
        a = a + ridge[:, None, None] * np.eye(self.q)
        a_inv_b = np.linalg.solve(a, b)
        a_inv_g = np.linalg.solve(a, g_phi[:, :, None])[:, :, 0]
        schur = c - np.einsum("kqi,kqj->ij", b, a_inv_b)
        eig = np.linalg.eigvalsh(schur)
        if eig[0] <= 1e-10 * max(eig[-1], 1e-10):
            schur = schur + (abs(eig[0]) + 1e-3 * max(abs(eig[-1]), 1.0)) * np.eye(self.free)
        step_psi = np.linalg.solve(schur, g_psi - np.einsum("kqi,kq->i", b, a_inv_g))
        step_phi = a_inv_g - np.einsum("kqi,i->kq", a_inv_b, step_psi)
        return np.r_[step_phi.ravel(), step_psi, np.zeros(self.r - self.free)]


def _start(cells: _Cells, n_fixed: int):
    """Starting values: each trial's log odds of an event, no covariate or treatment effect, tau = 0."""
    events = np.add.reduceat(cells.events, cells.starts)
    size = np.add.reduceat(cells.size, cells.starts)
    phi = np.zeros((cells.n_groups, cells.n_nuisance))
    phi[:, 0] = np.log((events + 0.5) / (size - events + 0.5))
    return np.r_[phi.ravel(), np.zeros(n_fixed), 0.0]


def _maximise(newton: _Newton, theta, max_iter: int, tol: float):
    """Newton iterations with step halving until the approximated log-likelihood does not fall."""
    likelihood = newton.lik
    value, g_phi, g_psi = newton.value_and_gradient(theta)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        step = newton.direction(g_phi, g_psi, *newton.working_hessian(theta))
        mode = likelihood.mode.copy()
        scale = 1.0
        while scale >= 1e-10:
            likelihood.mode = mode.copy()
            new_value, new_g_phi, new_g_psi = newton.value_and_gradient(theta + scale * step)
            if np.isfinite(new_value) and new_value >= value - 1e-10 * abs(value):
                break
            scale /= 2
        if scale < 1e-10:  # no step improves the log-likelihood: converged if the gradient vanishes
            likelihood.mode = mode
            newton.value_and_gradient(theta)  # leaves the likelihood's state at theta
            flat = max(np.abs(g_phi).max(), np.abs(g_psi).max(initial=0.0)) < 1e-6
            return theta, value, g_phi, g_psi, iterations, bool(flat)
        theta = theta + scale * step
        value, g_phi, g_psi = new_value, new_g_phi, new_g_psi
        if float(np.abs(scale * step).max()) < tol:
            return theta, value, g_phi, g_psi, iterations, True
    return theta, value, g_phi, g_psi, iterations, False


def _starting_tau(newton: _Newton, theta) -> float:
    """The best of a few values of tau, the other parameters held at their fit with tau = 0."""
    candidates = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6])
    values = []
    for tau in candidates:
        newton.lik.mode = np.zeros(newton.k)
        values.append(newton.value(np.r_[theta[:-1], tau]))
    return float(candidates[int(np.argmax(values))])


def fit_logistic(
    y,
    group,
    nuisance,
    fixed,
    random_col: int = 0,
    *,
    quadrature: int = 1,
    estimate_tau: bool = True,
    max_iter: int = 100,
) -> GlmmFit:
    """Maximum likelihood fit of the logistic mixed model above.

    y (n,) 0/1; group (n,) trial index 0..K-1; nuisance (n, q) covariates with one coefficient per trial (a
    per-trial intercept is always included); fixed (n, r) common columns; random_col: the column of `fixed` that
    carries the random effect; quadrature: 1 for Laplace, n for adaptive Gauss-Hermite with n nodes;
    estimate_tau False fits the model with tau = 0 (a fixed common effect).

    The fit with tau = 0 (an ordinary logistic regression, concave) gives the starting values; tau starts at
    the best of a few values, then Newton's method runs on all parameters to full convergence.
    """
    if quadrature < 1:
        raise AnalysisError("quadrature must be a whole number of at least 1 (1 is the Laplace approximation).")
    y = np.asarray(y, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    nuisance = np.asarray(nuisance, dtype=float).reshape(len(y), -1)
    fixed = np.asarray(fixed, dtype=float).reshape(len(y), -1)
    cells = _collapse(y, group, nuisance, fixed, random_col)
    likelihood = _Likelihood(cells, quadrature)
    fixed_effect = _Newton(likelihood, estimate_tau=False)
    theta, value, g_phi, g_psi, iterations, converged = _maximise(
        fixed_effect, _start(cells, fixed.shape[1]), max_iter, 1e-9 if not estimate_tau else 1e-4
    )
    newton = fixed_effect
    if estimate_tau:
        newton = _Newton(likelihood, estimate_tau=True)
        theta = np.r_[theta[:-1], _starting_tau(newton, theta)]
        likelihood.mode = np.zeros(newton.k)
        theta, value, g_phi, g_psi, more, converged = _maximise(newton, theta, max_iter, 1e-9)
        iterations += more

    tau = abs(float(theta[-1]))
    at_boundary = estimate_tau and tau < 1e-5
    a, b, c = newton.hessian(theta)
    if at_boundary:  # tau = 0: by symmetry in tau its cross terms vanish; beta's covariance is that at tau = 0
        b, c = b[:, :, :-1], c[:-1, :-1]
    try:
        information = newton.schur(a, b, c)
        cov_psi = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        raise AnalysisError("The logistic mixed model's information matrix is singular at its estimate.")
    if not np.all(np.isfinite(cov_psi)) or np.any(np.diag(cov_psi) <= 0):
        raise AnalysisError("The logistic mixed model's information matrix is not positive definite at its estimate.")
    n_beta = fixed.shape[1]
    return GlmmFit(
        coef=theta[cells.n_groups * cells.n_nuisance : -1].copy(),
        cov=cov_psi[:n_beta, :n_beta],
        tau2=0.0 if at_boundary or not estimate_tau else tau * tau,
        tau_se=float(np.sqrt(cov_psi[-1, -1])) if estimate_tau and not at_boundary else float("nan"),
        loglik=float(value),
        iterations=iterations,
        converged=converged,
        gradient_norm=float(max(np.abs(g_phi).max(), np.abs(g_psi).max(initial=0.0))),
        at_boundary=bool(at_boundary),
        quadrature=quadrature,
        cells=len(cells.events),
    )
