"""Mapping rules applied to a DataFrame: plain data in, the harmonised column, its flags and its counts out.

Nothing here touches the database, so the apply job, the editor's preview and the tests share one code path.
Values that do not fit the target (out of range, not an allowed code, a source code the recode does not cover,
text that is not a number) are flagged in the target's flag column, never dropped: a value that can be kept is
kept, and a value that cannot is named in its flag.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

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
TREATMENT_ROLE = "treatment"
TYPES = (TEXT, INTEGER, NUMBER, DATE, CATEGORY)

SOURCE_ROW = "source_row"
RULE_THREADS = 2
FLAG_SUFFIX = "__flag"
FLAG_EXAMPLES = 5


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
    role: str = ""  # the schema variable's role: "treatment" makes any recode of it an arm mapping


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
    flags: pd.Series | None  # filled in by apply_rule once every check has run
    stats: dict
    executable: str
    units_from: str = ""
    units_to: str = ""
    factor: float | None = None
    offset: float | None = None
    flag_counts: dict = field(default_factory=dict)
    flagged: np.ndarray | None = None  # True where the row carries a flag


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


def check_rule(rule: Rule, target: Target, columns: list[str] | None = None, *, strict: bool = False) -> Rule:
    """Refuse a rule that cannot run; return it with its source variables filled in for expressions. `strict`
    (where a rule is written) also refuses parameters its category does not read; a stored rule runs without
    them."""
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
    _check_parameters(rule.category, parameters, target, strict=strict)
    return Rule(
        target=rule.target, category=rule.category, source_variables=sources, parameters=parameters, key=rule.key
    )


def _label(category: str) -> str:
    return category.replace("_", " ")


# The parameters each category reads; any other is refused, so that a misspelt one ("slop") is not ignored.
PARAMETERS = {
    DIRECT: set(),
    RECODE: {"map", "missing"},
    TREATMENT_ARMS: {"arms", "missing"},
    UNIT_CONVERSION: {"from", "to", "analyte"},
    LINEAR_SCALE: {"slope", "intercept", "source"},
    EXPRESSION: {"expression"},
    IMPOSSIBLE: set(),
    UNDETERMINED: set(),
}


def _check_parameters(category: str, parameters: dict, target: Target, *, strict: bool) -> None:
    unknown = sorted(set(parameters) - PARAMETERS[category])
    if unknown and strict:
        expected = ", ".join(f'"{name}"' for name in sorted(PARAMETERS[category])) or "none"
        listed = ", ".join(unknown)
        raise RuleError(f"Unknown parameters for a {_label(category)} rule: {listed} (it reads {expected}).")
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


def apply_rule(rule: Rule, target: Target, frame: pd.DataFrame, unread: dict | None = None) -> Outcome:
    """The target column computed from `frame` by `rule`, coerced to the target's type and checked.

    `unread` holds, per source column, the text of values the parse could not read (missing in `frame`), the
    reason in the series' name (apps.datasets.selectors.version_unread): the rows are flagged, first.
    """
    rule = check_rule(rule, target, list(frame.columns))
    flags = _Flags(len(frame))
    for name in rule.source_variables:
        values = (unread or {}).get(name)
        if values is not None:
            flags.add(values.notna().to_numpy(), values, _unread_description(name, values.name))
    outcome = _compute(rule, target, frame, flags)
    computed = pd.Series(outcome.values, index=frame.index)
    values = _coerce(computed, target, flags)
    categorical = target.type == CATEGORY and isinstance(computed.dtype, pd.CategoricalDtype)
    out_of_range = _check_range(values, target, flags, computed if categorical else None)
    present = values.notna()
    outcome.values = values
    outcome.flags = flags.series(frame.index)
    outcome.flagged = flags.flagged
    outcome.stats.update(
        rows=len(frame),
        rows_affected=int(present.sum()),
        missing=int((~present).sum()),
        out_of_range=out_of_range,
        flagged=flags.count,
    )
    outcome.flag_counts = flags.counts()
    outcome.stats["flag_examples"] = top_flags(outcome.flag_counts)
    return outcome


def _unread_description(name: str, reason):
    return lambda text: f"{name} not read as {reason}: {str(text)[:40]!r}"


class _Flags:
    """The flag of each row. The first problem found is kept: a later check never overwrites an earlier one.

    A row's flag is held as a position in a list of texts, so a million rows cost no Python objects and a
    column nothing is wrong with costs no list at all.
    """

    def __init__(self, size: int):
        self.flagged = np.zeros(size, dtype=bool)
        self.codes: np.ndarray | None = None
        self.texts: list[str] = []

    def add(self, mask, values: pd.Series, describe) -> None:
        """Flag the rows in `mask` not flagged yet, each with describe(its value)."""
        new = _mask(mask) & ~self.flagged
        if not new.any():
            return
        flagged_values = values[new]
        if flagged_values.dtype == object:
            # Mixed Python values (1, 1.0 and True hash alike) are described one by one.
            codes = np.arange(len(flagged_values))
            texts = [describe(value) for value in flagged_values.tolist()]
        else:
            # A flag repeats its value's text: describe each distinct value once (ages out of range are few).
            codes, distinct = pd.factorize(flagged_values, use_na_sentinel=False)
            texts = [describe(value) for value in distinct.tolist()]
        if self.codes is None:
            self.codes = np.full(len(self.flagged), -1, dtype=np.int64)
        self.codes[new] = codes + len(self.texts)
        self.texts.extend(texts)
        self.flagged |= new

    @property
    def count(self) -> int:
        return int(self.flagged.sum())

    def counts(self) -> dict[str, int]:
        """How many rows carry each flag."""
        if self.codes is None:
            return {}
        counts: dict[str, int] = {}
        per_code = np.bincount(self.codes[self.flagged], minlength=len(self.texts))
        for code in np.flatnonzero(per_code):
            counts[self.texts[code]] = counts.get(self.texts[code], 0) + int(per_code[code])
        return counts

    def series(self, index: pd.Index) -> pd.Series:
        if self.codes is None:
            return pd.Series(pd.arrays.ArrowStringArray(pa.nulls(len(index), pa.large_string())), index=index)
        indices = pa.array(self.codes, mask=~self.flagged)
        texts = pa.array(self.texts, type=pa.large_string())
        column = pa.DictionaryArray.from_arrays(indices, texts).cast(pa.large_string())
        return pd.Series(pd.arrays.ArrowStringArray(column), index=index)


def top_flags(counts: dict[str, int], limit: int = FLAG_EXAMPLES) -> list[list]:
    """The most frequent flags, [text, rows] each, for the preview and the log to name."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [[text, count] for text, count in ranked[:limit]]


