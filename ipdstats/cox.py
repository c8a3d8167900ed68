"""Cox proportional hazards model with Efron's handling of tied event times, optionally stratified.

The partial likelihood, its score and its information are computed in one pass over the rows sorted once by
stratum and decreasing time: risk-set sums are cumulative sums over the distinct (stratum, time) groups, and
the Efron terms are evaluated once per event (an event is the l-th of the d events of its tied group). The
information matrix never materialises a per-row p x p array: sum_g c_g S2_g is rewritten as
X' diag(w * C) X, with C the sum of c_g over the groups whose risk set holds the row.
"""

from dataclasses import dataclass

import numpy as np

from ipdstats.errors import AnalysisError


@dataclass(frozen=True)
class CoxFit:
    coef: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    score_norm: float = 0.0  # largest absolute score component at `coef`


@dataclass(frozen=True)
class _Layout:
    """Rows sorted by stratum then decreasing time, grouped by (stratum, time)."""

    order: np.ndarray  # sorting permutation of the rows
    x: np.ndarray  # (n, p) centred covariates in sorted order
    event: np.ndarray  # (n,) 0/1 in sorted order
    group: np.ndarray  # (n,) group index of each sorted row
    group_starts: np.ndarray  # first sorted row of each group
    stratum_starts: np.ndarray  # first group of each stratum, plus the number of groups
    event_group: np.ndarray  # (E,) group of each event, events ordered as in the sorted rows
    event_fraction: np.ndarray  # (E,) l / d for the l-th of the d tied events of its group
    row_stratum: np.ndarray  # (n,) stratum number (0..S-1) of each sorted row
    event_stratum: np.ndarray  # (E,) stratum number of each event
    x_t: np.ndarray  # (p, n) x transposed, contiguous


def _layout(time, event, x, strata) -> _Layout:
    order = np.lexsort((-time, strata))
    t, s, e = time[order], strata[order], event[order]
    xs = x[order]
    xs = xs - xs.mean(axis=0)  # centring leaves the partial likelihood unchanged and keeps exp() tame
    new_group = np.empty(len(t), dtype=bool)
    new_group[0] = True
    new_group[1:] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    group_starts = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    group_stratum = s[group_starts]
    stratum_first = np.flatnonzero(np.r_[True, group_stratum[1:] != group_stratum[:-1]])
    stratum_starts = np.r_[stratum_first, len(group_starts)]
    deaths = np.add.reduceat(e, group_starts).astype(np.int64)
    event_rows = np.flatnonzero(e)
    event_group = group[event_rows]
    # rank of each event within its tied group: events of a group are contiguous among event rows
    first_event_of_group = np.cumsum(deaths) - deaths
    rank = np.arange(len(event_rows)) - first_event_of_group[event_group]
    event_fraction = rank / deaths[event_group]
    group_stratum_number = np.repeat(np.arange(len(stratum_first)), np.diff(stratum_starts))
    row_stratum = group_stratum_number[group]
    return _Layout(
        order,
        xs,
        e,
        group,
        group_starts,
        stratum_starts,
        event_group,
        event_fraction,
        row_stratum,
        row_stratum[event_rows],
        np.ascontiguousarray(xs.T),
    )


