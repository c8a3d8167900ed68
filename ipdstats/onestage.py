"""One-stage IPD meta-analysis: every participant in one model, trials kept apart by their own terms.

- MD: linear mixed model by REML (`lmm.fit_reml`).
- OR: logistic mixed model by maximum likelihood, Laplace or adaptive Gauss-Hermite (`glmm.fit_logistic`).
- HR: Cox model stratified by trial with Efron ties (`cox`).

In every model each trial has its own intercept (or baseline hazard) and its own coefficient for each `adjust`
covariate; treatment is coded -1/2 (control), +1/2 (intervention), with a normal random effect across trials in
the mixed models. With an `interaction` covariate z, the model adds z with one coefficient per trial and
splits the treatment-covariate interaction in two (Riley et al. 2020):

    t * (z - mean_i(z))                  the within-trial interaction
    t * (mean_i(z) - mean of trial means)  the across-trial interaction

Centring the across term at the mean of the trial means leaves both interactions unchanged and makes the
treatment coefficient (reported as `pooled`) the effect for a participant at their trial's mean covariate
value, in a trial whose mean is the average trial mean.
"""

import numpy as np

from . import distributions
from .cox import cox_efron, cox_efron_stratum_specific
from .data import Prepared
from .effects import sequential_aliasing
from .errors import AnalysisError
from .glmm import fit_logistic
from .lmm import fit_reml

Z95 = distributions.normal_isf(0.025)


def _wald(estimate: float, se: float, k: int | None = None) -> dict:
    block = {
        "estimate": float(estimate),
        "se": float(se),
        "ci_low": float(estimate - Z95 * se),
        "ci_high": float(estimate + Z95 * se),
        "p": float(2 * distributions.normal_sf(abs(estimate / se))),
    }
    if k is not None:
        block["k"] = int(k)
    return block


