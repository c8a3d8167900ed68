"""Read an uploaded file into an Arrow table without silent conversions.

Text files (CSV/TSV) and workbooks come back as text columns, to be typed by `inference`; SAS, Stata and SPSS
files come back with the types, labels and value labels their own metadata declares.
"""

import codecs
import csv
import datetime
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from apps.datasets import workbooks
from apps.datasets.models import DatasetVersion
from apps.jobs.errors import JobInputError

Format = DatasetVersion.Format
CHUNK_SIZE = 1024 * 1024
SAMPLE_SIZE = 64 * 1024
DELIMITERS = [",", ";", "\t", "|"]
# The header of a text file is looked for among its first lines (title lines may come first).
HEADER_SCAN_LINES = 50
RAGGED_LINES_NAMED = 20
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
FORMAT_NAMES = {Format.SAS7BDAT: "SAS", Format.XPORT: "SAS transport", Format.DTA: "Stata", Format.SAV: "SPSS"}


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_columns: int
    xlsx_max_uncompressed_bytes: int
    xlsx_max_ratio: float = 100.0


@dataclass(frozen=True)
class ReadChoice:
    """What the uploader declared about where the table is and how its numbers are written."""

    sheet: str = ""
    header_row: int | None = None
    # "," or "." for the whole file; "" lets each column show how it writes decimals.
    decimal: str = ""


@dataclass
class SourceTable:
    table: pa.Table
    # Columns read as text that the inference step may type (every column of a CSV or workbook).
    untyped: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    source_formats: dict[str, str] = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    # Values the file's own metadata declares missing, counted per code (see _file_missing_values).
    file_missing: dict[str, list[dict]] = field(default_factory=dict)
    # How a number written "1,234" is read when nothing else in its column decides: "," a decimal comma, "."
    # a thousands separator.
    decimal_hint: str = ","
    # Per column, the text of values a declaration could not read (see TypedColumn.unread).
    unread: dict[str, pa.Array] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- text files


def _position(path: Path, offset: int) -> tuple[int, int]:
    """Line and column (both from 1) of a byte offset."""
    line, line_start, done = 1, 0, 0
    with path.open("rb") as handle:
        while done < offset:
            chunk = handle.read(min(CHUNK_SIZE, offset - done))
            if not chunk:
                break
            newlines = chunk.count(b"\n")
            if newlines:
                line += newlines
                line_start = done + chunk.rindex(b"\n") + 1
            done += len(chunk)
    return line, offset - line_start + 1


class DecodeError(NamedTuple):
    offset: int
    byte: int
    # Whether bytes beyond ASCII decoded before it: the file is in this encoding but for a stretch further on.
    after_text: bool


