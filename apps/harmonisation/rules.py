"""Mapping rules applied to a DataFrame: plain data in, the harmonised column, its flags and its counts out.

Nothing here touches the database, so the apply job, the editor's preview and the tests share one code path.
Values that do not fit the target (out of range, not an allowed code, a source code the recode does not cover,
text that is not a number) are flagged in the target's flag column, never dropped: a value that can be kept is
kept, and a value that cannot is named in its flag.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from apps.core.errors import ApplicationError
from apps.harmonisation import expressions, units

DIRECT = "direct"
RECODE = "recode"
UNIT_CONVERSION = "unit_conversion"
LINEAR_SCALE = "linear_scale"
EXPRESSION = "expression"
TREATMENT_ARMS = "treatment_arms"
IMPOSSIBLE = "impossible"
UNDETERMINED = "undetermined"
CATEGORIES = (DIRECT, RECODE, UNIT_CONVERSION, LINEAR_SCALE, EXPRESSION, TREATMENT_ARMS, IMPOSSIBLE, UNDETERMINED)
# Categories that read exactly one source variable.
_ONE_SOURCE = {DIRECT, RECODE, UNIT_CONVERSION, LINEAR_SCALE, TREATMENT_ARMS}

TEXT, INTEGER, NUMBER, DATE, CATEGORY = "text", "integer", "number", "date", "category"
TYPES = (TEXT, INTEGER, NUMBER, DATE, CATEGORY)

SOURCE_ROW = "source_row"
FLAG_SUFFIX = "__flag"


class RuleError(ApplicationError):
    def __init__(self, message: str, *, field_name: str = "parameters"):
        super().__init__(message, code="invalid_rule", details={field_name: [message]})


@dataclass(frozen=True)
class Target:
    """What a schema variable asks of its values."""

    name: str
    type: str = NUMBER
    unit: str = ""
    allowed_values: tuple = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Rule:
    target: str
    category: str
    source_variables: tuple[str, ...] = ()
    parameters: dict = field(default_factory=dict)
    key: str = ""  # the stored rule's id, so counts can be tied back to it


@dataclass
class Outcome:
    values: pd.Series
    flags: pd.Series
    stats: dict
    executable: str
    units_from: str = ""
    units_to: str = ""
    factor: float | None = None
    offset: float | None = None


def code_key(value) -> str | None:
    """A code as text, so that 1, 1.0 and "1" match the same recode entry."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


def check_rule(rule: Rule, target: Target, columns: list[str] | None = None) -> Rule:
    """Refuse a rule that cannot run; return it with its source variables filled in for expressions."""
    if rule.category not in CATEGORIES:
        raise RuleError(
            f"Unknown rule category {rule.category!r}; use one of {', '.join(CATEGORIES)}.", field_name="category"
        )
    sources = tuple(rule.source_variables)
    parameters = dict(rule.parameters or {})
    if rule.category == EXPRESSION:
        parsed = expressions.parse(str(parameters.get("expression", "")), columns=columns)
        sources = parsed.columns
    elif rule.category in _ONE_SOURCE:
        if len(sources) != 1:
            raise RuleError(
                f"A {_label(rule.category)} rule reads exactly one source variable.", field_name="source_variables"
            )
        if columns is not None and sources[0] not in columns:
            raise RuleError(
                f"Unknown source variable {sources[0]!r} in this dataset version.", field_name="source_variables"
            )
    elif sources:
        raise RuleError(f"An {_label(rule.category)} rule reads no source variable.", field_name="source_variables")
    _check_parameters(rule.category, parameters, target)
    return Rule(
        target=rule.target, category=rule.category, source_variables=sources, parameters=parameters, key=rule.key
    )


def _label(category: str) -> str:
    return category.replace("_", " ")


def _check_parameters(category: str, parameters: dict, target: Target) -> None:
    if category in (RECODE, TREATMENT_ARMS):
        name = "arms" if category == TREATMENT_ARMS else "map"
        mapping = parameters.get(name)
        if not isinstance(mapping, dict) or not mapping:
            raise RuleError(f'A {_label(category)} rule needs "{name}": {{source code: target code, ...}}.')
        if target.allowed_values:
            allowed = {code_key(v) for v in target.allowed_values}
            outside = sorted({str(v) for v in mapping.values() if v is not None and code_key(v) not in allowed})
            if outside:
                raise RuleError(f"Not allowed codes for {target.name}: {', '.join(outside)}.")
        missing = parameters.get("missing", [])
        if not isinstance(missing, list):
            raise RuleError('"missing" lists the source codes that mean missing.')
    elif category == UNIT_CONVERSION:
        units.conversion(
            str(parameters.get("from", "")),
            str(parameters.get("to") or target.unit),
            analyte=str(parameters.get("analyte", "")),
        )
    elif category == LINEAR_SCALE:
        for name in ("slope", "intercept"):
            value = parameters.get(name, 0.0 if name == "intercept" else None)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise RuleError(f'A linear scale rule needs a finite number "{name}".')
        if not str(parameters.get("source", "")).strip():
            raise RuleError('A linear scale rule needs "source": the citation of the published equating.')


