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
    return _Layout(order, xs, e, group, group_starts, stratum_starts, event_group, event_fraction)


def _cumsum_by_stratum(values: np.ndarray, stratum_starts: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Cumulative sums restarted at each stratum (exact: no subtraction of running totals across strata)."""
    out = np.empty_like(values)
    for lo, hi in zip(stratum_starts[:-1], stratum_starts[1:], strict=True):
        if reverse:
            out[lo:hi] = np.cumsum(values[lo:hi][::-1], axis=0)[::-1]
        else:
            np.cumsum(values[lo:hi], axis=0, out=out[lo:hi])
    return out


def _efron_terms(layout: _Layout, beta: np.ndarray):
    """Log partial likelihood, score and information at beta."""
    x, e, starts = layout.x, layout.event, layout.group_starts
    eta = x @ beta
    shift = eta.max()
    w = np.exp(eta - shift)  # the common factor exp(shift) cancels except in the log-likelihood
    we = w * e
    risk0 = _cumsum_by_stratum(np.add.reduceat(w, starts), layout.stratum_starts)
    risk1 = _cumsum_by_stratum(np.add.reduceat(w[:, None] * x, starts, axis=0), layout.stratum_starts)
    dead0 = np.add.reduceat(we, starts)
    dead1 = np.add.reduceat(we[:, None] * x, starts, axis=0)

    g, f = layout.event_group, layout.event_fraction
    denom = risk0[g] - f * dead0[g]
    mean_x = (risk1[g] - f[:, None] * dead1[g]) / denom[:, None]
    n_events = len(g)
    loglik = float(eta @ e - np.log(denom).sum() - n_events * shift)
    score = x.T @ e - mean_x.sum(axis=0)

    n_groups = len(starts)
    inv_denom = np.bincount(g, weights=1.0 / denom, minlength=n_groups)
    frac_denom = np.bincount(g, weights=f / denom, minlength=n_groups)
    at_risk_weight = _cumsum_by_stratum(inv_denom, layout.stratum_starts, reverse=True)
    row_weight = w * at_risk_weight[layout.group] - we * frac_denom[layout.group]
    information = (x * row_weight[:, None]).T @ x - mean_x.T @ mean_x
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


def cox_efron(time, event, X, strata=None, *, tol: float = 1e-10, max_iter: int = 50) -> CoxFit:
    """Fit a Cox model by Newton-Raphson on the Efron partial likelihood.

    X is (n, p); strata (optional) holds one integer per row, each stratum with its own baseline hazard.
    The covariance is the inverse of the information at the estimate, as in R's coxph.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    x = np.asarray(X, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    strata = np.zeros(len(time), dtype=np.int64) if strata is None else np.asarray(strata)
    _check_inputs(time, event, x, strata)
    layout = _layout(time, event, x, strata)

    beta = np.zeros(x.shape[1])
    loglik, score, information = _efron_terms(layout, beta)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        try:
            step = np.linalg.solve(information, score)
        except np.linalg.LinAlgError:
            raise AnalysisError("The Cox model's information matrix is singular (a covariate without variation?).")
        candidate = beta + step
        new_loglik, new_score, new_information = _efron_terms(layout, candidate)
        halvings = 0
        while not new_loglik >= loglik - 1e-12 * abs(loglik) and halvings < 30:  # step halving, as coxph
            step = step / 2
            candidate = beta + step
            new_loglik, new_score, new_information = _efron_terms(layout, candidate)
            halvings += 1
        beta, loglik, score, information = candidate, new_loglik, new_score, new_information
        if np.max(np.abs(step)) <= tol * (1 + np.max(np.abs(beta))):
            converged = True
            break
    try:
        cov = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        raise AnalysisError("The Cox model's information matrix is singular (a covariate without variation?).")
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        raise AnalysisError("The Cox model's information matrix is singular (a covariate without variation?).")
    return CoxFit(
        coef=beta,
        cov=cov,
        loglik=loglik,
        iterations=iterations,
        converged=converged,
        score_norm=float(np.max(np.abs(score))),
    )