def _first_decode_error(path: Path, encoding: str, quotes: list[int] | None = None) -> DecodeError | None:
    """None when the whole file decodes; else where the first byte that does not is, and what it is.

    With `quotes`, the file's quote characters are counted in the same pass (into quotes[0]), to the end even
    after an error: one read of the file serves both.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    ascii_compatible = encoding in ("utf-8", "utf-8-sig", "cp1252")
    offset, error_found, after_text = 0, None, False
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            if quotes is not None and ascii_compatible:
                quotes[0] += chunk.count(b'"')
            if error_found is not None:
                if quotes is None:
                    break
                continue
            # Plain ASCII decodes in every encoding tried here: checking for it costs far less than decoding,
            # as long as no multi-byte character is left open from the chunk before.
            settled = offset > 0 and not decoder.getstate()[0]
            if ascii_compatible and settled and chunk.isascii():
                offset += len(chunk)
                continue
            try:
                text = decoder.decode(chunk)
                if quotes is not None and not ascii_compatible:
                    # In UTF-16 the byte 0x22 is also half of other characters (≥, ™, Cyrillic Т): count characters.
                    quotes[0] += text.count('"')
            except UnicodeDecodeError as error:
                text_before = after_text or not chunk[: error.start].isascii()
                error_found = DecodeError(offset + error.start, chunk[error.start], text_before)
                continue
            after_text = after_text or not chunk.isascii()
            offset += len(chunk)
    if error_found is not None:
        return error_found
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return DecodeError(offset, 0, after_text)
    return None


def detect_encoding(path: Path, head: bytes, quotes: list[int] | None = None) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM, or Windows-1252 (which reads Latin-1 text). With
    `quotes`, the file's quote characters are counted on the way (see _first_decode_error)."""
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    utf8_error = _first_decode_error(path, encoding, quotes)
    if utf8_error is None:
        return encoding
    if encoding == "utf-16":
        raise JobInputError(
            f"The file says it is UTF-16 text but the bytes at offset {utf8_error.offset} are not valid UTF-16."
        )
    offset, byte, after_text = utf8_error
    if after_text:
        # Accented letters already read as UTF-8 before this byte: the file is UTF-8 with a line written in
        # another encoding (pasted from elsewhere), and reading it all as Windows-1252 would garble the rest.
        line, column = _position(path, offset)
        raise JobInputError(
            f"The file is UTF-8 text but byte 0x{byte:02X} at line {line}, column {column} is not: that line was "
            "written in another encoding. Correct it (or save the whole file as UTF-8) and upload it again."
        )
    cp1252_error = _first_decode_error(path, "cp1252")
    if cp1252_error is None:
        return "cp1252"
    offset, byte, _ = cp1252_error
    line, column = _position(path, offset)
    raise JobInputError(
        f"The file's encoding cannot be read: it is neither UTF-8 nor Windows-1252/Latin-1 text "
        f"(byte 0x{byte:02X} at line {line}, column {column}). Save it as UTF-8 CSV and upload it again."
    )


def _sample_text(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        raw = handle.read(SAMPLE_SIZE)
    text = raw.decode(encoding, errors="ignore")
    if len(raw) == SAMPLE_SIZE and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def detect_delimiter(sample: str) -> str:
    """The delimiter that splits the sample's rows into the same number (above one) of fields most often."""
    best, best_score = ",", (0.0, 0, 0.0)
    for delimiter in DELIMITERS:
        try:
            rows = list(_csv_reader(sample, delimiter))[:200]
        except csv.Error:
            continue  # this delimiter cannot split the sample into rows
        counts = [len(row) for row in rows if row]
        # Title lines (one field) say nothing of the delimiter; the rows of two or more fields do.
        split = [count for count in counts if count >= 2]
        if not split:
            continue
        common, frequency = Counter(split).most_common(1)[0]
        # On a tie ("Gewicht, kg;72,5" splits evenly either way), the split whose fields read as numbers wins.
        score = (frequency / len(counts), common, _numeric_share(rows[1:]))
        if score > best_score:
            best, best_score = delimiter, score
    return best


NUMERIC_FIELD = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def _numeric_share(rows: list[list[str]]) -> float:
    fields = [value.strip() for row in rows for value in row if value.strip()]
    return sum(1 for value in fields if NUMERIC_FIELD.match(value)) / len(fields) if fields else 0.0


def _csv_reader(sample: str, delimiter: str):
    # newline="" hands line ends to the csv module, which takes a lone CR (classic Mac files) as one too.
    return csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)


def column_names(raw_names: list[str], label=str, where: str = "") -> list[str]:
    """Header names as given; an empty name becomes column_<n>; a repeated name is an error. For the message,
    `label(index)` names the index-th column (from 1: "4", or a workbook's "F") and `where` the header."""
    names = [name.strip() or f"column_{index}" for index, name in enumerate(raw_names, start=1)]
    seen: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if name in seen:
            raise JobInputError(
                f"The column name '{name}' appears twice in the header (columns {label(seen[name])} and "
                f"{label(index)}{where}); "
                "give every column its own name and upload the file again."
            )
        seen[name] = index
    return names


def _check_columns(count: int, limits: Limits) -> None:
    if count > limits.max_columns:
        raise JobInputError(f"The file has {count:,} columns; the limit is {limits.max_columns:,}.")


def _check_rows(count: int, limits: Limits) -> None:
    if count > limits.max_rows:
        raise JobInputError(
            f"The file has more than {limits.max_rows:,} rows, the limit; split it and upload the parts."
        )


