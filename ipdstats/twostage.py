"""Two-stage IPD meta-analysis: stage one per trial (effects.py), stage two pooling (pooling.py)."""

import numpy as np

from .data import Prepared
from .effects import TrialEffects, interaction_effects, treatment_effects
from .errors import AnalysisError
from .pooling import Pooled, pool
from .spec import Spec


def _per_trial_rows(effects: TrialEffects) -> list[dict]:
    return [
        {
            "trial": trial,
            "n": int(n),
            "estimate": None if reason else float(estimate),
            "se": None if reason else float(se),
            "excluded": reason is not None,
            "reason": reason,
            "source": "ipd",
        }
        for trial, n, estimate, se, reason in zip(
            effects.trials, effects.n, effects.estimate, effects.se, effects.reasons, strict=True
        )
    ]


def _aggregate_rows(spec: Spec, ipd_trials: list[str]) -> list[dict]:
    rows = []
    for item in spec.aggregate:
        if item.trial in ipd_trials:
            raise AnalysisError(f"The aggregate trial '{item.trial}' also has participant data; list each trial once.")
        rows.append(
            {
                "trial": item.trial,
                "n": None,
                "estimate": item.estimate,
                "se": item.se,
                "excluded": False,
                "reason": None,
                "source": "aggregate",
            }
        )
    return rows


def _exclusion_warnings(rows: list[dict], prefix: str = "") -> list[str]:
    return [f"{prefix}Trial {row['trial']} was excluded: {row['reason']}." for row in rows if row["excluded"]]


def _pool_rows(rows: list[dict], spec: Spec, what: str) -> Pooled:
    included = [row for row in rows if not row["excluded"]]
    if not included:
        reasons = "; ".join(f"{row['trial']}: {row['reason']}" for row in rows)
        raise AnalysisError(f"No trial can be pooled for the {what}: every trial was excluded ({reasons}).")
    estimates = np.array([row["estimate"] for row in included])
    variances = np.array([row["se"] for row in included]) ** 2
    return pool(estimates, variances, tau2_method=spec.tau2, ci_method=spec.ci)


def _interaction_block(data: Prepared, spec: Spec) -> tuple[dict, list[str], dict]:
    effects = interaction_effects(
        data, spec.measure, spec.interaction, data.model_columns(spec.adjust, spec.interaction)
    )
    rows = _per_trial_rows(effects)
    pooled = _pool_rows(rows, spec, f"interaction of treatment with {spec.interaction}")
    block = {
        "covariate": spec.interaction,
        "per_trial": rows,
        "pooled": pooled.pooled_dict(),
        "heterogeneity": pooled.heterogeneity_dict(),
        "prediction_interval": pooled.prediction_interval,
    }
    notes = effects.left_out_warnings() + pooled.warnings
    warnings = _exclusion_warnings(rows, "Interaction: ") + [f"Interaction: {text}" for text in notes]
    return block, warnings, {"tau2": pooled.convergence_dict(), "stage_one": effects.convergence}


def run_two_stage(data: Prepared, spec: Spec) -> dict:
    """Per-trial estimates, the pooled effect with its heterogeneity, and the pooled within-trial interaction."""
    effects = treatment_effects(data, spec.measure, data.model_columns(spec.adjust))
    rows = _per_trial_rows(effects) + _aggregate_rows(spec, effects.trials)
    pooled = _pool_rows(rows, spec, "treatment effect")
    warnings = _exclusion_warnings(rows) + effects.left_out_warnings() + pooled.warnings
    convergence = {"tau2": pooled.convergence_dict(), "stage_one": effects.convergence}
    interaction = None
    if spec.interaction:
        interaction, more_warnings, convergence["interaction"] = _interaction_block(data, spec)
        warnings += more_warnings
    return {
        "per_trial": rows,
        "pooled": pooled.pooled_dict(),
        "heterogeneity": pooled.heterogeneity_dict(),
        "prediction_interval": pooled.prediction_interval,
        "interaction": interaction,
        "warnings": warnings,
        "convergence": convergence,
    }
