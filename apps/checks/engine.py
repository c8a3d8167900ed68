"""The one bridge from the integrity checks to the statistics engine: a trial's stage-one estimate.

The published primary analysis is re-derived with exactly the estimators the analyses use (ipdstats.effects),
so a "reproduced" verdict means the review's own pipeline gives the published number.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ipdstats import __version__ as ENGINE_VERSION
from ipdstats.data import prepare
from ipdstats.effects import treatment_effects
from ipdstats.errors import AnalysisError
from ipdstats.spec import Spec

OUTCOME_KIND = {"MD": "continuous", "OR": "binary", "RR": "binary", "RD": "binary", "HR": "survival"}
# Measures estimated on the log scale by the engine and published on the ratio scale.
RATIO_MEASURES = frozenset({"OR", "RR", "HR"})

TRIAL, TREAT, OUTCOME, TIME, EVENT = "trial", "treat", "outcome", "time", "event"


@dataclass(frozen=True)
class StageOne:
    """One trial's treatment effect on the engine's scale (log for ratios), or the reason there is none."""

    estimate: float | None
    se: float | None
    n: int
    reason: str | None
    engine_version: str = ENGINE_VERSION


def stage_one(
    *,
    measure: str,
    treat: np.ndarray,
    outcome: np.ndarray | None = None,
    time: np.ndarray | None = None,
    event: np.ndarray | None = None,
) -> StageOne:
    """The unadjusted stage-one estimate of one trial; `treat` is 1 for intervention and 0 for control."""
    kind = OUTCOME_KIND[measure]
    columns = {"trial": TRIAL, "treatment": TREAT}
    frame = {TRIAL: np.zeros(len(treat), dtype=np.int64), TREAT: np.asarray(treat, dtype=float)}
    if kind == "survival":
        columns |= {"time": TIME, "event": EVENT}
        frame |= {TIME: np.asarray(time, dtype=float), EVENT: np.asarray(event, dtype=float)}
    else:
        columns["outcome"] = OUTCOME
        frame[OUTCOME] = np.asarray(outcome, dtype=float)
    spec = Spec(data=Path("harmonised-table"), outcome=kind, columns=columns, measure=measure, approach="two-stage")
    try:
        prepared = prepare(pd.DataFrame(frame), spec)
        effects = treatment_effects(prepared, measure, [])
    except AnalysisError as error:
        return StageOne(estimate=None, se=None, n=0, reason=str(error))
    n = int(effects.n[0])
    if effects.reasons[0] is not None:
        return StageOne(estimate=None, se=None, n=n, reason=effects.reasons[0])
    return StageOne(estimate=float(effects.estimate[0]), se=float(effects.se[0]), n=n, reason=None)
