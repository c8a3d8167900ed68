"""Excel workbooks as trial teams send them: the table is found, not assumed to start in A1 of the first sheet.

Exports often open with a notes or README sheet, put a title (merged across the columns) and a blank row above
the header, or keep a dictionary sheet beside the data. So every sheet is read (streamed, in read-only mode),
and in each the table is the block under a header row:

- a header row has two or more filled cells, all text that is neither a number nor a date;
- a title or group row (a merged "Baseline" over three columns) directly above the real header gives way to it;
- the block runs down from the header; after a blank row, rows that look like notes (fewer filled cells than
  half the header's) are left out and reported;
- its columns are those the header and its rows fill (an unnamed index column becomes column_<n>).

The sheet read is the one whose block is largest (columns x rows); the uploader can declare the sheet and the
header row instead. The container is checked before anything is read: the members' declared sizes, in all and
each against its compressed size, so that a zip bomb is refused by what it says it holds.
"""

import datetime
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from apps.jobs.errors import JobInputError

# Header candidates are looked for among a sheet's first filled rows; titles and notes above a table are few.
HEADER_SCAN_ROWS = 50
# A one-column table's name and typical value are at most this long: longer lines are notes.
ONE_COLUMN_NAME_LENGTH = 40
# Members smaller than this may compress as well as they like (styles, shared strings of a few words).
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
NUMBER_OR_DATE = re.compile(r"^[+-]?(\d[\d.,\s]*|\.\d+)([eE][+-]?\d+)?%?$|^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")


@dataclass(frozen=True)
class WorkbookLimits:
    max_rows: int
    max_columns: int
    max_uncompressed_bytes: int
    max_ratio: float


@dataclass
class Sheet:
    """A sheet as streamed: its filled rows (row number, cell texts without trailing empty cells)."""

    title: str
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    # Whether each cell of the first filled rows holds text (not a number, date or yes/no), for finding headers.
    text_cells: dict[int, list[bool]] = field(default_factory=dict)


@dataclass
class Table:
    sheet: str
    header_row: int
    first_column: int  # 0-based
    names: list[str]
    rows: list[list[str]]
    rows_left_out: list[int] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def area(self) -> int:
        return self.width * len(self.rows)


# ------------------------------------------------------------------------------------------------ container


def _mb(size: float) -> str:
    if size < 1e6:
        return f"{size / 1e3:,.0f} KB"
    return f"{size / 1e6:,.1f} MB" if size < 10e6 else f"{size / 1e6:,.0f} MB"


def check_container(path: Path, limits: WorkbookLimits) -> None:
    """Refuse a workbook whose members declare more than the limits, before any of them is unpacked.

    The declared sizes bind the reader: Python's zipfile stops a member at its declared size (and fails its
    checksum), so a member that lies about its size cannot unpack to more.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as error:
        raise JobInputError(f"The Excel workbook is damaged or truncated and cannot be opened ({error}).")
    declared = sum(member.file_size for member in members)
    if declared > limits.max_uncompressed_bytes:
        raise JobInputError(
            f"The Excel workbook unpacks to {_mb(declared)} (from {_mb(path.stat().st_size)}), over the limit of "
            f"{_mb(limits.max_uncompressed_bytes)}; save the data sheet as CSV and upload that."
        )
    for member in members:
        if member.file_size < RATIO_CHECKED_FROM_BYTES:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_ratio:
            raise JobInputError(
                f"The Excel workbook's part '{member.filename}' unpacks from {_mb(member.compress_size)} to "
                f"{_mb(member.file_size)}, {ratio:,.0f} times its packed size (the limit is {limits.max_ratio:,.0f}): "
                "a real sheet does not compress that well, so the file is refused. Save the data sheet as CSV and "
                "upload that."
            )


# ------------------------------------------------------------------------------------------------ streaming


def cell_text(value) -> str:
    """A workbook cell as the text a person sees; dates in ISO form, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def _too_many_rows(title: str, limits: WorkbookLimits) -> JobInputError:
    return JobInputError(
        f"Sheet '{title}' has more than {limits.max_rows:,} rows, the limit; split it and upload the parts."
    )