def _cumsum_by_stratum(values: np.ndarray, stratum_starts: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Cumulative sums restarted at each stratum (exact: no subtraction of running totals across strata)."""
    out = np.empty_like(values)
    for lo, hi in zip(stratum_starts[:-1], stratum_starts[1:], strict=True):
        if reverse:
            out[lo:hi] = np.cumsum(values[lo:hi][::-1], axis=0)[::-1]
        else:
            np.cumsum(values[lo:hi], axis=0, out=out[lo:hi])
    return out


def _efron_terms(layout: _Layout, eta: np.ndarray, by_stratum: bool = True):
    """Log partial likelihood, score and information of each stratum at the linear predictor eta.

    Returns (S,), (S, p) and (S, p, p) arrays: the derivatives are with respect to coefficients of the columns
    of layout.x, as if each stratum had its own copy of them. With by_stratum False: their totals over strata
    (a float, (p,) and (p, p)), for coefficients common to all strata.
    """
    x, e, starts, strata = layout.x, layout.event, layout.group_starts, layout.stratum_starts
    shift = eta.max()
    w = np.exp(eta - shift)  # the common factor exp(shift) cancels except in the log-likelihood
    we = w * e
    risk0 = _cumsum_by_stratum(np.add.reduceat(w, starts), strata)
    # reduceat along contiguous rows of x' is much faster than down the columns of x
    risk1 = _cumsum_by_stratum(np.add.reduceat(layout.x_t * w, starts, axis=1).T, strata)
    dead0 = np.add.reduceat(we, starts)
    dead1 = np.add.reduceat(layout.x_t * we, starts, axis=1).T

    g, f = layout.event_group, layout.event_fraction
    denom = risk0[g] - f * dead0[g]
    mean_x = (risk1[g] - f[:, None] * dead1[g]) / denom[:, None]

    n_groups = len(starts)
    inv_denom = np.bincount(g, weights=1.0 / denom, minlength=n_groups)
    frac_denom = np.bincount(g, weights=f / denom, minlength=n_groups)
    at_risk_weight = _cumsum_by_stratum(inv_denom, strata, reverse=True)
    row_weight = w * at_risk_weight[layout.group] - we * frac_denom[layout.group]

    if not by_stratum:
        loglik = float(eta @ e - np.log(denom).sum() - len(g) * shift)
        x_t = layout.x_t
        return loglik, x_t @ e - mean_x.sum(axis=0), (x_t * row_weight) @ x - mean_x.T @ mean_x

    # per-stratum sums; the stratum of each row and each event index the sums (bincount: empty strata give 0)
    n_strata = len(strata) - 1
    row_stratum, event_stratum = layout.row_stratum, layout.event_stratum
    n_events = np.bincount(event_stratum, minlength=n_strata)
    loglik = (
        np.bincount(row_stratum, weights=eta * e, minlength=n_strata)
        - np.bincount(event_stratum, weights=np.log(denom), minlength=n_strata)
        - n_events * shift
    )
    p = x.shape[1]
    score = np.empty((n_strata, p))
    information = np.empty((n_strata, p, p))
    for a in range(p):
        score[:, a] = np.bincount(row_stratum, weights=layout.x_t[a] * e, minlength=n_strata) - np.bincount(
            event_stratum, weights=mean_x[:, a], minlength=n_strata
        )
        weighted = layout.x_t[a] * row_weight
        for b in range(a, p):
            value = np.bincount(row_stratum, weights=weighted * layout.x_t[b], minlength=n_strata) - np.bincount(
                event_stratum, weights=mean_x[:, a] * mean_x[:, b], minlength=n_strata
            )
            information[:, a, b] = value
            information[:, b, a] = value
    return loglik, score, information


def _check_inputs(time, event, x, strata):
    n = len(time)
    if len(event) != n or x.shape[0] != n or len(strata) != n:
        raise AnalysisError("time, event, covariates and strata must have one value per participant.")
    if n == 0:
        raise AnalysisError("There are no participants to fit a Cox model to.")
    if not (np.all(np.isfinite(time)) and np.all(np.isfinite(x))):
        raise AnalysisError("Times and covariates of a Cox model must be finite numbers.")
    if not np.all((event == 0) | (event == 1)):
        raise AnalysisError("The event indicator must be 1 (event) or 0 (censored).")
    if np.any(time < 0):
        raise AnalysisError("Survival times must not be negative.")
    if not event.any():
        raise AnalysisError("There are no events: a Cox model cannot be fitted.")


_SINGULAR = "The Cox model's information matrix is singular (a covariate without variation, or no events?)."


def _newton(terms, solve, theta, tol, max_iter):
    """Newton-Raphson with step halving when the log-likelihood falls, as coxph does."""
    loglik, score, information = terms(theta)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        step = solve(score, information)
        candidate = theta + step
        new_loglik, new_score, new_information = terms(candidate)
        halvings = 0
        while not new_loglik >= loglik - 1e-12 * abs(loglik) and halvings < 30:
            step = step / 2
            candidate = theta + step
            new_loglik, new_score, new_information = terms(candidate)
            halvings += 1
        theta, loglik, score, information = candidate, new_loglik, new_score, new_information
        if np.max(np.abs(step)) <= tol * (1 + np.max(np.abs(theta))):
            converged = True
            break
    return theta, loglik, score, information, iterations, converged


def _checked_inverse(matrix):
    try:
        inverse = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        raise AnalysisError(_SINGULAR)
    if not np.all(np.isfinite(inverse)) or np.any(np.diag(inverse) <= 0):
        raise AnalysisError(_SINGULAR)
    return inverse


def _as_arrays(time, event, X, strata):
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    x = np.asarray(X, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    strata = np.zeros(len(time), dtype=np.int64) if strata is None else np.asarray(strata)
    _check_inputs(time, event, x, strata)
    return time, event, x, strata


def cox_efron(time, event, X, strata=None, *, tol: float = 1e-10, max_iter: int = 50) -> CoxFit:
    """Fit a Cox model by Newton-Raphson on the Efron partial likelihood.

    X is (n, p); strata (optional) holds one integer per row, each stratum with its own baseline hazard.
    The covariance is the inverse of the information at the estimate, as in R's coxph.
    """
    time, event, x, strata = _as_arrays(time, event, X, strata)
    layout = _layout(time, event, x, strata)

    def terms(coef):
        return _efron_terms(layout, layout.x @ coef, by_stratum=False)

    def solve(score, information):
        try:
            return np.linalg.solve(information, score)
        except np.linalg.LinAlgError:
            raise AnalysisError(_SINGULAR)

    beta, loglik, score, information, iterations, converged = _newton(terms, solve, np.zeros(x.shape[1]), tol, max_iter)
    return CoxFit(
        coef=beta,
        cov=_checked_inverse(information),
        loglik=loglik,
        iterations=iterations,
        converged=converged,
        score_norm=float(np.max(np.abs(score))),
    )


def cox_efron_stratum_specific(
    time, event, common, specific, strata, *, tol: float = 1e-10, max_iter: int = 50
) -> CoxFit:
    """Stratified Cox model with common coefficients for `common` (n, r) and one coefficient per stratum for
    each column of `specific` (n, q): R's coxph(Surv(time, event) ~ common + strata(s) + specific:strata(s)).

    Strata do not share risk sets, so the information is block-arrow: a q x q block per stratum coupled only
    to the common coefficients. Newton steps eliminate the per-stratum blocks (Schur complement); the returned
    coef and cov are those of the common coefficients. A column without variation inside a stratum (or a
    stratum without events) has no coefficient there, as coxph would report NA for it.
    """
    time, event, common = _as_arrays(time, event, common, strata)[:3]
    specific = np.asarray(specific, dtype=float).reshape(len(time), -1)
    if not np.all(np.isfinite(specific)):
        raise AnalysisError("Times and covariates of a Cox model must be finite numbers.")
    r, q = common.shape[1], specific.shape[1]
    layout = _layout(time, event, np.column_stack([common, specific]), np.asarray(strata))
    n_strata = len(layout.stratum_starts) - 1
    row_stratum = layout.row_stratum
    x_common, x_specific = layout.x[:, :r], layout.x[:, r:]

    def terms(theta):
        beta, per_stratum = theta[:r], theta[r:].reshape(n_strata, q)
        eta = x_common @ beta + np.einsum("ij,ij->i", x_specific, per_stratum[row_stratum])
        loglik, score, information = _efron_terms(layout, eta)
        return loglik.sum(), score, information

    def blocks(information):
        a = information[:, r:, r:].copy()
        b = information[:, r:, :r]
        scale = max(float(np.abs(a).max()), 1.0)
        absent = np.diagonal(a, axis1=1, axis2=2) <= 1e-12 * scale
        a[absent[:, :, None] & np.eye(q, dtype=bool)[None]] = 1.0
        b = np.where(absent[:, :, None], 0.0, b)
        a = np.where(absent[:, :, None] ^ absent[:, None, :], 0.0, a)
        return a, b, absent

    def schur(information):
        a, b, _ = blocks(information)
        a_inv_b = np.linalg.solve(a, b)
        return information[:, :r, :r].sum(axis=0) - np.einsum("kqi,kqj->ij", b, a_inv_b), a, b, a_inv_b

    def solve(score, information):
        try:
            reduced, a, b, a_inv_b = schur(information)
            _, _, absent = blocks(information)
            own = np.where(absent, 0.0, score[:, r:])
            a_inv_own = np.linalg.solve(a, own[:, :, None])[:, :, 0]
            step_common = np.linalg.solve(reduced, score[:, :r].sum(axis=0) - np.einsum("kqi,kq->i", b, a_inv_own))
        except np.linalg.LinAlgError:
            raise AnalysisError(_SINGULAR)
        step_specific = a_inv_own - np.einsum("kqi,i->kq", a_inv_b, step_common)
        return np.r_[step_common, step_specific.ravel()]

    theta, loglik, score, information, iterations, converged = _newton(
        terms, solve, np.zeros(r + n_strata * q), tol, max_iter
    )
    try:
        reduced = schur(information)[0]
    except np.linalg.LinAlgError:
        raise AnalysisError(_SINGULAR)
    _, _, absent = blocks(information)
    common_score = score[:, :r].sum(axis=0)
    own_score = np.where(absent, 0.0, score[:, r:])
    return CoxFit(
        coef=theta[:r],
        cov=_checked_inverse(reduced),
        loglik=loglik,
        iterations=iterations,
        converged=converged,
        score_norm=float(max(np.abs(common_score).max(), np.abs(own_score).max(initial=0.0))),
    )