def apply_rule(rule: Rule, target: Target, frame: pd.DataFrame) -> Outcome:
    """The target column computed from `frame` by `rule`, coerced to the target's type and checked."""
    rule = check_rule(rule, target, list(frame.columns))
    flags = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    outcome = _compute(rule, target, frame, flags)
    outcome.values, outcome.flags = _coerce(outcome.values, target, flags)
    outcome.values, outcome.flags, out_of_range = _check_range(outcome.values, target, outcome.flags)
    present = outcome.values.notna()
    outcome.stats.update(
        rows=len(frame),
        rows_affected=int(present.sum()),
        missing=int((~present).sum()),
        out_of_range=out_of_range,
        flagged=int(outcome.flags.notna().sum()),
    )
    return outcome


@dataclass(frozen=True)
class Description:
    """The rule as the log shows it: the executable text, and for conversions the units and the factor."""

    executable: str
    units_from: str = ""
    units_to: str = ""
    factor: float | None = None
    offset: float | None = None
    convention: str = ""


def describe(rule: Rule, target: Target) -> Description:
    """The rule in words a reviewer can re-run by hand; it needs no data."""
    name, parameters = target.name, rule.parameters
    source = _quote(rule.source_variables[0]) if rule.category in _ONE_SOURCE and rule.source_variables else ""
    if rule.category == DIRECT:
        return Description(f"{name} = {source}")
    if rule.category in (RECODE, TREATMENT_ARMS):
        pairs = ", ".join(f"{k!r}: {v!r}" for k, v in parameters.get(_recode_key(rule), {}).items())
        text = f"{name} = recode({source}, {{{pairs}}})"
        missing = parameters.get("missing") or []
        return Description(text + (f"; missing: {', '.join(str(code) for code in missing)}" if missing else ""))
    if rule.category == UNIT_CONVERSION:
        conversion = _conversion(rule, target)
        offset = f" + {conversion.offset:.10g}" if conversion.offset else ""
        return Description(
            f"{name} = {source} * {conversion.factor:.10g}{offset}",
            units_from=conversion.from_unit,
            units_to=conversion.to_unit,
            factor=conversion.factor,
            offset=conversion.offset,
            convention=conversion.convention,
        )
    if rule.category == LINEAR_SCALE:
        slope, intercept = float(parameters["slope"]), float(parameters.get("intercept", 0.0))
        return Description(
            f"{name} = {slope:.10g} * {source} + {intercept:.10g}  [{parameters['source']}]",
            factor=slope,
            offset=intercept,
            convention=str(parameters["source"]),
        )
    if rule.category == EXPRESSION:
        return Description(f"{name} = {parameters['expression']}")
    return Description(f"{name} = missing ({_label(rule.category)})")


def _recode_key(rule: Rule) -> str:
    return "arms" if rule.category == TREATMENT_ARMS else "map"


def _conversion(rule: Rule, target: Target) -> units.Conversion:
    parameters = rule.parameters
    return units.conversion(
        parameters["from"], parameters.get("to") or target.unit, analyte=parameters.get("analyte", "")
    )


def _compute(rule: Rule, target: Target, frame: pd.DataFrame, flags: pd.Series) -> Outcome:
    description = describe(rule, target)
    source = frame[rule.source_variables[0]] if rule.category in _ONE_SOURCE else None
    stats: dict = {}
    if rule.category == DIRECT:
        values = source
    elif rule.category in (RECODE, TREATMENT_ARMS):
        values = _recode(rule, source, flags, stats)
    elif rule.category in (UNIT_CONVERSION, LINEAR_SCALE):
        values = _to_numbers(source, flags) * description.factor + (description.offset or 0.0)
    elif rule.category == EXPRESSION:
        values = expressions.evaluate(rule.parameters["expression"], frame)
    else:
        values = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return Outcome(
        values,
        flags,
        stats,
        description.executable,
        units_from=description.units_from,
        units_to=description.units_to,
        factor=description.factor,
        offset=description.offset,
    )


def _quote(name: str) -> str:
    return name if name.isidentifier() else f'col("{name}")'


