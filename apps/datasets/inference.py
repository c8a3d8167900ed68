"""Types for text columns, decided only when every value agrees.

- integer: every non-empty value is a whole number without a leading zero ("007" keeps the column text);
- number: every non-empty value is a decimal number ("NA" or "n/a" keep the column text);
- date / datetime: most values parse with one detected format; the values that do not are counted and kept
  as examples, and become missing in the typed table (the uploaded file keeps them);
- number with a decimal comma: every value is a number written "12,5" or "1.234,5" (or "1 234,5"), and some
  value holds a comma; "1,234.5" reads as 1234.5. Where a value could be either ("1,234"), the file decides: a
  decimal comma unless the file is split by commas (or a decimal mark is declared);
- boolean: only TRUE/FALSE (as a workbook writes them);
- otherwise text, as written. Empty (or blank) values are missing in every type.
"""

import contextlib
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

INTEGER = r"^[+-]?\d{1,18}$"
# Whole numbers with a leading zero, or too long for a 64-bit integer, are identifiers: as numbers they would
# lose their zeros or digits.
IDENTIFIER_DIGITS = r"^[+-]?(0\d+|\d{19,})$"
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
# Numbers with a decimal comma (thousands grouped by points or spaces), and with grouping commas.
DECIMAL_COMMA = "^[+-]?(\\d{1,3}([. \u00a0\u202f]\\d{3})+|\\d+)(,\\d+)?$"
GROUPING_COMMA = "^[+-]?(\\d{1,3}([,'\u2019]\\d{3})+|\\d+)(\\.\\d+)?$"
# A number in any of the forms read here, to rule most text columns out on their first values.
ANY_SEPARATED = "^[+-]?[\\d.,' \u00a0\u202f\u2019]*\\d$"
# What only a separated number holds: a comma, or a Swiss apostrophe grouping thousands.
SEPARATOR_EVIDENCE = "[,'\u2019]"
LEADING_ZERO = r"^[+-]?0\d"
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
# A column is read as dates when this share of its first distinct values, and of all its values, parses with
# one format.
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
    # The text of each value that was present but not read in this type (null elsewhere), kept so that a rule
    # reading the column flags those rows instead of seeing a plain missing value.
    unread: pa.Array | None = None


def _all_match(values: pa.Array, pattern: str) -> bool:
    return len(values) > 0 and pc.all(pc.match_substring_regex(values, pattern)).as_py()


def _any_match(values: pa.Array, pattern: str) -> bool:
    return len(values) > 0 and (pc.any(pc.match_substring_regex(values, pattern)).as_py() or False)


def _canonical(text: pa.Array) -> pa.Array:
    """Dates written two ways compare equal: without leading zeros in numbers, in lower case."""
    return pc.utf8_lower(pc.replace_substring_regex(text, r"(^|\D)0+(\d)", r"\1\2"))


def _strict_dates(text: pa.Array, fmt: str) -> pa.Array:
    """Parse with `fmt`, keeping only values that print back as written: 31/02/2021 is refused, not read as
    3 March (the parser alone rolls impossible days over)."""
    parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
    if parsed.null_count == len(parsed):
        return parsed  # nothing read with this format: nothing to print back (most formats, on most columns)
    printed = pc.strftime(parsed, format=fmt)
    same = pc.fill_null(pc.equal(_canonical(printed), _canonical(text)), False)
    return pc.if_else(same, parsed, pa.scalar(None, parsed.type))


def _best_date_format(sample: pa.Array) -> tuple[str, bool, float]:
    best = ("", False, 0.0)
    for formats, has_time in ((DATE_FORMATS, False), (DATETIME_FORMATS, True)):
        for fmt in formats:
            parsed = _strict_dates(sample, fmt)
            share = 1 - parsed.null_count / len(sample)
            if share > best[2]:
                best = (fmt, has_time, share)
    return best


def dates_in_one_format(values: list[str]) -> list | None:
    """Each text read as a date (or date and time) with the one format most of them parse with strictly, None
    where that format does not read it; None when no format reads any."""
    if not values:
        return []
    text = pa.array(values, type=pa.string())
    fmt, has_time, share = _best_date_format(pc.unique(text.slice(0, DATE_SAMPLE)))
    if share == 0:
        return None
    parsed = _strict_dates(text, fmt)
    return parsed.to_pylist() if has_time else pc.cast(parsed, pa.date32()).to_pylist()


