"""The data dictionary of a parsed table: one entry per variable with a summary of its values."""

import datetime
import math

import pyarrow as pa
import pyarrow.compute as pc

from apps.datasets import personal
from apps.datasets.inference import TypedColumn

# Categories are listed only for variables with few distinct values, so identifiers are never listed.
MAX_CATEGORIES = 50
TOP_VALUES = 10
CATEGORY_PROBE = 10_000


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _top_values(counts: pa.StructArray) -> list[list]:
    pairs = [(entry["values"], entry["counts"]) for entry in counts.to_pylist() if entry["values"] is not None]
    pairs.sort(key=lambda pair: (-pair[1], _text(pair[0])))
    return [[_text(value), count] for value, count in pairs[:TOP_VALUES]]


def _distinct(array: pa.Array, counted: bool) -> tuple[int, pa.StructArray | None]:
    """The number of distinct values (null not counted), and their counts when asked and few enough to list:
    one hashing pass."""
    if not len(array):
        return 0, None
    null = 1 if array.null_count else 0
    # A column whose first rows already hold more values than are ever listed (ids) needs no counts.
    if counted and len(pc.unique(array.slice(0, CATEGORY_PROBE))) - 1 > MAX_CATEGORIES:
        counted = False
    if counted:
        counts = pc.value_counts(array)
        return len(counts) - null, counts
    # unique() is about twice as fast as count_distinct() on text; it lists null once when there is one.
    return len(pc.unique(array)) - null, None


def dictionary_entry(
    *, position: int, name: str, column: TypedColumn, label: str = "", value_labels=None, source_format: str = ""
) -> dict:
    """The fields of one DictionaryEntry for `column`."""
    array = column.array
    n_missing = array.null_count
    may_list_categories = column.type in ("text", "integer", "boolean")
    n_distinct, counts = _distinct(array, counted=may_list_categories)
    minimum = maximum = ""
    if column.type in ("integer", "number", "date", "datetime") and n_missing < len(array):
        extremes = pc.min_max(array)
        minimum, maximum = _text(extremes["min"].as_py()), _text(extremes["max"].as_py())
    categorical = may_list_categories and 0 < n_distinct <= MAX_CATEGORIES
    personal_data = personal.detect(name, label, column.type, array)
    if personal_data:
        # The dictionary is read by the whole review team: it names no one (no top values, no earliest or
        # latest date of birth, no examples of unreadable values), however few the values.
        minimum = maximum = ""
        categorical = False
        column.invalid_examples = []
    return {
        "position": position,
        "name": name,
        "label": label,
        "type": column.type,
        "source_format": column.source_format or source_format,
        "value_labels": value_labels or {},
        "n_missing": n_missing,
        "n_distinct": n_distinct,
        "n_invalid": column.n_invalid,
        "invalid_examples": column.invalid_examples,
        "minimum": minimum[:255],
        "maximum": maximum[:255],
        "top_values": _top_values(counts) if categorical else [],
        "personal_data": personal_data,
    }
