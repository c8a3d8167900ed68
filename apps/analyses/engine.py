"""The one bridge from the analyses to the statistics engine: plain rows and specs in, the engine's results out.

Everything else in the app speaks to ipdstats through these functions, so the engine's version, its error
sentences and its result objects reach the runs unchanged.
"""

import time

import numpy as np

# Loaded here, once per process, rather than by the first run a worker takes (a tenth of a second or more).
import ipdstats.onestage  # noqa: F401
import ipdstats.twostage  # noqa: F401
from ipdstats import __version__ as ENGINE_VERSION
from ipdstats.distributions import normal_sf
from ipdstats.engine import json_safe, run_table
from ipdstats.errors import AnalysisError
from ipdstats.pooling import pool

__all__ = ["ENGINE_VERSION", "pool_rows", "run_spec_on_rows", "two_sided_p"]


def run_spec_on_rows(spec: dict, rows) -> tuple[dict, float]:
    """The engine's result for `spec` (without `data`) on `rows` (a DataFrame or an Arrow table), and the
    seconds it took; an analysis the engine refuses gives {"error": its sentence}.

    Anything else (a time limit, memory, a defect) is raised to the job, which fails or retries it: a run must
    never be stored as succeeded with a variant that did not really run.
    """
    started = time.perf_counter()
    try:
        result = run_table(spec, rows)
    except AnalysisError as error:
        result = {"error": str(error)}
    return result, time.perf_counter() - started


def pool_rows(rows: list[dict], *, tau2: str, ci: str) -> dict:
    """Stage two alone, on stage-one rows ({"estimate", "se", "excluded"}): what the engine's two-stage analysis
    would give from them, or {"error": sentence}."""
    used = [row for row in rows if not row.get("excluded") and row.get("estimate") is not None]
    if not used:
        return {"error": "No trial is left to pool."}
    try:
        pooled = pool(
            np.array([row["estimate"] for row in used], dtype=float),
            np.array([row["se"] for row in used], dtype=float) ** 2,
            tau2_method=tau2,
            ci_method=ci,
        )
    except AnalysisError as error:
        return {"error": str(error)}
    return json_safe(
        {
            "k": pooled.k,
            "pooled": pooled.pooled_dict(),
            "heterogeneity": pooled.heterogeneity_dict(),
            "prediction_interval": pooled.prediction_interval,
            "warnings": pooled.warnings,
        }
    )


def two_sided_p(z: float) -> float:
    """The two-sided normal p-value of a z statistic."""
    return 2 * normal_sf(abs(z))