def _mask(mask) -> np.ndarray:
    """A plain boolean array from a mask that may hold missing values (missing counts as False)."""
    if isinstance(mask, pd.Series):
        mask = mask.fillna(False) if mask.hasnans else mask
        return mask.to_numpy(dtype=bool)
    return np.asarray(mask, dtype=bool)


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


def in_words(rule: Rule, target: Target) -> str:
    """The rule as a sentence for the editor: "'Drug' → intervention, 'Placebo' → control" rather than code."""
    parameters = rule.parameters
    source = rule.source_variables[0] if rule.category in _ONE_SOURCE and rule.source_variables else ""
    if rule.category == DIRECT:
        return f"Copied from {source} as it is."
    if rule.category in (RECODE, TREATMENT_ARMS):
        pairs = ", ".join(f"'{code}' → {value}" for code, value in parameters.get(_recode_key(rule), {}).items())
        missing = ", ".join(f"'{code}'" for code in parameters.get("missing") or [])
        return f"From {source}: {pairs}." + (f" Read as missing: {missing}." if missing else "")
    if rule.category == UNIT_CONVERSION:
        conversion = _conversion(rule, target)
        offset = f" plus {conversion.offset:.6g}" if conversion.offset else ""
        return (
            f"From {source}, converted from {conversion.from_unit} to {conversion.to_unit} "
            f"(multiplied by {conversion.factor:.6g}{offset})."
        )
    if rule.category == LINEAR_SCALE:
        slope, intercept = float(parameters["slope"]), float(parameters.get("intercept", 0.0))
        return f"From {source}, multiplied by {slope:.6g} plus {intercept:.6g}, as {parameters['source']} gives."
    if rule.category == EXPRESSION:
        return f"Computed as {parameters['expression']}."
    return f"Left missing: the value is {_label(rule.category)} from this trial's data."


