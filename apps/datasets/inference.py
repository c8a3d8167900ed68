"""Types for text columns, decided only when every value agrees.

- integer: every non-empty value is a whole number without a leading zero ("007" keeps the column text);
- number: every non-empty value is a decimal number ("NA" or "n/a" keep the column text);
- date / datetime: most values parse with one detected format; the values that do not are counted and kept
  as examples, and become missing in the typed table (the uploaded file keeps them);
- boolean: only TRUE/FALSE (as a workbook writes them);
- otherwise text, as written. Empty (or blank) values are missing in every type.
"""

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

INTEGER = r"^[+-]?\d{1,18}$"
LEADING_ZERO = r"^[+-]?0\d+$"
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
BOOLEAN_VALUES = {"TRUE", "FALSE", "True", "False", "true", "false"}
DATE_FORMATS = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%d%b%Y",
    "%d-%b-%Y",
    "%d %b %Y",
]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]
# A column is read as dates when this share of its distinct values parses with one format.
DATE_SHARE = 0.8
DATE_SAMPLE = 1000
INVALID_EXAMPLES = 5


@dataclass
class TypedColumn:
    array: pa.Array
    type: str
    source_format: str = ""
    n_invalid: int = 0
    invalid_examples: list[str] = field(default_factory=list)


def _all_match(values: pa.Array, pattern: str) -> bool:
    return len(values) > 0 and pc.all(pc.match_substring_regex(values, pattern)).as_py()


def _any_match(values: pa.Array, pattern: str) -> bool:
    return pc.any(pc.match_substring_regex(values, pattern)).as_py() or False


def _best_date_format(distinct: pa.Array) -> tuple[str, bool, float]:
    sample = distinct.slice(0, DATE_SAMPLE)
    best = ("", False, 0.0)
    for formats, has_time in ((DATE_FORMATS, False), (DATETIME_FORMATS, True)):
        for fmt in formats:
            parsed = pc.strptime(sample, format=fmt, unit="s", error_is_null=True)
            share = 1 - parsed.null_count / len(sample)
            if share > best[2]:
                best = (fmt, has_time, share)
    return best


def _as_dates(text: pa.Array, present: pa.Array, fmt: str, has_time: bool) -> TypedColumn:
    parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
    failed = pc.and_(present, pc.is_null(parsed))
    failures = pc.filter(text, failed)
    examples = pc.unique(failures).slice(0, INVALID_EXAMPLES).to_pylist()
    if has_time:
        return TypedColumn(parsed, "datetime", fmt, len(failures), examples)
    return TypedColumn(pc.cast(parsed, pa.date32()), "date", fmt, len(failures), examples)


def infer_text_column(values: pa.Array) -> TypedColumn:
    """Type one column of text (values as read, nulls only where the reader had no value)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    stripped = pc.utf8_trim_whitespace(pc.fill_null(values, ""))
    present = pc.not_equal(stripped, "")
    candidates = pc.filter(stripped, present)
    text = pc.if_else(present, stripped, pa.scalar(None, pa.string()))
    original = pc.if_else(present, values, pa.scalar(None, pa.string()))
    if len(candidates) == 0:
        return TypedColumn(original, "text")
    if _all_match(candidates, INTEGER) and not _any_match(candidates, LEADING_ZERO):
        return TypedColumn(pc.cast(text, pa.int64()), "integer")
    if _all_match(candidates, NUMBER) and not _any_match(candidates, LEADING_ZERO):
        return TypedColumn(pc.cast(text, pa.float64()), "number")
    distinct = pc.unique(candidates)
    if set(distinct.slice(0, 7).to_pylist()) <= BOOLEAN_VALUES and len(distinct) <= 6:
        return TypedColumn(pc.equal(pc.utf8_lower(text), "true"), "boolean")
    fmt, has_time, share = _best_date_format(distinct)
    if share >= DATE_SHARE:
        return _as_dates(text, present, fmt, has_time)
    return TypedColumn(original, "text")


def type_declared_column(values: pa.Array) -> TypedColumn:
    """A column typed by its source (SAS, Stata, SPSS); doubles holding only whole numbers become integers."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    kind = values.type
    if pa.types.is_floating(kind):
        present = pc.drop_null(values)
        present = pc.filter(present, pc.invert(pc.is_nan(present)))
        values = pc.if_else(pc.is_nan(values), pa.scalar(None, kind), values)
        whole = len(present) > 0 and pc.all(pc.equal(pc.floor(present), present)).as_py()
        if whole and pc.max(pc.abs(present)).as_py() < 2**53:
            return TypedColumn(pc.cast(values, pa.int64()), "integer")
        return TypedColumn(values, "number")
    if pa.types.is_integer(kind):
        return TypedColumn(pc.cast(values, pa.int64()), "integer")
    if pa.types.is_boolean(kind):
        return TypedColumn(values, "boolean")
    if pa.types.is_timestamp(kind):
        return TypedColumn(values, "datetime")
    if pa.types.is_date(kind):
        return TypedColumn(pc.cast(values, pa.date32()), "date")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return TypedColumn(pc.cast(values, pa.string()), "text")
    return TypedColumn(pc.cast(values, pa.string()), "text")
