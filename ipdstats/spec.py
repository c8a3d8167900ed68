"""The analysis spec: checked once, turned into a typed object the rest of the engine trusts."""

import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AnalysisError

OUTCOMES = ("continuous", "binary", "survival")
MEASURES = {"continuous": ("MD",), "binary": ("OR", "RR", "RD"), "survival": ("HR",)}
DEFAULT_MEASURE = {"continuous": "MD", "binary": "OR", "survival": "HR"}
APPROACHES = ("two-stage", "one-stage")
TAU2_METHODS = ("FE", "DL", "REML", "PM", "ML", "HE", "SJ", "EB")
CI_METHODS = ("wald", "hksj")
SPEC_KEYS = (
    "data",
    "outcome",
    "columns",
    "measure",
    "approach",
    "tau2",
    "ci",
    "adjust",
    "interaction",
    "quadrature",
    "aggregate",
)
COLUMN_ROLES = {
    "continuous": ("trial", "treatment", "outcome"),
    "binary": ("trial", "treatment", "outcome"),
    "survival": ("trial", "treatment", "time", "event"),
}
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


@dataclass(frozen=True)
class AggregateTrial:
    """A published result of a trial that did not share its participant data."""

    trial: str
    estimate: float
    se: float


@dataclass(frozen=True)
class Spec:
    data: Path
    outcome: str
    columns: dict[str, str]
    measure: str
    approach: str
    tau2: str = "REML"
    ci: str = "wald"
    adjust: tuple[str, ...] = ()
    interaction: str | None = None
    quadrature: int = 1
    aggregate: tuple[AggregateTrial, ...] = field(default_factory=tuple)

    def settings(self) -> dict:
        """The resolved method settings, as stored beside each result."""
        settings = {
            "outcome": self.outcome,
            "measure": self.measure,
            "approach": self.approach,
            "columns": dict(self.columns),
            "adjust": list(self.adjust),
            "interaction": self.interaction,
        }
        if self.approach == "two-stage":
            settings |= {"tau2": self.tau2, "ci": self.ci, "aggregate": len(self.aggregate)}
        else:
            settings["quadrature"] = self.quadrature
        return settings