def _recode_key(rule: Rule) -> str:
    return "arms" if rule.category == TREATMENT_ARMS else "map"


def _conversion(rule: Rule, target: Target) -> units.Conversion:
    parameters = rule.parameters
    return units.conversion(
        parameters["from"], parameters.get("to") or target.unit, analyte=parameters.get("analyte", "")
    )


def _compute(rule: Rule, target: Target, frame: pd.DataFrame, flags: "_Flags") -> Outcome:
    description = describe(rule, target)
    source = frame[rule.source_variables[0]] if rule.category in _ONE_SOURCE else None
    stats: dict = {}
    if rule.category == DIRECT:
        values = source
    elif rule.category in (RECODE, TREATMENT_ARMS):
        values = _recode(rule, target, source, flags, stats)
    elif rule.category in (UNIT_CONVERSION, LINEAR_SCALE):
        values = _to_numbers(source, flags) * description.factor + (description.offset or 0.0)
    elif rule.category == EXPRESSION:
        values, losses = expressions.evaluate_with_losses(rule.parameters["expression"], frame)
        for loss in losses:
            flags.add(loss.mask, loss.values, loss.describe)
    else:
        values = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return Outcome(
        values,
        None,
        stats,
        description.executable,
        units_from=description.units_from,
        units_to=description.units_to,
        factor=description.factor,
        offset=description.offset,
    )


def _quote(name: str) -> str:
    return name if name.isidentifier() else f'col("{name}")'


def one_arm(parameters: dict) -> str | None:
    """The single arm an arm mapping puts every source code in, when it has two or more codes; else None.

    Such a mapping leaves no comparison: it is never suggested, and flagged where a person writes it.
    """
    arms = parameters.get("arms")
    if not isinstance(arms, dict) or len(arms) < 2:
        return None
    targets = {code_key(value) for value in arms.values() if value is not None}
    return str(next(iter(targets))) if len(targets) == 1 else None


def rule_warnings(rule: Rule, target: Target) -> list[str]:
    """What is wrong with a rule that still runs: shown beside it in the editor, the API and the log."""
    warnings = []
    arm = _single_arm(rule, target)
    if arm is not None:
        warnings.append(f"Every source code is mapped to the arm {arm!r}: the table would hold no comparison.")
    return warnings


def _single_arm(rule: Rule, target: Target) -> str | None:
    """The one arm a rule puts every code of the treatment in: an arm mapping, or any recode of the schema's
    treatment variable; None when the rule leaves a comparison (or the schema itself has one arm)."""
    if rule.category == TREATMENT_ARMS or (rule.category == RECODE and target.role == TREATMENT_ROLE):
        arm = one_arm({"arms": rule.parameters.get(_recode_key(rule))})
        if arm is not None and len({code_key(value) for value in target.allowed_values}) != 1:
            return arm
    return None


def _recode(rule: Rule, target: Target, source: pd.Series, flags: _Flags, stats: dict) -> pd.Series:
    """The recoded values as a categorical: a million rows holding a few codes cost a few dictionary lookups."""
    mapping = {code_key(k): v for k, v in rule.parameters[_recode_key(rule)].items()}
    missing_codes = {code_key(v) for v in rule.parameters.get("missing", [])}
    codes, keys = _factorize_keys(source)
    unmapped = _spread([key not in mapping and key not in missing_codes for key in keys], codes, False)
    if unmapped.any():
        keys_by_row = pd.Series(_spread(keys, codes, None), index=source.index)
        flags.add(unmapped, keys_by_row, lambda key: f"unmapped source value {key!r}")
    arm = _single_arm(rule, target)
    if arm is not None:
        mapped = _spread([key in mapping and mapping[key] is not None for key in keys], codes, False)
        keys_by_row = pd.Series(_spread(keys, codes, None), index=source.index)
        flags.add(mapped, keys_by_row, lambda key: f"every arm code is mapped to {arm!r} (this one: {key!r})")
    stats["unmapped"] = int(unmapped.sum())
    categories = list(dict.fromkeys(value for value in mapping.values() if value is not None))
    position = {value: index for index, value in enumerate(categories)}
    category_codes = _spread([position.get(mapping.get(key), -1) for key in keys], codes, -1).astype("int64")
    return pd.Series(pd.Categorical.from_codes(category_codes, categories=categories), index=source.index)