def _as_dates(text: pa.Array, present: pa.Array, fmt: str, has_time: bool) -> TypedColumn:
    # Parse each distinct value once: a date column repeats its values, and the strict check is costly.
    distinct = pc.unique(text)
    parsed = pc.take(_strict_dates(distinct, fmt), pc.index_in(text, value_set=distinct))
    failed = pc.and_(present, pc.is_null(parsed))
    failures = pc.filter(text, failed)
    examples = pc.unique(failures).slice(0, INVALID_EXAMPLES).to_pylist()
    unread = _unread(text, failed) if len(failures) else None
    if has_time:
        return TypedColumn(parsed, "datetime", fmt, len(failures), examples, unread)
    return TypedColumn(pc.cast(parsed, pa.date32()), "date", fmt, len(failures), examples, unread)


def _unread(text: pa.Array, failed: pa.Array) -> pa.Array:
    return pc.if_else(failed, pc.cast(text, pa.string()), pa.scalar(None, pa.string()))


def _null_where_absent(values: pa.Array, present: pa.Array) -> pa.Array:
    return pc.if_else(present, values, pa.scalar(None, pa.string()))


def _looks_like_identifier(candidates: pa.Array) -> bool:
    """Any value with a leading zero or too many digits; the regex runs only on the few values that could be."""
    suspects = pc.greater_equal(pc.binary_length(candidates), 19)
    for prefix in ("0", "+0", "-0"):
        suspects = pc.or_(suspects, pc.starts_with(candidates, prefix))
    return _any_match(pc.filter(candidates, suspects), IDENTIFIER_DIGITS)


def _is_integer(sample: pa.Array, candidates: pa.Array) -> bool:
    # The sample (the first values) rules most columns out cheaply before the whole column is checked.
    return _all_match(sample, INTEGER) and _all_match(candidates, INTEGER) and not _looks_like_identifier(candidates)


def _as_numbers(sample: pa.Array, candidates: pa.Array, kept: pa.Array) -> pa.Array | None:
    """The column as float64 when every value is a decimal number, else None.

    Arrow's cast reads exactly the decimal forms NUMBER accepts, plus nan and infinity: only when a
    non-finite value comes out does the slower pattern decide.
    """
    if not _all_match(sample, NUMBER):
        return None
    try:
        numbers = pc.cast(kept, pa.float64())
    except pa.ArrowInvalid:
        return None
    finite = pc.all(pc.is_finite(numbers)).as_py() is not False
    if not finite and not _all_match(candidates, NUMBER):
        return None
    return None if _looks_like_identifier(candidates) else numbers


def _is_boolean(sample: pa.Array, candidates: pa.Array) -> bool:
    if not set(pc.unique(sample).to_pylist()) <= BOOLEAN_VALUES:
        return False
    return pc.all(pc.is_in(candidates, value_set=pa.array(sorted(BOOLEAN_VALUES)))).as_py()


def infer_text_column(values: pa.Array, *, decimal: str = "", decimal_hint: str = ",") -> TypedColumn:
    """Type one column of text (values as read, nulls only where the reader had no value).

    `decimal` is the decimal mark declared for the file ("," or "."), if any; `decimal_hint` the mark to read a
    value like "1,234" with when nothing else decides (the file's delimiter suggests it).
    """
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if decimal != "," and values.null_count == 0:
        # Most columns of numbers have a value in every row: a cast that succeeds on the whole column proves it
        # (an empty or blank value fails it), and spares finding the empty values first.
        typed = _clean_numbers(values, values)
        if typed is not None:
            return typed
    present = _present(values)
    every_present = values.null_count == 0 and pc.all(present).as_py() is not False
    raw_candidates = values if every_present else pc.filter(values, present)
    if len(raw_candidates) == 0:
        return TypedColumn(_null_where_absent(values, present), "text")
    raw_kept = values if every_present else _null_where_absent(values, present)
    if decimal == ",":
        # Declared: "1.234" groups thousands and "12,5" is a decimal, wherever the column allows that reading.
        typed = _separated_numbers(pc.utf8_trim_whitespace(raw_candidates), pc.utf8_trim_whitespace(raw_kept), ",")
        if typed is not None:
            return typed
    typed = _clean_numbers(raw_candidates, raw_kept)
    if typed is not None:
        return typed
    # The full rules read values without their surrounding spaces: " 3 " is the integer 3.
    candidates = pc.utf8_trim_whitespace(raw_candidates)
    kept = candidates if raw_kept is raw_candidates else pc.utf8_trim_whitespace(raw_kept)
    sample = candidates.slice(0, DATE_SAMPLE)
    if _is_integer(sample, candidates):
        return TypedColumn(_integers(kept), "integer")
    numbers = _as_numbers(sample, candidates, kept)
    if numbers is not None:
        return TypedColumn(numbers, "number")
    if _all_match(sample, ANY_SEPARATED):
        typed = _detect_separated(candidates, kept, declared=decimal, hint=decimal_hint)
        if typed is not None:
            return typed
    if _is_boolean(sample, candidates):
        return TypedColumn(pc.equal(pc.utf8_lower(kept), "true"), "boolean")
    fmt, has_time, share = _best_date_format(pc.unique(sample))
    if share >= DATE_SHARE:
        dates = _as_dates(kept, present, fmt, has_time)
        if len(candidates) - dates.n_invalid >= DATE_SHARE * len(candidates):
            return dates
    return TypedColumn(values if every_present else _null_where_absent(values, present), "text")


