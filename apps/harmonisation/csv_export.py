"""CSV exports that a spreadsheet opens safely: a text cell starting with =, +, -, @ (or a tab or carriage
return) is prefixed with a single quote, so it is shown as text instead of being run as a formula."""

import csv
import io
from collections.abc import Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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