def stream_sheet(worksheet, limits: WorkbookLimits) -> Sheet:
    """Read one sheet row by row, keeping the filled rows; stop at once when it holds more rows than the cap."""
    sheet = Sheet(title=worksheet.title)
    if hasattr(worksheet, "reset_dimensions"):
        # The sheet's declared size is not trusted: "A1:XFD1048576" would pad every row to 16,384 cells.
        worksheet.reset_dimensions()
    # Title rows above the header and notes below the table may come on top of the cap's data rows.
    cap = limits.max_rows + HEADER_SCAN_ROWS
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        texts = [cell_text(value) for value in values]
        while texts and not texts[-1].strip():
            texts.pop()
        if not texts:
            continue
        if len(texts) > limits.max_columns:
            raise JobInputError(
                f"Row {number} of sheet '{sheet.title}' fills {len(texts):,} columns; the limit is "
                f"{limits.max_columns:,}."
            )
        sheet.rows.append((number, texts))
        if len(sheet.rows) <= HEADER_SCAN_ROWS:
            sheet.text_cells[number] = [isinstance(value, str) for value in values[: len(texts)]]
        if len(sheet.rows) > cap:
            raise _too_many_rows(sheet.title, limits)
    return sheet


# ------------------------------------------------------------------------------------------ finding a table


def _filled(texts: list[str]) -> list[int]:
    return [index for index, text in enumerate(texts) if text.strip()]


def _is_header_like(sheet: Sheet, position: int) -> bool:
    """Two or more filled cells, every one text that is not a number or a date."""
    number, texts = sheet.rows[position]
    filled = _filled(texts)
    if len(filled) < 2:
        return False
    kinds = sheet.text_cells.get(number)
    for index in filled:
        if kinds is not None and index < len(kinds) and not kinds[index]:
            return False
        if NUMBER_OR_DATE.match(texts[index].strip()):
            return False
    return True


def _gives_way(sheet: Sheet, position: int) -> bool:
    """A title or group row: the next row is a header too, and the row after that is not (it is data)."""
    if position + 2 >= len(sheet.rows):
        return False
    return _is_header_like(sheet, position + 1) and not _is_header_like(sheet, position + 2)


def _segments(rows: list[tuple[int, list[str]]]) -> list[list[tuple[int, list[str]]]]:
    """Runs of consecutive filled rows, split where blank rows come between."""
    segments: list[list[tuple[int, list[str]]]] = []
    last = None
    for row in rows:
        if last is None or row[0] != last + 1:
            segments.append([])
        segments[-1].append(row)
        last = row[0]
    return segments