# A value that settles a file's decimal mark: grouping points and a decimal comma in one number ("1.234,5").
BOTH_MARKS = r"^[+-]?\d{1,3}(\.\d{3})+,\d+$"
MARK_SAMPLE = 10_000


def file_decimal_mark(columns: list[pa.Array]) -> str:
    """ "," when some column writes a number with grouping points and a decimal comma ("1.234,5"): then a point
    in the file's other columns groups thousands too ("1.020" is 1020, not 1.02). "" when nothing says so.
    Judged on each column's first values, so the cost does not grow with the rows."""
    for values in columns:
        head = values.slice(0, MARK_SAMPLE)
        if pa.types.is_string(head.type) or pa.types.is_large_string(head.type):
            if _any_match(pc.drop_null(pc.utf8_trim_whitespace(head)), BOTH_MARKS):
                return ","
    return ""


def _separated_pattern(mark: str) -> str:
    return DECIMAL_COMMA if mark == "," else GROUPING_COMMA


def _fits_separated(values: pa.Array, mark: str) -> pa.Array:
    """Where each value is a number written with `mark` as its decimal mark (no identifier's leading zero)."""
    fits = pc.match_substring_regex(values, _separated_pattern(mark))
    return pc.and_(fits, pc.invert(pc.match_substring_regex(values, LEADING_ZERO)))


def _separated_numbers(candidates: pa.Array, kept: pa.Array, mark: str) -> TypedColumn | None:
    """The column read with `mark` as the decimal mark, when every value is written that way."""
    if not len(candidates) or not pc.all(_fits_separated(candidates, mark)).as_py():
        return None
    return _read_separated(candidates, kept, mark)


def _read_separated(candidates: pa.Array, kept: pa.Array, mark: str) -> TypedColumn:
    """Numbers from text known to fit `mark`: separators dropped, the decimal mark made a point."""
    if mark == ",":
        plain = pc.replace_substring(pc.replace_substring_regex(kept, "[. \u00a0\u202f]", ""), ",", ".")
    else:
        plain = pc.replace_substring_regex(kept, SEPARATOR_EVIDENCE, "")
    described = f'decimal "{mark}"'
    if not _any_match(candidates, "," if mark == "," else r"\."):
        with contextlib.suppress(pa.ArrowInvalid):
            return TypedColumn(pc.cast(plain, pa.int64()), "integer", described)
    return TypedColumn(pc.cast(plain, pa.float64()), "number", described)


def _detect_separated(candidates: pa.Array, kept: pa.Array, *, declared: str, hint: str) -> TypedColumn | None:
    """Numbers written with a decimal comma, or with grouping commas (or apostrophes): only when some value holds
    one, so a column that reads the usual way is never read another."""
    if not _any_match(candidates, SEPARATOR_EVIDENCE):
        return None
    marks = [declared] if declared else [",", "."]
    fitting = [mark for mark in marks if pc.all(_fits_separated(candidates, mark)).as_py()]
    if not fitting:
        return None
    # Both readings fit only values like "1,234": the file's own hint decides.
    mark = hint if len(fitting) == 2 and hint in fitting else fitting[0]
    return _read_separated(candidates, kept, mark)