def _trial_means(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    counts = np.bincount(group, minlength=n_groups)
    return np.bincount(group, weights=values, minlength=n_groups) / counts


def _without_rank_deficient(nuisance: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Zeroes, in each trial, the columns with one coefficient per trial that are constant there or a combination
    of the trial's intercept and its earlier such columns: lme4 and coxph drop those columns of the model matrix
    (rank deficient), and a column that is 0 in a trial has no coefficient there in every model here. Returns the
    columns and the (trials, columns) mask of those dropped."""
    counts = np.maximum(np.bincount(group, minlength=n_groups), 1).astype(float)
    q = nuisance.shape[1]
    sums = np.stack([np.bincount(group, weights=column, minlength=n_groups) for column in nuisance.T], axis=1)
    centred = nuisance - (sums / counts[:, None])[group]
    cross = np.empty((n_groups, q, q))
    for i in range(q):
        for j in range(i, q):
            cross[:, i, j] = cross[:, j, i] = np.bincount(
                group, weights=centred[:, i] * centred[:, j], minlength=n_groups
            )
    scale = np.stack([np.bincount(group, weights=column**2, minlength=n_groups) for column in nuisance.T], axis=1)
    dropped, _ = sequential_aliasing(cross, scale)
    # A column that is already 0 in a trial needs no warning: it is absent there, not dropped.
    dropped &= scale > 0
    if dropped.any():
        nuisance = np.where(dropped[group], 0.0, nuisance)
    return nuisance, dropped


def _design(data: Prepared, rows: np.ndarray, group: np.ndarray, labels: list[str], adjust, interaction):
    """Columns with one coefficient per trial, common columns (treatment first, then interaction terms), and a
    warning for each per-trial column left out of a trial as rank deficient."""
    n_groups = len(labels)
    t = data.treat[rows] - 0.5
    trial_specific = list(dict.fromkeys([*adjust, *([interaction] if interaction else [])]))
    nuisance = np.column_stack([data.covariates[name][rows] for name in trial_specific]) if trial_specific else None
    warnings = []
    if nuisance is None:
        nuisance = np.empty((len(rows), 0))
    else:
        nuisance, dropped = _without_rank_deficient(nuisance, group, n_groups)
        warnings = [
            f"In trial {labels[i]} the covariate '{data.label(trial_specific[j])}' is constant or collinear with "
            "the trial's other covariates, so it has no coefficient in that trial (R drops such a column of the "
            "model matrix as rank deficient)."
            for i, j in zip(*np.nonzero(dropped), strict=True)
        ]
    common = [t]
    if interaction:
        z = data.covariates[interaction][rows]
        means = _trial_means(z, group, n_groups)
        common += [t * (z - means[group]), t * (means[group] - means.mean())]
    return nuisance, np.column_stack(common), warnings


def _interaction_blocks(coef, cov) -> dict:
    se = np.sqrt(np.diag(cov))
    return {"within": _wald(coef[1], se[1]), "across": _wald(coef[2], se[2])}


def _one_arm_warnings(data: Prepared, rows: np.ndarray, group: np.ndarray, labels: list[str], what: str) -> list:
    treated = np.bincount(group, weights=data.treat[rows], minlength=len(labels))
    size = np.bincount(group, minlength=len(labels))
    return [
        f"Trial {labels[i]} has participants in one arm only: it informs {what} but not the treatment effect."
        for i in np.flatnonzero((treated == 0) | (treated == size))
    ]


def _require_both_arms(data: Prepared, rows: np.ndarray) -> None:
    treated = data.treat[rows]
    if treated.min() == treated.max():
        raise AnalysisError("Every participant is in the same arm: the treatment effect cannot be estimated.")


def _check_interaction_varies(data: Prepared, rows, group, n_groups, interaction) -> None:
    if not interaction:
        return
    z = data.covariates[interaction][rows]
    means = _trial_means(z, group, n_groups)
    scale = max(1.0, float(np.abs(z).max()))
    if np.ptp(z - means[group]) <= 1e-12 * scale:
        raise AnalysisError(
            f"The interaction covariate '{interaction}' does not vary within any trial: no within-trial interaction."
        )
    if n_groups < 2 or np.ptp(means) <= 1e-12 * scale:
        raise AnalysisError(
            f"The trial means of the interaction covariate '{interaction}' are all equal: "
            "the across-trial interaction cannot be estimated."
        )


def _fit_md(data: Prepared, adjust, interaction) -> dict:
    rows = np.arange(data.n_rows)
    group, k = data.trial_index, len(data.trials)
    _require_both_arms(data, rows)
    _check_interaction_varies(data, rows, group, k, interaction)
    nuisance, common, warnings = _design(data, rows, group, data.trials, adjust, interaction)
    fit = fit_reml(data.outcome, group, nuisance, common, random_col=0, estimate_tau=k > 1)
    warnings += _one_arm_warnings(data, rows, group, data.trials, "the residual variance")
    if fit.at_boundary:
        warnings.append("tau2 was estimated on its boundary (0): no between-trial variation of the treatment effect.")
    if not fit.converged:
        warnings.append("The REML optimisation of tau2 did not converge; the estimates may be unreliable.")
    return {
        "pooled": _wald(fit.coef[0], np.sqrt(fit.cov[0, 0]), k),
        "heterogeneity": {"tau2": fit.tau2, "sigma2": fit.sigma2} if k > 1 else None,
        "interaction": _interaction_blocks(fit.coef, fit.cov) if interaction else None,
        "convergence": {
            "model": "linear mixed model, REML",
            "optimiser": "grid then bounded Brent on tau/sigma (fixed effects and sigma2 profiled out)",
            "iterations": fit.iterations,
            "converged": fit.converged,
            "gradient_norm": abs(fit.gradient),
            "reml_criterion": fit.reml_deviance,
        },
        "warnings": warnings,
    }


def _informative_trials(data: Prepared) -> tuple[np.ndarray, list[str]]:
    """Trials with at least one event and one non-event; the others carry no information in the model."""
    size = np.bincount(data.trial_index, minlength=len(data.trials))
    events = np.bincount(data.trial_index, weights=data.outcome, minlength=len(data.trials))
    keep = (events > 0) & (events < size)
    warnings = [
        f"Trial {data.trials[i]} was left out: {'no participant had' if events[i] == 0 else 'every participant had'} "
        "the event, so it carries no information on the treatment effect in the logistic mixed model."
        for i in np.flatnonzero(~keep)
    ]
    return keep, warnings


def _fit_or(data: Prepared, adjust, interaction, quadrature: int) -> dict:
    keep, warnings = _informative_trials(data)
    if not keep.any():
        raise AnalysisError("No trial has both participants with and without the event: the model cannot be fitted.")
    used = np.flatnonzero(keep)
    labels = [data.trials[i] for i in used]
    new_index = np.full(len(data.trials), -1)
    new_index[used] = np.arange(len(used))
    rows = np.flatnonzero(keep[data.trial_index])
    group = new_index[data.trial_index[rows]]
    k = len(used)
    _require_both_arms(data, rows)
    _check_interaction_varies(data, rows, group, k, interaction)
    nuisance, common, rank_warnings = _design(data, rows, group, labels, adjust, interaction)
    warnings += rank_warnings
    fit = fit_logistic(
        data.outcome[rows], group, nuisance, common, random_col=0, quadrature=quadrature, estimate_tau=k > 1
    )
    warnings += _one_arm_warnings(data, rows, group, labels, "its own intercept")
    if fit.at_boundary:
        warnings.append("tau2 was estimated on its boundary (0): no between-trial variation of the treatment effect.")
    if not fit.converged:
        warnings.append("The maximum likelihood fit did not converge; the estimates may be unreliable.")
    method = "Laplace approximation" if quadrature == 1 else f"adaptive Gauss-Hermite quadrature, {quadrature} nodes"
    return {
        "pooled": _wald(fit.coef[0], np.sqrt(fit.cov[0, 0]), k),
        "heterogeneity": {"tau2": fit.tau2} if k > 1 else None,
        "interaction": _interaction_blocks(fit.coef, fit.cov) if interaction else None,
        "convergence": {
            "model": f"logistic mixed model, maximum likelihood ({method})",
            "optimiser": "Newton-Raphson with step halving on the exact gradient; Hessian by differences of it",
            "iterations": fit.iterations,
            "converged": fit.converged,
            "gradient_norm": fit.gradient_norm,
            "loglik": fit.loglik,
            "quadrature": quadrature,
            "binomial_cells": fit.cells,
        },
        "warnings": warnings,
    }


def _fit_hr(data: Prepared, adjust, interaction) -> dict:
    rows = np.arange(data.n_rows)
    group, k = data.trial_index, len(data.trials)
    _require_both_arms(data, rows)
    _check_interaction_varies(data, rows, group, k, interaction)
    nuisance, common, rank_warnings = _design(data, rows, group, data.trials, adjust, interaction)
    if nuisance.shape[1]:
        fit = cox_efron_stratum_specific(data.time, data.event, common, nuisance, group)
    else:
        fit = cox_efron(data.time, data.event, common, group)
    events = np.bincount(group, weights=data.event, minlength=k)
    warnings = [
        f"Trial {data.trials[i]} has no events: it adds nothing to the Cox model." for i in np.flatnonzero(events == 0)
    ]
    warnings += rank_warnings + _one_arm_warnings(data, rows, group, data.trials, "its own covariate terms")
    if not fit.converged:
        warnings.append("The Cox model did not converge (an arm without events?); the estimates may be unreliable.")
    return {
        "pooled": _wald(fit.coef[0], np.sqrt(fit.cov[0, 0]), int((events > 0).sum())),
        "heterogeneity": None,
        "interaction": _interaction_blocks(fit.coef, fit.cov) if interaction else None,
        "convergence": {
            "model": "Cox model stratified by trial, Efron ties",
            "optimiser": "Newton-Raphson with step halving",
            "iterations": fit.iterations,
            "converged": fit.converged,
            "gradient_norm": fit.score_norm,
            "loglik": fit.loglik,
        },
        "warnings": warnings,
    }


MEASURES = {"continuous": "MD", "binary": "OR", "survival": "HR"}


def fit_one_stage(
    data: Prepared, *, measure: str, adjust: list[str], interaction: str | None, quadrature: int = 1
) -> dict:
    """The one-stage model for the measure: pooled treatment effect, tau2, interactions, convergence, warnings."""
    adjust = list(adjust or [])
    if measure == "MD":
        result = _fit_md(data, adjust, interaction)
    elif measure == "OR":
        result = _fit_or(data, adjust, interaction, int(quadrature or 1))
    elif measure == "HR":
        result = _fit_hr(data, adjust, interaction)
    else:
        raise AnalysisError(
            f"One-stage analyses estimate MD, OR or HR; {measure} is only available as a two-stage analysis."
        )
    if interaction:
        result["interaction"]["covariate"] = interaction
    if result["pooled"]["k"] == 1:
        result["warnings"].append(
            "Only one trial contributes: the pooled effect is that trial's, and there is no between-trial "
            "variation to estimate (tau2 is not estimated)."
        )
    return result