def _factorize_keys(values: pd.Series) -> tuple[np.ndarray, list]:
    """Each row's position among the distinct values (-1 when missing), and code_key of each distinct value."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    return codes, [code_key(value) for value in distinct]


def _spread(per_distinct: list, codes: np.ndarray, missing) -> np.ndarray:
    """One result per distinct value spread over the rows; rows with a missing value get `missing`."""
    table = np.array([*per_distinct, missing], dtype=object if missing is None else None)
    return table[codes]  # factorize marks a missing value with -1, the last slot


def _text_from_codes(codes: np.ndarray, texts: list, index: pd.Index) -> pd.Series:
    """A string column from row codes into a few distinct texts, built by Arrow without a per-row object."""
    dictionary = pa.array(texts, type=pa.string())
    indices = pa.array(codes.astype("int64"), mask=codes < 0)
    column = pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(column), index=index)


def _keys_as_text(values: pd.Series) -> pd.Series:
    codes, keys = _factorize_keys(values)
    return _text_from_codes(codes, keys, values.index)


def _to_numbers(values: pd.Series, flags: _Flags) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    flags.add(values.notna() & numbers.isna(), values, lambda v: f"not a number: {str(v)[:40]!r}")
    return numbers


def _coerce(values: pd.Series, target: Target, flags: _Flags) -> pd.Series:
    """The values in the target's type; a value that cannot be converted is named in its flag."""
    if isinstance(values.dtype, pd.CategoricalDtype) and target.type in (NUMBER, INTEGER, DATE):
        values = values.astype(object)
    if target.type in (NUMBER, INTEGER):
        if pd.api.types.is_bool_dtype(values.dtype):
            values = values.astype("Float64")
        if _holds_numbers(values):
            # Numbers already: nothing to read, nothing to flag as not a number, and whole numbers stay exact.
            if target.type == INTEGER and pd.api.types.is_signed_integer_dtype(values.dtype):
                return values.astype("Int64")
            numbers = _float_values(values)
        else:
            numbers = pd.to_numeric(values, errors="coerce").astype("float64")
            flags.add(values.notna() & numbers.isna(), values, lambda v: f"not a number: {str(v)[:40]!r}")
        numbers = _without_infinities(numbers, values, flags)
        if target.type == INTEGER:
            fractional = _mask(numbers.notna() & (numbers != np.round(numbers))) & ~flags.flagged
            flags.add(fractional, numbers, lambda v: f"not a whole number: {v:g}")
            # A 64-bit whole number holds less than 2^63: a larger one (1e300) cannot be stored as one.
            too_large = _mask(numbers.abs() >= 2.0**63) & ~fractional
            flags.add(too_large, numbers, lambda v: f"too large for a whole number: {v:g}")
            return numbers.where(~(fractional | too_large), np.nan).round().astype("Int64")
        return numbers
    if target.type == DATE:
        dates = expressions.read_dates(values)
        flags.add(values.notna() & dates.isna(), values, lambda v: f"not a date: {str(v)[:40]!r}")
        return dates
    if target.type == CATEGORY:
        return _keys_as_text(values)
    if isinstance(values.dtype, pd.StringDtype):
        return values
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    return _text_from_codes(codes, [str(value) for value in distinct], values.index)