def parse_declared_numbers(values: pa.Array, mark: str, *, number_cells: bool = False) -> TypedColumn:
    """A text column read with a declared decimal mark: numbers however many values fail, the failures counted
    and kept as examples (and missing in the typed table; the uploaded file keeps them).

    `number_cells`: the column comes from a workbook, whose number cells are written with a point ("70.5")
    beside the text cells the declaration is for ("72,5"); a value that reads only as such a number is one.
    """
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    present = _present(values)
    text = pc.utf8_trim_whitespace(_null_where_absent(values, present))
    fits = pc.fill_null(_fits_separated(text, mark), False)
    failed = pc.and_(present, pc.invert(fits))
    point_numbers = None
    if number_cells and mark == ",":
        point_numbers = pc.and_(failed, pc.fill_null(pc.match_substring_regex(text, NUMBER), False))
        failed = pc.and_(failed, pc.invert(point_numbers))
    failures = pc.filter(values, failed)
    examples = pc.unique(failures).slice(0, INVALID_EXAMPLES).to_pylist()
    readable = pc.if_else(fits, text, pa.scalar(None, pa.string()))
    typed = _read_separated(pc.drop_null(readable), readable, mark)
    if point_numbers is not None and pc.any(point_numbers).as_py():
        read_with_point = pc.cast(pc.if_else(point_numbers, text, pa.scalar(None, pa.string())), pa.float64())
        typed.array = pc.if_else(point_numbers, read_with_point, pc.cast(typed.array, pa.float64()))
        typed.type = "number"
    typed.n_invalid, typed.invalid_examples = len(failures), examples
    typed.unread = _unread(values, failed) if len(failures) else None
    typed.source_format += " (declared)"
    return typed


def _present(values: pa.Array) -> pa.Array:
    """True where a value holds something other than spaces; found without copying the text."""
    empty = pc.or_(pc.equal(pc.binary_length(values), 0), pc.utf8_is_space(values))
    return pc.fill_null(pc.invert(empty), False)


def _integers(kept: pa.Array) -> pa.Array:
    """Whole numbers as int64; Arrow's cast refuses a leading plus sign, which the integer pattern allows."""
    return pc.cast(pc.replace_substring_regex(kept, r"^\+", ""), pa.int64())


def _clean_numbers(candidates: pa.Array, kept: pa.Array) -> TypedColumn | None:
    """The common case settled in one cast: plain integers or decimals with no spaces, signs of plus, leading
    zeros, non-finite values or 19 digits. None leaves the column to the full rules, which decide the same
    way on every column this accepts."""
    sample = candidates.slice(0, DATE_SAMPLE)
    if _all_match(sample, INTEGER):
        # Whole numbers first: any doubt (a suspect, or a value the cast refuses) is left to the full rules.
        if _has_integer_suspects(candidates):
            return None
        with contextlib.suppress(pa.ArrowInvalid):
            return TypedColumn(pc.cast(kept, pa.int64()), "integer")
    elif _all_match(sample, NUMBER):
        try:
            numbers = pc.cast(kept, pa.float64())
        except pa.ArrowInvalid:
            return None
        if pc.all(pc.is_finite(numbers)).as_py() is not False and not _looks_like_identifier(candidates):
            return TypedColumn(numbers, "number")
    return None


def _has_integer_suspects(candidates: pa.Array) -> bool:
    """Values a cast to int64 could read in a way the integer rules would not: a leading zero (also "0x1F",
    which Arrow reads as hexadecimal) or 19 characters and more."""
    lengths = pc.binary_length(candidates)
    suspects = pc.greater_equal(lengths, 19)
    suspects = pc.or_(suspects, pc.and_(pc.starts_with(candidates, "0"), pc.greater(lengths, 1)))
    suspects = pc.or_(suspects, pc.and_(pc.starts_with(candidates, "-0"), pc.greater(lengths, 2)))
    return pc.any(suspects).as_py() is True


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


def parse_declared_dates(values: pa.Array, fmt: str, has_time: bool) -> TypedColumn:
    """A text column read with a declared date format: a date (or datetime) column however many values fail,
    the failures counted and kept as examples; a declared format is never given up for text."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    present = _present(values)
    return _as_dates(_null_where_absent(pc.utf8_trim_whitespace(values), present), present, fmt, has_time)