def _choice(raw: dict, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = raw.get(key, default)
    if value is None:
        raise AnalysisError(f"The spec needs '{key}' (one of {', '.join(allowed)}).")
    if value not in allowed:
        raise AnalysisError(f"The spec's '{key}' is {value!r}; allowed values: {', '.join(allowed)}.")
    return value


def _column_name(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise AnalysisError(f"The spec's {where} must be a column name (a non-empty string), not {value!r}.")
    return value


def _columns(raw: dict, outcome: str) -> dict[str, str]:
    columns = raw.get("columns")
    roles = COLUMN_ROLES[outcome]
    if not isinstance(columns, dict):
        raise AnalysisError(f"The spec needs 'columns', an object naming the columns {', '.join(roles)}.")
    for role in columns:
        if role not in roles:
            raise AnalysisError(
                f"The spec's 'columns' has an unknown key '{role}'; for a {outcome} outcome the keys are "
                f"{', '.join(roles)}."
            )
    for role in roles:
        if role not in columns:
            raise AnalysisError(f"The spec's 'columns' needs '{role}' for a {outcome} outcome.")
    return {role: _column_name(columns[role], f"columns.{role}") for role in roles}


def _adjust(raw: dict) -> tuple[str, ...]:
    adjust = raw.get("adjust", [])
    if adjust is None:
        return ()
    if isinstance(adjust, str):
        adjust = [adjust]
    if not isinstance(adjust, list):
        raise AnalysisError(f"The spec's 'adjust' must be a list of column names, not {adjust!r}.")
    names = tuple(_column_name(name, "'adjust'") for name in adjust)
    if len(set(names)) != len(names):
        raise AnalysisError("The spec's 'adjust' names a column twice.")
    return names


def _quadrature(raw: dict) -> int:
    value = raw.get("quadrature", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AnalysisError(f"The spec's 'quadrature' must be an integer >= 1 (1 = Laplace), not {value!r}.")
    return value


def _number(item: dict, key: str, position: int) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnalysisError(f"The spec's aggregate[{position}] needs a finite number '{key}', not {value!r}.")
    return float(value)


def _aggregate(raw: dict) -> tuple[AggregateTrial, ...]:
    items = raw.get("aggregate", [])
    if items is None:
        return ()
    if not isinstance(items, list):
        raise AnalysisError("The spec's 'aggregate' must be a list of {trial, estimate, se} objects.")
    trials = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise AnalysisError(f"The spec's aggregate[{position}] must be an object with trial, estimate and se.")
        for key in item:
            if key not in ("trial", "estimate", "se"):
                raise AnalysisError(
                    f"The spec's aggregate[{position}] has an unknown key '{key}'; the keys are trial, estimate, se."
                )
        if item.get("trial") in (None, ""):
            raise AnalysisError(f"The spec's aggregate[{position}] needs a 'trial' label.")
        se = _number(item, "se", position)
        if se <= 0:
            raise AnalysisError(f"The spec's aggregate[{position}] (trial {item['trial']}) has se {se}, not > 0.")
        trials.append(AggregateTrial(str(item["trial"]), _number(item, "estimate", position), se))
    labels = [trial.trial for trial in trials]
    if len(set(labels)) != len(labels):
        raise AnalysisError("The spec's 'aggregate' lists a trial twice.")
    return tuple(trials)


def _data_path(raw: dict, base_dir: Path) -> Path:
    value = raw.get("data")
    if not isinstance(value, str) or not value:
        raise AnalysisError("The spec needs 'data', the path of a CSV (.csv, .csv.gz) or Parquet file.")
    path = Path(value)
    if not path.is_absolute():
        path = Path(base_dir) / path
    if not path.name.lower().endswith(DATA_SUFFIXES):
        raise AnalysisError(f"The data file {value} is neither CSV (.csv, .csv.gz) nor Parquet (.parquet).")
    if not path.is_file():
        raise AnalysisError(f"The data file {path} does not exist.")
    return path


# What `Spec.data` says when the rows were handed over in memory rather than named by a file.
IN_MEMORY = Path("<rows in memory>")


def parse_spec(raw: dict, base_dir: Path | None, *, in_memory: bool = False) -> Spec:
    """Checks a spec dict and resolves its defaults; `data` is relative to `base_dir` (the spec file's folder).

    With `in_memory`, the rows come with the call instead (ipdstats.engine.run_table): the spec names no `data`.
    """
    if not isinstance(raw, dict):
        raise AnalysisError("A spec must be a JSON object.")
    for key in raw:
        if key not in SPEC_KEYS:
            raise AnalysisError(f"The spec has an unknown key '{key}'; the known keys are {', '.join(SPEC_KEYS)}.")
    if in_memory and "data" in raw:
        raise AnalysisError("The spec names a 'data' file, but its rows were given in memory; leave 'data' out.")
    outcome = _choice(raw, "outcome", OUTCOMES)
    measure = _choice(raw, "measure", MEASURES[outcome], DEFAULT_MEASURE[outcome])
    approach = _choice(raw, "approach", APPROACHES, "two-stage")
    tau2 = _choice(raw, "tau2", TAU2_METHODS, "REML")
    ci = _choice(raw, "ci", CI_METHODS, "wald")
    columns = _columns(raw, outcome)
    adjust = _adjust(raw)
    interaction = raw.get("interaction")
    if interaction is not None:
        interaction = _column_name(interaction, "'interaction'")
    used = set(columns.values())
    for name in (*adjust, *([interaction] if interaction else [])):
        if name in used:
            raise AnalysisError(f"The column '{name}' is already used as trial, treatment or outcome.")
    aggregate = _aggregate(raw)
    if aggregate and approach == "one-stage":
        raise AnalysisError("'aggregate' trials can only be pooled by a two-stage analysis.")
    return Spec(
        data=IN_MEMORY if in_memory else _data_path(raw, base_dir),
        outcome=outcome,
        columns=columns,
        measure=measure,
        approach=approach,
        tau2=tau2,
        ci=ci,
        adjust=adjust,
        interaction=interaction,
        quadrature=_quadrature(raw),
        aggregate=aggregate,
    )