def _rows_with_lines(sample: str, delimiter: str, limit: int = HEADER_SCAN_LINES):
    """The sample's rows with the line each starts on (a quoted value may span lines)."""
    reader = _csv_reader(sample, delimiter)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
            if start > limit:
                return
    except csv.Error:
        return


def _non_empty(row: list[str]) -> int:
    return sum(1 for value in row if value.strip())


def find_header(sample: str, delimiter: str, declared: int | None = None) -> tuple[int, list[str]]:
    """The header's line and its names. Title lines above it (a title, an export date: fewer filled fields than
    half the table's width, even when a spreadsheet padded them with delimiters) are passed over; a declared
    header row is taken as it is."""
    # A declared header is looked for as far down as it was declared (the sample permitting).
    rows = list(_rows_with_lines(sample, delimiter, max(HEADER_SCAN_LINES, declared or 0)))
    if declared is not None:
        for line, row in rows:
            if line == declared:
                if not _non_empty(row):
                    raise JobInputError(f"Line {declared}, declared as the header row, is empty.")
                return line, row
        raise JobInputError(
            f"Line {declared}, declared as the header row, is beyond the file's first {len(rows)} lines read to find "
            "the header."
        )
    counts = Counter(len(row) for _, row in rows if _non_empty(row) > 1)
    if not counts:
        return next(((line, row) for line, row in rows if _non_empty(row)), (1, []))
    width = counts.most_common(1)[0][0]
    # A header names (nearly) every column; a study name and export date, or a group row over the columns
    # ("Baseline" over three), fill fewer fields than the fullest rows do.
    fullest = max(_non_empty(row) for _, row in rows)
    needed = max(2, (width + 1) // 2, fullest - max(1, fullest // 10))
    for line, row in rows:
        if _non_empty(row) >= needed:
            return line, row
    return rows[0]


def _odd_quote_message(path: Path, encoding: str) -> str:
    """Where the file's unbalanced quote character is: the first line holding an odd number of them."""
    with path.open(encoding=encoding, newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if line.count('"') % 2:
                shown = line.strip()[:60]
                return (
                    f"Line {number} holds an unbalanced quote character ({shown!r}): a value holding a quote must be "
                    'quoted, with the quote doubled ("12"" catheter"). Correct it and upload the file again.'
                )
    return "The file has an unbalanced quote character; check that it is complete."


def _diagnose_rows(path: Path, encoding: str, delimiter: str, width: int, header_line: int = 1) -> str | None:
    """The rows that do not fit the header, read row by row (only after a failure): the first ones by line with
    their counts of values, and how many in all."""
    bad: list[tuple[int, int]] = []
    total = 0
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        start = 1
        try:
            for row in reader:
                if start > header_line and row and len(row) != width:
                    total += 1
                    if len(bad) < RAGGED_LINES_NAMED:
                        bad.append((start, len(row)))
                start = reader.line_num + 1
        except csv.Error:
            if not total:
                return (
                    f"The value starting on line {start} opens a quote that is never closed: the file may be "
                    "truncated, or a value contains a stray quote character."
                )
    if not total:
        return None
    why = f"a ragged row, an unquoted {DELIMITER_NAMES[delimiter]} inside a value, or a truncated file"
    if total == 1:
        line, count = bad[0]
        kind = "fewer" if count < width else "more"
        return f"Line {line} has {count} values but the header has {width} columns ({kind} values than columns: {why})."
    listed = ", ".join(f"line {line} has {count}" for line, count in bad)
    more = f", and {total - len(bad):,} more" if total > len(bad) else ""
    return (
        f"{total:,} lines do not have the header's {width} values ({why}): {listed}{more}. Correct them and upload "
        "the file again."
    )


def _blank(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.or_(pc.equal(pc.binary_length(values), 0), pc.utf8_is_space(values))


def _without_blank_rows(table: pa.Table) -> tuple[pa.Table, int]:
    """The table without rows whose every value is blank (a spreadsheet saves them as ";;;"), and how many.

    Such a row holds no participant; a row with any value is kept whole. Only the rows whose first value is
    blank are looked at further, so a file without them costs one pass over one column.
    """
    if not table.num_columns or not table.num_rows:
        return table, 0
    blank = _blank(table.column(0))
    if not pc.any(blank).as_py():
        return table, 0
    for name in table.column_names[1:]:
        blank = pc.and_(blank, _blank(table.column(name)))
        if not pc.any(blank).as_py():
            return table, 0
    count = pc.sum(blank).as_py()
    return table.filter(pc.invert(blank)), count


def header_only_error(names: list[str], where: str = "") -> JobInputError:
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return JobInputError(
        f"The file{where} has a header row ({shown}) but no data rows: it holds no participant data. Upload the file "
        "with its rows."
    )


def read_delimited(path: Path, head: bytes, limits: Limits, choice: "ReadChoice | None" = None) -> SourceTable:
    choice = choice or ReadChoice()
    counted = [0]
    encoding = detect_encoding(path, head, counted)
    quotes = counted[0]
    sample = _sample_text(path, encoding)
    if not sample.strip():
        raise JobInputError("The file is empty: it has no header row and no data.")
    delimiter = detect_delimiter(sample)
    header_line, header = find_header(sample, delimiter, choice.header_row)
    _check_columns(len(header), limits)
    names = column_names(header)
    if quotes % 2:
        problem = _diagnose_rows(path, encoding, delimiter, len(names), header_line)
        raise JobInputError(problem or _odd_quote_message(path, encoding))
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=header_line, encoding=arrow_encoding),
            # Without quotes no value can hold a line break, and the reader may split the file freely.
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=quotes > 0),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        if "Could not skip initial" in str(error):
            raise header_only_error(names)  # the header is the file's last line, without a line end
        problem = _diagnose_rows(path, encoding, delimiter, len(names), header_line)
        raise JobInputError(problem or f"The file cannot be read as delimited text: {error}")
    _check_rows(table.num_rows, limits)
    table, blank_rows = _without_blank_rows(table)
    if table.num_rows == 0:
        raise header_only_error(names)
    options = {"encoding": encoding, "delimiter": DELIMITER_NAMES[delimiter]}
    if blank_rows:
        options["blank_rows_skipped"] = blank_rows
    if header_line > 1 or choice.header_row is not None:
        options["header_row"] = header_line
    return SourceTable(
        table=table,
        untyped=set(names),
        options=options,
        # Where a value could be read either way ("1,234"), a file split by commas more likely groups thousands.
        decimal_hint="." if delimiter == "," else ",",
    )


# ------------------------------------------------------------------------------------------------- xlsx


def _workbook_limits(limits: Limits) -> workbooks.WorkbookLimits:
    return workbooks.WorkbookLimits(
        max_rows=limits.max_rows,
        max_columns=limits.max_columns,
        max_uncompressed_bytes=limits.xlsx_max_uncompressed_bytes,
        max_ratio=limits.xlsx_max_ratio,
    )


def read_xlsx(path: Path, limits: Limits, choice: "ReadChoice | None" = None) -> SourceTable:
    book_limits = _workbook_limits(limits)
    workbooks.check_container(path, book_limits)
    # A file object, not the path: openpyxl judges a path by its extension and stored names have none.
    with path.open("rb") as handle:
        table, options = _read_workbook(handle, book_limits, choice or ReadChoice())
    _check_columns(table.width, limits)
    _check_rows(len(table.rows), limits)
    names = column_names(
        table.names,
        lambda index: _column_letter(table.first_column + index - 1),
        f" of row {table.header_row}, sheet '{table.sheet}'",
    )
    columns = [pa.array(values, type=pa.string()) for values in zip(*table.rows, strict=True)]
    return SourceTable(
        table=pa.table(dict(zip(names, columns, strict=True))), untyped=set(names), options=options, decimal_hint=","
    )


def _open_workbook(handle):
    import openpyxl

    try:
        return openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds (KeyError, BadZipFile, XML errors) on bad files
        raise JobInputError(f"The Excel workbook cannot be read: it is damaged or not a real xlsx ({error}).")


def _read_workbook(handle, limits: workbooks.WorkbookLimits, choice: "ReadChoice"):
    workbook = _open_workbook(handle)
    try:
        return _workbook_table(workbook, limits, choice)
    except JobInputError:
        raise
    except Exception as error:
        raise JobInputError(f"The Excel workbook cannot be read: it is damaged or truncated ({error}).")
    finally:
        workbook.close()


def _quoted(titles) -> str:
    return ", ".join(f"'{title}'" for title in titles)


def _workbook_table(workbook, limits: workbooks.WorkbookLimits, choice: "ReadChoice"):
    """The table to read and the read options that say where it was found."""
    titles = [sheet.title for sheet in workbook.worksheets]
    if not titles:
        raise JobInputError("The Excel workbook has no worksheet.")
    if choice.sheet and choice.sheet not in titles:
        raise JobInputError(f"The workbook has no sheet '{choice.sheet}' (declared); its sheets are {_quoted(titles)}.")
    sheets: dict[str, workbooks.Sheet] = {}

    def sheet(title: str) -> workbooks.Sheet:
        if title not in sheets:
            sheets[title] = workbooks.stream_sheet(workbook[title], limits)
        return sheets[title]

    found = {title: workbooks.best_table(sheet(title)) for title in ([choice.sheet] if choice.sheet else titles)}
    # A hidden sheet (an old export, a lookup list) is read only when no visible sheet holds a table.
    hidden = [ws.title for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") != "visible"]
    if choice.sheet:
        chosen_title, chosen_by = choice.sheet, "declaration"
    else:
        visible = {title: table for title, table in found.items() if title not in hidden}
        chosen_title, chosen_by = _largest(visible) or _largest(found), "detected"
    if chosen_title is None and choice.header_row is None:
        raise _no_table_error(titles, sheet, found)
    if chosen_title is None:
        chosen_title = titles[0]
    if choice.header_row is not None:
        table = workbooks.table_with_header(sheet(chosen_title), choice.header_row)
        chosen_by = "declaration"
    else:
        table = found[chosen_title]
    if table is None or table.width < 2 or not table.rows:
        _refuse_small(table, chosen_title, titles, sheet)
    options = {
        "sheet": table.sheet,
        "header_row": table.header_row,
        "chosen_by": chosen_by,
        "sheets": titles,
        "other_sheets": [title for title in titles if title != table.sheet],
    }
    if table.first_column:
        options["first_column"] = _column_letter(table.first_column)
    if table.rows_left_out:
        options["rows_left_out"] = _row_ranges(table.rows_left_out)
    if hidden:
        options["hidden_sheets"] = hidden
    others = _other_tables(found, table)
    if others:
        options["other_tables"] = others
    return table, options


def _other_tables(found: dict, read: workbooks.Table) -> list[str]:
    """The other sheets that hold a table of data too (one arm per sheet, outcomes apart from baseline; not a
    dictionary of the table read): only one is read, and the version's page says which others could be."""
    return [
        f"{title}: {len(table.rows):,} rows, {table.width} columns"
        for title, table in found.items()
        if title != read.sheet and workbooks.holds_table(table) and not workbooks.describes(table, read)
    ]


def _largest(found: dict) -> str | None:
    """The sheet whose table holds the data: the largest, unless it describes another sheet's columns (a
    dictionary or codebook sheet), weighed by what its name says. A header without rows is no table (the file
    is refused), and one-column tables count only when no sheet has a wider table or header."""
    tables = [table for table in found.values() if table is not None]
    wide = [table for table in tables if table.width >= 2]
    pool = [table for table in (wide or tables) if table.rows]
    if not pool:
        return None
    return max(pool, key=lambda table: workbooks.data_preference(table, pool)).sheet


def _no_table_error(titles, sheet, found) -> JobInputError:
    header_only = [table for table in found.values() if table is not None and table.width >= 2 and not table.rows]
    if header_only:
        table = header_only[0]
        return header_only_error(table.names, f"'s sheet '{table.sheet}' (header on row {table.header_row})")
    described = "; ".join(workbooks.describe_sheet(sheet(title), found.get(title)) for title in titles)
    return JobInputError(
        f"No sheet of the workbook holds a table with a header row and data rows: {described}. Declare the sheet "
        'and header row ("sheet", "header_row") if the table is there.'
    )


def _refuse_small(table, title: str, titles: list[str], sheet) -> None:
    """A table of fewer than two columns or no rows is read only when no other sheet holds a table."""
    others = []
    for other in titles:
        if other == title:
            continue
        found = workbooks.best_table(sheet(other))
        if workbooks.holds_table(found):
            others.append(workbooks.describe_sheet(sheet(other), found))
    if table is not None and table.rows and not others:
        return  # one column, and nothing else to read: read it
    if table is not None and not table.rows:
        where = f"'s sheet '{title}' (header on row {table.header_row})"
        error = header_only_error(table.names, where)
        if others:
            error = JobInputError(f"{error.message} Other sheets hold a table: {'; '.join(others)}.")
        raise error
    what = workbooks.describe_sheet(sheet(title), table)
    advice = f"Other sheets hold a table: {'; '.join(others)}." if others else "No other sheet holds a table either."
    raise JobInputError(
        f"Sheet {what} gives fewer than two columns, which is not read as the data. {advice} Declare the sheet "
        'and header row to read ("sheet", "header_row").'
    )


def _column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _row_ranges(numbers: list[int]) -> str:
    """Row numbers as ranges: 12-14, 20."""
    ranges, start, last = [], None, None
    for number in numbers:
        if start is not None and number == last + 1:
            last = number
            continue
        if start is not None:
            ranges.append(f"{start}-{last}" if last != start else str(start))
        start = last = number
    if start is not None:
        ranges.append(f"{start}-{last}" if last != start else str(start))
    return ", ".join(ranges)


# ----------------------------------------------------------------------------------------- SAS, Stata, SPSS


def _label_key(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _stat_reader(fmt: str):
    import pyreadstat

    return {
        Format.SAS7BDAT: pyreadstat.read_sas7bdat,
        Format.XPORT: pyreadstat.read_xport,
        Format.DTA: pyreadstat.read_dta,
        Format.SAV: pyreadstat.read_sav,
    }[fmt]


def _empty_text_as_missing(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(pc.binary_length(text), 0), pa.scalar(None, text.type), text)


def _statistical_column(series) -> pa.Array:
    """A column from pyreadstat in its declared type: whole-number doubles stay doubles unless all whole.

    An empty text value is missing: SAS stores a missing text value as blanks, which read as '', and Stata and
    SPSS take an empty text value for missing too.
    """
    if series.dtype == object:
        values = [None if value is None or (isinstance(value, float) and value != value) else value for value in series]
        kinds = {type(value) for value in values if value is not None}
        if kinds <= {str}:
            return pa.array([value if value else None for value in values], type=pa.string())
        if kinds <= {datetime.date}:
            return pa.array(values, type=pa.date32())
        if kinds <= {datetime.time}:
            return pa.array([value.isoformat() if value else None for value in values], type=pa.string())
        return pa.array([None if value is None else str(value) for value in values], type=pa.string())
    array = pa.Array.from_pandas(series)
    # pandas' own text dtype, in which pyreadstat returns text columns.
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return _empty_text_as_missing(array)
    return array


# ------------------------------------------------------------------------- the file's own missing values


def _user_missing_option(fmt: str) -> dict:
    """Ask for the values the file declares missing, to count them (SAS transport files have none)."""
    return {} if fmt == Format.XPORT else {"user_missing": True}


def _bound_text(value) -> str:
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "highest" if value > 0 else "lowest"
    return _label_key(value)


def _in_range(series, low, high):
    """Where `series` holds a value of the declared range (one value when both ends are equal)."""
    import pandas as pd

    if low == high:
        try:
            return (series == low).fillna(False).astype(bool)
        except TypeError:
            return pd.Series(False, index=series.index)
    if not pd.api.types.is_numeric_dtype(series):
        return pd.Series(False, index=series.index)
    return ((series >= low) & (series <= high)).fillna(False).astype(bool)


def _file_missing_values(frame, meta) -> dict[str, list[dict]]:
    """Count the values the file's own metadata declares missing, per code, and make them missing in `frame`
    (as they were before they were counted): SPSS user-missing values and ranges, Stata and SAS special
    missing values."""
    found: dict[str, list[dict]] = {}
    meta_types = getattr(meta, "readstat_variable_types", None) or {}
    declared = [
        (column, [(item["lo"], item["hi"]) for item in ranges], _range_code)
        for column, ranges in (getattr(meta, "missing_ranges", None) or {}).items()
    ] + [
        (column, [(letter, letter) for letter in letters], _letter_code)
        for column, letters in (getattr(meta, "missing_user_values", None) or {}).items()
    ]
    for column, bounds, code in declared:
        if column not in frame.columns or not bounds:
            continue
        series = frame[column]
        missing = None
        codes = found.setdefault(column, [])
        for low, high in bounds:
            mask = _in_range(series, low, high)
            codes.append({"code": code(low, high), "count": int(mask.sum()), "declared_by": "file"})
            missing = mask if missing is None else missing | mask
        frame[column] = _without(series, missing, numeric=meta_types.get(column) == "double")
    return found


def _without(series, missing, *, numeric: bool):
    """`series` with the `missing` values made missing, in the type it has without them."""
    kept = series.mask(missing).infer_objects()
    if numeric and kept.dtype == object and kept.isna().all():
        return kept.astype("float64")  # only special missing values: a numeric column with no value
    return kept


def _range_code(low, high) -> str:
    return _bound_text(low) if low == high else f"{_bound_text(low)} to {_bound_text(high)}"


def _letter_code(letter, _) -> str:
    """Stata's .a to .z and SAS's .A to .Z and ._, as the programs print them."""
    return f".{letter}"


def read_statistical(path: Path, fmt: str, limits: Limits) -> SourceTable:
    reader = _stat_reader(fmt)
    name = FORMAT_NAMES[fmt]
    try:
        _, meta = reader(str(path), metadataonly=True)
        if meta.number_columns is not None:
            _check_columns(meta.number_columns, limits)
        if meta.number_rows is not None:
            _check_rows(meta.number_rows, limits)
        frame, meta = reader(str(path), row_limit=limits.max_rows + 1, **_user_missing_option(fmt))
    except JobInputError:
        raise
    except Exception as error:  # pyreadstat raises ReadstatError/PyreadstatError and others on bad files
        raise JobInputError(f"The {name} file cannot be read: it is damaged or truncated ({error}).")
    _check_rows(len(frame), limits)
    file_missing = _file_missing_values(frame, meta)
    names = column_names([str(column) for column in frame.columns])
    if not len(frame):
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise JobInputError(
            f"The {name} file declares its variables ({shown}) but holds no rows: no participant data. Upload the "
            "file with its rows."
        )
    table = pa.table({column: _statistical_column(frame[column]) for column in names})
    column_labels = zip(meta.column_names, meta.column_labels or [], strict=False)
    labels = {column: label for column, label in column_labels if label}
    value_labels = {
        column: {_label_key(value): str(label) for value, label in mapping.items()}
        for column, mapping in (meta.variable_value_labels or {}).items()
    }
    source_formats = {column: str(kind) for column, kind in (meta.original_variable_types or {}).items() if kind}
    options = {"encoding": meta.file_encoding} if getattr(meta, "file_encoding", None) else {}
    return SourceTable(
        table=table,
        labels=labels,
        value_labels=value_labels,
        source_formats=source_formats,
        options=options,
        file_missing=file_missing,
    )


def read_source(path: Path, fmt: str, head: bytes, limits: Limits, choice: "ReadChoice | None" = None) -> SourceTable:
    if fmt == Format.CSV:
        return read_delimited(path, head, limits, choice)
    if fmt == Format.XLSX:
        return read_xlsx(path, limits, choice)
    if fmt in FORMAT_NAMES:
        return read_statistical(path, fmt, limits)
    raise JobInputError(
        "The file is neither text nor a format the app reads (CSV/TSV, Excel xlsx, SAS, Stata, SPSS): its first "
        "bytes are binary data. Check that the right file was uploaded."
    )
