"""The scales results are read on: ratios (OR, RR, HR) are estimated on the log scale and shown exponentiated;
95% intervals are estimate +/- 1.959964 SE (the normal quantile, as the engine and R use it)."""

import math

RATIO_MEASURES = frozenset({"OR", "RR", "HR"})
Z_95 = 1.959964


def is_ratio(measure: str) -> bool:
    return measure in RATIO_MEASURES


def on_scale(value, measure: str):
    """A value of the engine's scale (log for ratios) on the measure's own."""
    if value is None:
        return None
    return math.exp(value) if is_ratio(measure) else value


def wald_interval(estimate: float, se: float) -> tuple[float, float]:
    return estimate - Z_95 * se, estimate + Z_95 * se
