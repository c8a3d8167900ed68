"""The engine's one entry point: a spec in, a JSON-safe result out."""

import math
from pathlib import Path

import numpy as np

from . import __version__
from .data import Prepared, load, prepare
from .errors import AnalysisError
from .spec import Spec, parse_spec

ENGINE_NAME = "ipdstats"


def json_safe(value):
    """Plain JSON types only: numpy scalars become Python numbers, NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return [json_safe(item) for item in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _missing_rows_warning(data: Prepared) -> list[str]:
    if not data.rows_dropped:
        return []
    plural = "s were" if data.rows_dropped > 1 else " was"
    return [f"{data.rows_dropped} row{plural} left out for a missing value in a column the analysis uses."]


def _text_column_warnings(spec: Spec, data: Prepared) -> list[str]:
    """How each text column was coded, in the words of the original column."""
    notes = []
    for name, levels in data.factor_levels.items():
        if name == spec.interaction:
            notes.append(
                f"The interaction column '{name}' holds text: it was coded 0 = {levels[0]!r}, 1 = {levels[1]!r}."
            )
        if name in data.indicators:
            notes.append(
                f"The adjustment column '{name}' holds text: it was coded as R codes a factor, reference level "
                f"{levels[0]!r}, one indicator for each other level ({', '.join(data.indicators[name])})."
            )
    return notes


def analyse(spec: Spec, data: Prepared) -> dict:
    """Runs the analysis the spec asks for on prepared rows."""
    if spec.approach == "one-stage":
        try:
            from .onestage import fit_one_stage
        except ImportError:
            raise AnalysisError("One-stage analyses are not available in this version of the engine.")
        fitted = fit_one_stage(
            data,
            measure=spec.measure,
            adjust=data.model_columns(spec.adjust, spec.interaction),
            interaction=spec.interaction,
            quadrature=spec.quadrature,
        )
    else:
        from .twostage import run_two_stage

        fitted = run_two_stage(data, spec)
    result = {
        "per_trial": fitted.get("per_trial"),
        "pooled": fitted.get("pooled"),
        "heterogeneity": fitted.get("heterogeneity"),
        "prediction_interval": fitted.get("prediction_interval"),
        "interaction": fitted.get("interaction"),
        "warnings": _missing_rows_warning(data) + _text_column_warnings(spec, data) + list(fitted.get("warnings", [])),
        "convergence": fitted.get("convergence", {}),
        "engine": {"name": ENGINE_NAME, "version": __version__},
        "settings": spec.settings()
        | {"data": str(spec.data), "participants": data.n_rows}
        | ({"factor_levels": data.factor_levels} if data.factor_levels else {}),
    }
    return json_safe(result)


def run_spec(spec: dict, base_dir: Path) -> dict:
    """Validates one spec dict, loads its data and returns the result; raises AnalysisError for bad input."""
    parsed = parse_spec(spec, Path(base_dir))
    return analyse(parsed, load(parsed))


def run_table(spec: dict, table) -> dict:
    """As run_spec, on rows already in memory (a pyarrow Table or a pandas DataFrame); the spec names no `data`."""
    parsed = parse_spec(spec, None, in_memory=True)
    return analyse(parsed, prepare(table, parsed))


def run_spec_safely(spec: dict, base_dir: Path) -> dict:
    """As run_spec, but a failed analysis gives {"error": sentence} instead of raising."""
    return safely(run_spec, spec, base_dir)


def safely(run, *arguments) -> dict:
    """The result of `run(*arguments)`, or {"error": sentence} when the analysis cannot be run."""
    try:
        return run(*arguments)
    except AnalysisError as error:
        return {"error": str(error)}
    except MemoryError:
        return {"error": "The analysis ran out of memory."}
    except Exception as error:  # a defect of the engine: still one answer per spec, never a traceback
        return {"error": f"The engine failed on this analysis ({type(error).__name__}: {error})."}
