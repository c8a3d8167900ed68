"""CSV exports that a spreadsheet opens safely: a text cell starting with =, +, -, @ (or a tab or carriage
return) is prefixed with a single quote, so it is shown as text instead of being run as a formula. Spreadsheets
skip leading whitespace and read fullwidth and small forms (＝, ﹢, －, ＠ ...) as the plain signs, so those
count too."""

import csv
import io
import unicodedata
from collections.abc import Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Signs a spreadsheet may also take as the start of a formula: the minus sign, beside those NFKC folds.
FORMULA_SIGNS = frozenset("=+-@\u2212")


def _starts_formula(text: str) -> bool:
    if text.startswith(FORMULA_STARTS):
        return True
    first = text.lstrip()[:1]
    return bool(first) and (first in FORMULA_SIGNS or unicodedata.normalize("NFKC", first)[:1] in FORMULA_SIGNS)


def escape_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if _starts_formula(text) else text


def to_csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_cell(column) for column in columns])
    for row in rows:
        writer.writerow([escape_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def stream_csv(columns: list[str], batches) -> Iterator[str]:
    """CSV text chunk by chunk: the header, then the rows of each batch (lists of row tuples), all escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_cell(column) for column in columns])
    yield buffer.getvalue()
    for rows in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([escape_cell(value) for value in row] for row in rows)
        yield buffer.getvalue()