def _without_infinities(numbers: pd.Series, values: pd.Series, flags: _Flags) -> pd.Series:
    """Infinities ("inf" as text, 1e400, a division by zero in the source) are no measurement: flagged, and
    missing in the table (nor could they be stored as a whole number or sent as JSON)."""
    infinite = np.isinf(numbers.to_numpy())
    if not infinite.any():
        return numbers
    flags.add(infinite, values, lambda v: f"not a finite number: {str(v)[:40]!r}")
    return numbers.where(~infinite, np.nan)


def _holds_numbers(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)


def _float_values(values: pd.Series) -> pd.Series:
    """Numbers as float64, missing as NaN; a float64 column is used as it is, not copied."""
    if values.dtype == np.float64:
        return values
    return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index)


def _check_range(values: pd.Series, target: Target, flags: _Flags, categories: pd.Series | None = None) -> int:
    """Flag values below the minimum, above the maximum or outside the allowed codes; keep them all.

    `categories` is the rule's categorical result that `values` (its codes as text) came from, when there is one.
    """
    outside = np.zeros(len(values), dtype=bool)
    if target.type in (NUMBER, INTEGER):
        numbers = _float_values(values)
        if target.minimum is not None:
            low = _mask(numbers < target.minimum)
            flags.add(low, numbers, lambda v: f"below minimum {target.minimum:g}: {v:g}")
            outside |= low
        if target.maximum is not None:
            high = _mask(numbers > target.maximum)
            flags.add(high, numbers, lambda v: f"above maximum {target.maximum:g}: {v:g}")
            outside |= high
    if target.allowed_values and categories is not None:
        # Recoded codes: judge each category once and spread the verdict over the rows by their codes.
        allowed = {code_key(v) for v in target.allowed_values}
        verdicts = np.array([code_key(v) not in allowed for v in categories.cat.categories] + [False])
        not_allowed = verdicts[categories.cat.codes.to_numpy()]
        if not_allowed.any():
            flags.add(not_allowed, values, lambda key: f"not an allowed value: {key!r}")
        outside |= not_allowed
    elif target.allowed_values:
        allowed = {code_key(v) for v in target.allowed_values}
        codes, keys = _factorize_keys(values)
        not_allowed = _spread([key not in allowed for key in keys], codes, False)
        if not_allowed.any():
            keys_by_row = pd.Series(_spread(keys, codes, None), index=values.index)
            flags.add(not_allowed, keys_by_row, lambda key: f"not an allowed value: {key!r}")
        outside |= not_allowed
    return int(outside.sum())


def columns_read(targets: list[Target], rules: list[Rule], columns: list[str]) -> list[str]:
    """The source columns the rules read, in the source's order; a rule that cannot run is refused here."""
    by_name = {target.name: target for target in targets}
    read = {name for rule in rules for name in check_rule(rule, by_name[rule.target], columns).source_variables}
    return [name for name in columns if name in read]


def harmonise(
    frame: pd.DataFrame,
    targets: list[Target],
    rules: list[Rule],
    *,
    on_progress=None,
    first_row: int = 1,
    unread: dict | None = None,
) -> tuple[pd.DataFrame, dict[str, Outcome]]:
    """The harmonised table: the source row number, then each target and its flag column, in schema order.

    Targets without a rule are left out; the log lists them as without a rule. The rules only read the frame,
    and most of their work is in numpy and Arrow, which release the GIL, so they run in two threads.
    `first_row` is the source row number of the frame's first row (a block of a larger table).
    """
    by_target = {rule.target: rule for rule in rules}
    ruled = [target for target in targets if target.name in by_target]
    rows = np.arange(first_row, first_row + len(frame))
    columns: dict[str, pd.Series] = {SOURCE_ROW: pd.Series(rows, index=frame.index)}
    outcomes: dict[str, Outcome] = {}
    with ThreadPoolExecutor(max_workers=RULE_THREADS) as pool:
        applied = pool.map(lambda target: apply_rule(by_target[target.name], target, frame, unread), ruled)
        for target, outcome in zip(ruled, applied, strict=True):
            outcomes[target.name] = outcome
            if on_progress is not None:
                on_progress(len(outcomes), len(ruled), target.name)
            columns[target.name] = outcome.values
            columns[target.name + FLAG_SUFFIX] = outcome.flags
    # concat joins the columns as they are; DataFrame(dict) would copy every float column into one block.
    table = pd.concat(columns, axis=1).reset_index(drop=True)
    return table, outcomes