def _recode(rule: Rule, source: pd.Series, flags: pd.Series, stats: dict) -> pd.Series:
    mapping = {code_key(k): v for k, v in rule.parameters[_recode_key(rule)].items()}
    missing_codes = {code_key(v) for v in rule.parameters.get("missing", [])}
    keys = _code_keys(source)
    values = _per_distinct(keys, mapping.get)
    unmapped = keys.notna() & ~keys.isin(list(mapping)) & ~keys.isin(list(missing_codes))
    flags[unmapped] = keys[unmapped].map(lambda k: f"unmapped source value {k!r}")
    stats["unmapped"] = int(unmapped.sum())
    return values


def _per_distinct(values: pd.Series, function) -> pd.Series:
    """function(value) for every value, computed once per distinct value (a million rows hold few codes)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    results = np.empty(len(distinct) + 1, dtype=object)
    results[: len(distinct)] = [function(value) for value in distinct]
    results[-1] = None  # factorize marks missing values with -1, the last slot
    return pd.Series(results[codes], index=values.index, dtype=object)


def _code_keys(values: pd.Series) -> pd.Series:
    return _per_distinct(values, code_key)


def _to_numbers(values: pd.Series, flags: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = values.notna() & numbers.isna()
    flags[bad & flags.isna()] = values[bad & flags.isna()].map(lambda v: f"not a number: {str(v)[:40]!r}")
    return numbers


def _coerce(values: pd.Series, target: Target, flags: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The values in the target's type; a value that cannot be converted is named in its flag."""
    values = pd.Series(values, index=flags.index)
    if target.type in (NUMBER, INTEGER):
        if pd.api.types.is_bool_dtype(values.dtype):
            values = values.astype("Float64")
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        bad = values.notna() & numbers.isna() & flags.isna()
        flags[bad] = values[bad].map(lambda v: f"not a number: {str(v)[:40]!r}")
        if target.type == INTEGER:
            fractional = numbers.notna() & (numbers != np.round(numbers)) & flags.isna()
            flags[fractional] = numbers[fractional].map(lambda v: f"not a whole number: {v:g}")
            return numbers.where(~fractional, np.nan).round().astype("Int64"), flags
        return numbers, flags
    if target.type == DATE:
        dates = pd.to_datetime(values, errors="coerce")
        bad = values.notna() & dates.isna() & flags.isna()
        flags[bad] = values[bad].map(lambda v: f"not a date: {str(v)[:40]!r}")
        return dates, flags
    if target.type == CATEGORY:
        return _code_keys(values).astype("string"), flags
    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
        return values.astype("string"), flags
    return _per_distinct(values, str).astype("string"), flags


def _check_range(values: pd.Series, target: Target, flags: pd.Series) -> tuple[pd.Series, pd.Series, int]:
    """Flag values below the minimum, above the maximum or outside the allowed codes; keep them all."""
    outside = pd.Series(False, index=values.index)
    if target.type in (NUMBER, INTEGER):
        numbers = values.astype("float64")
        if target.minimum is not None:
            low = (numbers < target.minimum).fillna(False)
            flags[low & flags.isna()] = numbers[low & flags.isna()].map(
                lambda v: f"below minimum {target.minimum:g}: {v:g}"
            )
            outside |= low
        if target.maximum is not None:
            high = (numbers > target.maximum).fillna(False)
            flags[high & flags.isna()] = numbers[high & flags.isna()].map(
                lambda v: f"above maximum {target.maximum:g}: {v:g}"
            )
            outside |= high
    if target.allowed_values:
        allowed = {code_key(v) for v in target.allowed_values}
        keys = _code_keys(values)
        not_allowed = keys.notna() & ~keys.isin(list(allowed))
        flags[not_allowed & flags.isna()] = keys[not_allowed & flags.isna()].map(
            lambda k: f"not an allowed value: {k!r}"
        )
        outside |= not_allowed
    return values, flags, int(outside.sum())


def harmonise(frame: pd.DataFrame, targets: list[Target], rules: list[Rule]) -> tuple[pd.DataFrame, dict[str, Outcome]]:
    """The harmonised table: the source row number, then each target and its flag column, in schema order.

    Targets without a rule are left out; the log lists them as without a rule.
    """
    by_target = {rule.target: rule for rule in rules}
    columns: dict[str, pd.Series] = {SOURCE_ROW: pd.Series(np.arange(1, len(frame) + 1), index=frame.index)}
    outcomes: dict[str, Outcome] = {}
    for target in targets:
        rule = by_target.get(target.name)
        if rule is None:
            continue
        outcome = apply_rule(rule, target, frame)
        outcomes[target.name] = outcome
        columns[target.name] = outcome.values
        columns[target.name + FLAG_SUFFIX] = outcome.flags.astype("string")
    table = pd.DataFrame(columns).reset_index(drop=True)
    return table, outcomes