def _looks_like_data(segment, header_filled: int) -> bool:
    counts = sorted(len(_filled(texts)) for _, texts in segment)
    return counts[len(counts) // 2] >= max(2, (header_filled + 1) // 2)


def table_at(sheet: Sheet, position: int) -> Table:
    """The table whose header is the sheet's filled row at `position` (an index into sheet.rows)."""
    header_row, header = sheet.rows[position]
    header_filled = len(_filled(header))
    kept, left_out = [], []
    for index, segment in enumerate(_segments(sheet.rows[position + 1 :])):
        if index == 0 or _looks_like_data(segment, header_filled):
            kept += segment
        else:
            left_out += [number for number, _ in segment]
    while kept and _is_summary_or_footnote(kept[-1][1]):
        left_out.append(kept.pop()[0])
    left_out.sort()
    columns = set(_filled(header))
    for _, texts in kept:
        columns.update(_filled(texts))
    first, last = (min(columns), max(columns)) if columns else (0, -1)
    names = [header[index] if index < len(header) else "" for index in range(first, last + 1)]
    rows = [[texts[index] if index < len(texts) else "" for index in range(first, last + 1)] for _, texts in kept]
    return Table(sheet.title, header_row, first, names, rows, left_out)


# The first word of a row that sums the rows above it, rather than being a participant.
SUMMARY_WORDS = {
    "total", "totals", "sum", "mean", "means", "average", "median", "sd", "overall", "gesamt", "summe",
    "mittelwert", "moyenne", "somme", "totaal", "gemiddelde", "totale", "promedio", "suma",
}  # fmt: skip
FOOTNOTE_SIGNS = ("*", "†", "‡", "§")
FOOTNOTE_WORDS = {"note", "notes", "nb", "n.b", "source", "sources", "footnote", "abbreviations"}


def _is_summary_or_footnote(texts: list[str]) -> bool:
    """A row at the foot of a table that is not a participant: a total or a mean ("Total", "Mean (SD)"), or a
    footnote in one cell ("* age at randomisation")."""
    filled = _filled(texts)
    if not filled:
        return False
    first = texts[filled[0]].strip().lower()
    word = re.split(r"[\s:(]+", first, maxsplit=1)[0]
    if word in SUMMARY_WORDS:
        return True
    return len(filled) == 1 and (first.startswith(FOOTNOTE_SIGNS) or word.rstrip(".") in FOOTNOTE_WORDS)


def _covers_its_columns(table: Table) -> bool:
    """A header names at least half the block's columns: a short title row above a wide table does not."""
    named = sum(1 for name in table.names if name.strip())
    return named >= 1 and 2 * named >= table.width


def best_table(sheet: Sheet) -> Table | None:
    """The largest table under a header row among the sheet's first filled rows; None when there is none.

    One-column tables are found only where no row has two filled cells of text.
    """
    best: Table | None = None
    scanned = min(len(sheet.rows), HEADER_SCAN_ROWS)
    for position in range(scanned):
        if not _is_header_like(sheet, position) or _gives_way(sheet, position):
            continue
        table = table_at(sheet, position)
        if _covers_its_columns(table) and (best is None or table.area > best.area):
            best = table
    if best is None and sheet.rows:
        best = _one_column_table(sheet)
    return best


def _one_column_table(sheet: Sheet) -> Table | None:
    """A single column under a name (a list of ids, say), but not lines of notes: a short name over short values."""
    number, texts = sheet.rows[0]
    kinds = sheet.text_cells.get(number, [])
    filled = _filled(texts)
    if len(filled) != 1 or not (kinds and kinds[filled[0]]):
        return None
    name = texts[filled[0]].strip()
    if len(name) > ONE_COLUMN_NAME_LENGTH or len(name.split()) > 4:
        return None
    if any(len(_filled(row)) > 1 for _, row in sheet.rows):
        return None
    lengths = sorted(len(" ".join(row).strip()) for _, row in sheet.rows[1:])
    if lengths and lengths[len(lengths) // 2] > ONE_COLUMN_NAME_LENGTH:
        return None
    return table_at(sheet, 0)


def table_with_header(sheet: Sheet, header_row: int) -> Table:
    """The table under a declared header row (a row number of the sheet, from 1)."""
    for position, (number, _) in enumerate(sheet.rows):
        if number == header_row:
            return table_at(sheet, position)
    raise JobInputError(
        f"Row {header_row} of sheet '{sheet.title}', declared as the header row, is empty"
        + (f" (the sheet's filled rows are {sheet.rows[0][0]} to {sheet.rows[-1][0]})." if sheet.rows else ".")
    )


# Words of a sheet's name: those that usually name the data, and those that name notes about it.
DATA_SHEET_WORDS = {
    "data", "dataset", "ipd", "patients", "participants", "subjects", "baseline", "export", "daten", "donnees",
    "datos", "dati", "gegevens", "records", "analysis", "adsl", "adtte",
}  # fmt: skip
NOTES_SHEET_WORDS = {
    "readme", "read", "notes", "note", "dictionary", "codebook", "codes", "variables", "metadata", "info",
    "information", "about", "legend", "key", "description", "descriptions", "instructions", "labels", "lookup",
    "definitions", "glossary", "contents", "cover", "summary", "changes", "log", "version", "format", "formats",
}  # fmt: skip


def _sheet_words(title: str) -> set[str]:
    return {word for word in re.split(r"[^a-z0-9]+", title.lower()) if word}


def describes(table: Table, other: Table) -> bool:
    """Whether one of the table's columns lists most of the other table's column names: a data dictionary."""
    names = {name.strip().lower() for name in other.names if name.strip()}
    if len(names) < 2:
        return False
    for index in range(table.width):
        values = {row[index].strip().lower() for row in table.rows}
        if len(names & values) >= max(2, len(names) // 2):
            return True
    return False


def data_preference(table: Table, tables: list[Table]) -> tuple:
    """How likely the table holds the data, for choosing a sheet: not a dictionary of another sheet's table
    first, then its size weighed by its sheet's name (twice for "Data", half for "Notes" or "Codebook")."""
    words = _sheet_words(table.sheet)
    weight = 2.0 if words & DATA_SHEET_WORDS else 0.5 if words & NOTES_SHEET_WORDS else 1.0
    dictionary = any(describes(table, other) for other in tables if other is not table)
    return (not dictionary, table.area * weight)


def describe_sheet(sheet: Sheet, table: Table | None) -> str:
    """One sheet in a message: what it holds."""
    if not sheet.rows:
        return f"'{sheet.title}' (empty)"
    if table is None or table.width < 2:
        widest = max(len(_filled(texts)) for _, texts in sheet.rows)
        return f"'{sheet.title}' (no table: {len(sheet.rows):,} filled rows, at most {widest} filled cells in a row)"
    rows = f"{len(table.rows):,} rows" if table.rows else "no data rows"
    return f"'{sheet.title}' (a table of {table.width} columns and {rows}, header on row {table.header_row})"


def holds_table(table: Table | None) -> bool:
    return table is not None and table.width >= 2 and len(table.rows) > 0