SUMMED_STATS = ("rows", "rows_affected", "missing", "out_of_range", "flagged", "unmapped")


@dataclass
class Harmonised:
    """What harmonising a whole table in blocks gave: its size, flagged rows and each target's statistics."""

    n_rows: int = 0
    n_flagged_rows: int = 0
    stats: dict[str, dict] = field(default_factory=dict)
    _flag_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, rows: int, outcomes: dict[str, Outcome]) -> None:
        self.n_rows += rows
        # A row is flagged when any of its targets is: read from the rules' masks rather than the flag columns.
        flagged = [outcome.flagged for outcome in outcomes.values()]
        if flagged:
            self.n_flagged_rows += int(np.logical_or.reduce(flagged).sum())
        for name, outcome in outcomes.items():
            merged = self.stats.setdefault(name, {})
            for key, value in outcome.stats.items():
                if key in SUMMED_STATS:
                    merged[key] = merged.get(key, 0) + value
                elif key != "flag_examples":
                    merged.setdefault(key, value)
            counts = self._flag_counts.setdefault(name, {})
            for text, count in outcome.flag_counts.items():
                counts[text] = counts.get(text, 0) + count

    def finish(self) -> "Harmonised":
        for name, counts in self._flag_counts.items():
            self.stats[name]["flag_examples"] = top_flags(counts)
        return self


def harmonise_in_blocks(
    frame: pd.DataFrame,
    targets: list[Target],
    rules: list[Rule],
    write,
    *,
    block_rows: int,
    on_progress=None,
    unread: dict | None = None,
) -> Harmonised:
    """Harmonise `frame` block by block, handing each block (as Arrow) to write() in a thread of its own: the
    next block's rules run while the last one is written. A table of one block is harmonised as a whole."""
    result = Harmonised()
    blocks = list(range(0, max(len(frame), 1), block_rows))
    schema = None
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for number, start in enumerate(blocks, start=1):
            part = frame.iloc[start : start + block_rows]
            part_unread = {name: values.iloc[start : start + block_rows] for name, values in (unread or {}).items()}
            table, outcomes = harmonise(part, targets, rules, first_row=start + 1, unread=part_unread)
            arrow = table_to_arrow(table)
            schema = schema or block_schema(arrow, targets)
            if len(blocks) > 1:
                arrow = arrow.cast(schema)
            if pending is not None:
                pending.result()
            pending = writer.submit(write, arrow)
            result.add(len(table), outcomes)
            if on_progress is not None:
                on_progress(number, len(blocks))
        if pending is not None:
            pending.result()
    return result.finish()


_OUTPUT_TYPES = {TEXT: pa.large_string(), CATEGORY: pa.large_string(), INTEGER: pa.int64(), NUMBER: pa.float64()}


def block_schema(first: pa.Table, targets: list[Target]) -> pa.Schema:
    """One schema for every block of a table: the first block's, where a column of no values (typed null) takes
    its target's type and times are kept to the microsecond (blocks may differ in their unit)."""
    by_name = {target.name: target for target in targets}
    fields = []
    for field_ in first.schema:
        kind = field_.type
        if pa.types.is_null(kind):
            target = by_name.get(field_.name)
            kind = pa.large_string() if target is None else _OUTPUT_TYPES.get(target.type, pa.timestamp("us"))
        elif pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", tz=kind.tz)
        fields.append(pa.field(field_.name, kind))
    # The pandas metadata says how to read the columns back (Int64 with missing values, not floats).
    return pa.schema(fields, metadata=first.schema.metadata)


def table_to_arrow(table: pd.DataFrame) -> pa.Table:
    """The harmonised table as Arrow, to be written with apps.datasets.tables.write_parquet."""
    return pa.Table.from_pandas(table, preserve_index=False)
