"""Declared missing codes and date formats: what the people who upload a trial's data say about its variables.

Detection alone never turns a value into missing, and reads dates only when most of a column agrees on one
format. A declaration says more, and parsing follows it:

    {"missing_codes": ["NA", "."],                        # missing codes of every variable
     "sheet": "Data", "header_row": 3,                    # where the table is (header_row also in text files)
     "decimal": ",",                                      # decimal mark of the file's numbers
     "variables": {"age": {"missing_codes": ["-99"]},     # and of one variable (added to those above)
                   "weight": {"decimal": ","},            # numbers read with a decimal comma, however many fail
                   "visit": {"date_format": "%d/%m/%Y"}}}  # dates read with this format, not a detected one

- A declared missing code becomes missing before the column is typed, and is counted. Text is compared as
  written (without surrounding spaces, case counts); numbers of SAS, Stata and SPSS files by value ("-99"
  matches -99.0); other values (dates, yes/no) by their text form (2020-01-31, true).
- A declared date format is used however many values fail: the column is a date (a datetime when the format
  has a time of day), and the values that do not parse are counted and shown, never a reason to keep text.
- The file's own missing values (SPSS user-missing values and ranges, Stata's .a to .z, SAS's .A to .Z and ._)
  are missing as they always were, and now counted and listed beside the declared ones.
- A declared sheet and header row say where a workbook's table is, instead of the sheet with the largest table
  and the header found above its rows (header_row also sets the header line of a text file).
- A decimal mark declared for the file is how a column is read when its values allow either reading ("1,234");
  declared for a variable, the variable is read as numbers with it however many values fail, the failures counted.

Stored normalised on DatasetVersion.declarations (empty parts left out; no declaration is `{}`).
"""

import hashlib
import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from apps.core.errors import ApplicationError
from apps.datasets.inference import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    INVALID_EXAMPLES,
    NUMBER,
    parse_declared_dates,
    parse_declared_numbers,
)
from apps.datasets.readers import ReadChoice

MAX_CODES = 100
MAX_CODE_LENGTH = 100
MAX_FORMAT_LENGTH = 64
# The directives the parser reads and prints back the same (a value is kept only when it prints as written).
YEAR = {"Y", "y"}
MONTH = {"m", "b", "B"}
DAY = {"d"}
DAY_OF_YEAR = {"j"}
TIME = {"H", "M", "S", "I", "p"}
WEEKDAY = {"a", "A"}
DIRECTIVES = YEAR | MONTH | DAY | DAY_OF_YEAR | TIME | WEEKDAY | {"%"}
DIRECTIVE_NAMES = "%Y %y %m %b %B %d %j %H %I %p %M %S %a %A %%"
# Offered on the page; any valid format is accepted.
KNOWN_FORMATS = [*DATE_FORMATS, *DATETIME_FORMATS]
STATISTICAL_FORMATS = {"sas7bdat", "xport", "dta", "sav"}
DECIMAL_MARKS = (",", ".")
MAX_SHEET_NAME = 31  # Excel's own limit
MAX_HEADER_ROW = 1_048_576  # Excel's last row
TEMPORAL_TYPES = {"date", "datetime"}
DECLARED_BY_VERSION = "declaration"
DECLARED_BY_FILE = "file"


# --------------------------------------------------------------------------------------------- validation


def _directives(fmt: str) -> list[str] | str:
    """The directives of `fmt` (letters after %), or a message saying what is wrong with it."""
    found = []
    index = 0
    while index < len(fmt):
        if fmt[index] != "%":
            index += 1
            continue
        if index + 1 == len(fmt):
            return "it ends with a lone '%' (write '%%' for a percent sign)"
        letter = fmt[index + 1]
        if letter not in DIRECTIVES:
            return f"'%{letter}' is not a directive the date parser reads (use {DIRECTIVE_NAMES})"
        found.append(letter)
        index += 2
    return found


def date_format_problem(fmt: str) -> str | None:
    """Why `fmt` cannot be used to read dates, or None when it can."""
    if not fmt.strip():
        return "the format is empty"
    if len(fmt) > MAX_FORMAT_LENGTH:
        return f"the format is longer than {MAX_FORMAT_LENGTH} characters"
    found = _directives(fmt)
    if isinstance(found, str):
        return found
    letters = set(found)
    repeated = sorted({letter for letter in found if found.count(letter) > 1 and letter != "%"})
    if repeated:
        return f"'%{repeated[0]}' appears twice"
    if not letters & YEAR:
        return "it has no year (%Y or %y)"
    if not letters & DAY_OF_YEAR and not (letters & MONTH and letters & DAY):
        return "it needs a month and a day (%m or %b, and %d), or a day of the year (%j)"
    if ("I" in letters) != ("p" in letters):
        return "a 12-hour clock needs both %I and %p (or use %H)"
    return None


def format_has_time(fmt: str) -> bool:
    found = _directives(fmt)
    return not isinstance(found, str) and bool(set(found) & TIME)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code="invalid_declaration", details={field: [message]})


def _clean_codes(raw, field: str) -> list[str]:
    if not isinstance(raw, list):
        raise _invalid(field, 'give a list of codes, e.g. ["NA", "-99"].')
    if len(raw) > MAX_CODES:
        raise _invalid(field, f"at most {MAX_CODES} codes.")
    codes: list[str] = []
    for code in raw:
        if not isinstance(code, str):
            raise _invalid(field, f'codes are text: write {json.dumps(code)} as "{code}".')
        code = code.strip()
        if not code:
            raise _invalid(field, "an empty code: empty values are missing without a declaration.")
        if len(code) > MAX_CODE_LENGTH:
            raise _invalid(field, f"the code '{code[:20]}...' is longer than {MAX_CODE_LENGTH} characters.")
        if "," in code:
            # The page lists codes separated by commas, so a code holding one could not be shown and kept.
            raise _invalid(field, f"the code '{code}' holds a comma; declare each code on its own.")
        if code not in codes:
            codes.append(code)
    return codes


def _check_keys(raw: dict, allowed: set[str], field: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _invalid(field, f"unknown key '{unknown[0]}'; use {' and '.join(sorted(allowed))}.")


def _clean_variable(name: str, raw, variable_type: str | None, *, statistical: bool, was_declared: bool) -> dict:
    field = f"variables.{name}"
    if not isinstance(raw, dict):
        raise _invalid(field, 'give an object, e.g. {"missing_codes": ["-99"], "date_format": "%d/%m/%Y"}.')
    _check_keys(raw, {"missing_codes", "date_format", "decimal"}, field)
    cleaned = {}
    codes = _clean_codes(raw.get("missing_codes", []), f"{field}.missing_codes")
    if codes:
        cleaned["missing_codes"] = codes
    decimal = _clean_decimal(raw.get("decimal"), f"{field}.decimal", statistical=statistical)
    if decimal:
        if variable_type in TEMPORAL_TYPES or variable_type == "boolean":
            raise _invalid(f"{field}.decimal", f"'{name}' holds {variable_type} values; a decimal mark reads numbers.")
        if raw.get("date_format"):
            raise _invalid(field, "declare a date format or a decimal mark, not both.")
        cleaned["decimal"] = decimal
    fmt = raw.get("date_format")
    if fmt == "":
        raise _invalid(f"{field}.date_format", "an empty format reads no date; leave the key out to detect dates.")
    if fmt is not None:
        if not isinstance(fmt, str):
            raise _invalid(f"{field}.date_format", 'give the format as text, e.g. "%d/%m/%Y".')
        problem = date_format_problem(fmt)
        if problem:
            raise _invalid(f"{field}.date_format", f"'{fmt}' cannot read dates: {problem}.")
        if statistical and variable_type in TEMPORAL_TYPES and not was_declared:
            raise _invalid(
                f"{field}.date_format",
                f"the file itself stores '{name}' as a {variable_type}; a date format reads text or numbers.",
            )
        cleaned["date_format"] = fmt
    return cleaned


def declarations_clean(
    raw,
    *,
    variables: dict[str, tuple[str, bool]],
    statistical: bool = False,
    file_format: str = "",
    sheets: list[str] | None = None,
) -> dict:
    """The declarations in their stored shape, or an ApplicationError (400) naming the field and variable.

    `variables` maps each variable of the parsed version to (its type, whether its date format was declared);
    `statistical` says the file is SAS, Stata or SPSS, whose dates and numbers are typed by the file itself;
    `sheets` lists a workbook's sheets when they are known.
    """
    if not isinstance(raw, dict):
        raise _invalid("declarations", 'give an object: {"missing_codes": [...], "variables": {...}}.')
    _check_keys(raw, {"missing_codes", "variables", "sheet", "header_row", "decimal"}, "declarations")
    cleaned = {}
    codes = _clean_codes(raw.get("missing_codes", []), "missing_codes")
    if codes:
        cleaned["missing_codes"] = codes
    cleaned |= _clean_table_place(raw, file_format=file_format, sheets=sheets)
    decimal = _clean_decimal(raw.get("decimal"), "decimal", statistical=statistical)
    if decimal:
        cleaned["decimal"] = decimal
    declared = raw.get("variables", {})
    if not isinstance(declared, dict):
        raise _invalid("variables", 'give an object keyed by variable name, e.g. {"age": {...}}.')
    by_variable = {}
    for name, item in declared.items():
        if name not in variables:
            raise _invalid(f"variables.{name}", f"the version has no variable '{name}'.")
        variable_type, was_declared = variables[name]
        entry = _clean_variable(name, item, variable_type, statistical=statistical, was_declared=was_declared)
        if entry:
            by_variable[name] = entry
    if by_variable:
        cleaned["variables"] = by_variable
    return cleaned


def _clean_decimal(raw, field: str, *, statistical: bool) -> str:
    if raw in (None, ""):
        return ""
    if raw not in DECIMAL_MARKS:
        raise _invalid(field, 'the decimal mark is "," or ".".')
    if statistical:
        raise _invalid(field, "SAS, Stata and SPSS files store their numbers as numbers; no decimal mark applies.")
    return raw


def _clean_table_place(raw: dict, *, file_format: str, sheets: list[str] | None) -> dict:
    """The declared sheet and header row: where the table is in a workbook (the header row in a text file too)."""
    cleaned = {}
    sheet = raw.get("sheet")
    if sheet not in (None, ""):
        if not isinstance(sheet, str) or len(sheet) > MAX_SHEET_NAME:
            raise _invalid("sheet", f"give the sheet's name as text (at most {MAX_SHEET_NAME} characters).")
        if file_format and file_format != "xlsx":
            raise _invalid("sheet", "only an Excel workbook has sheets.")
        if sheets and sheet not in sheets:
            listed = ", ".join(f"'{title}'" for title in sheets)
            raise _invalid("sheet", f"the workbook has no sheet '{sheet}'; its sheets are {listed}.")
        cleaned["sheet"] = sheet
    header_row = raw.get("header_row")
    if header_row not in (None, ""):
        if isinstance(header_row, bool) or not isinstance(header_row, int) or not 1 <= header_row <= MAX_HEADER_ROW:
            raise _invalid("header_row", "give the header's row number, counted from 1 (e.g. 3).")
        if file_format and file_format not in ("xlsx", "csv"):
            raise _invalid("header_row", "only workbooks and text files have a header row to declare.")
        cleaned["header_row"] = header_row
    return cleaned


def read_choice(declarations: dict):
    """Where the table is and how its numbers are written, as the readers take it."""
    return ReadChoice(
        sheet=declarations.get("sheet", ""),
        header_row=declarations.get("header_row"),
        decimal=declarations.get("decimal", ""),
    )


def declarations_hash(declarations: dict) -> str:
    """A short name for a set of declarations ("" for none), part of the parsed table's storage name."""
    if not declarations:
        return ""
    content = json.dumps(declarations, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(content).hexdigest()[:12]


def missing_codes_for(declarations: dict, name: str) -> list[str]:
    """The variable's own codes, then those of every variable."""
    own = declarations.get("variables", {}).get(name, {}).get("missing_codes", [])
    return list(dict.fromkeys([*own, *declarations.get("missing_codes", [])]))


def date_format_for(declarations: dict, name: str) -> str:
    return declarations.get("variables", {}).get(name, {}).get("date_format", "")


def decimal_for(declarations: dict, name: str) -> str:
    """The decimal mark declared for the variable itself (a file's mark only guides detection)."""
    return declarations.get("variables", {}).get(name, {}).get("decimal", "")


def declarations_sha256(declarations: dict) -> str:
    """The full SHA-256 of the declarations as stored (canonical JSON), cited by the harmonisation log."""
    if not declarations:
        return ""
    return hashlib.sha256(json.dumps(declarations, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def describe(declarations: dict, name: str | None = None) -> str:
    """The declarations that bear on a variable (or the whole file) in words, for the log."""
    parts = []
    if declarations.get("sheet"):
        parts.append(f"sheet '{declarations['sheet']}'")
    if declarations.get("header_row"):
        parts.append(f"header row {declarations['header_row']}")
    if declarations.get("decimal"):
        parts.append(f'decimal mark "{declarations["decimal"]}" for the file')
    codes = missing_codes_for(declarations, name) if name else declarations.get("missing_codes", [])
    if codes:
        parts.append("missing codes " + ", ".join(f'"{code}"' for code in codes))
    if name and date_format_for(declarations, name):
        parts.append(f"date format {date_format_for(declarations, name)}")
    if name and decimal_for(declarations, name):
        parts.append(f'decimal mark "{decimal_for(declarations, name)}"')
    return "; ".join(parts)


def affects(declarations: dict, name: str) -> bool:
    """Whether the declarations change how the variable is read: its own, or any that apply to the whole file."""
    file_wide = any(declarations.get(key) for key in ("missing_codes", "sheet", "header_row", "decimal"))
    return file_wide or bool(declarations.get("variables", {}).get(name))


# --------------------------------------------------------------------------------------------- parsing


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_temporal(kind: pa.DataType) -> bool:
    return pa.types.is_date(kind) or pa.types.is_timestamp(kind)


def _code_counts(compared: pa.Array, mask: pa.Array, codes: list, labels: list[str]) -> list[dict]:
    counts = {entry["values"]: entry["counts"] for entry in pc.value_counts(pc.filter(compared, mask)).to_pylist()}
    return [
        {"code": label, "count": counts.get(code, 0), "declared_by": DECLARED_BY_VERSION}
        for code, label in zip(codes, labels, strict=True)
    ]


def _numeric_codes(codes: list[str]) -> tuple[list[float], list[str]]:
    """The codes that are numbers, each value once ("-99" and "-99.0" are one code of a numeric column)."""
    pairs: dict[float, str] = {}
    for code in codes:
        if re.match(NUMBER, code):
            pairs.setdefault(float(code), code)
    return list(pairs), list(pairs.values())


def _null_declared(values: pa.Array, codes: list[str]) -> tuple[pa.Array, int, list[dict]]:
    """`values` with the declared codes made missing, how many were, and a count per code."""
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        numbers, labels = _numeric_codes(codes)
        compared = pc.cast(values, pa.float64())
        matched = pa.array(numbers, pa.float64())
        counted = [*numbers]
    else:
        compared = pc.utf8_trim_whitespace(values if _is_text(kind) else pc.cast(values, pa.string()))
        matched = pa.array(codes, pa.string())
        counted, labels = codes, codes
    mask = pc.fill_null(pc.is_in(compared, value_set=matched), False)
    counts = _code_counts(compared, mask, counted, labels)
    # Codes that cannot occur in the column (text in a numeric one) are listed with no values.
    listed = {item["code"] for item in counts}
    counts += [{"code": code, "count": 0, "declared_by": DECLARED_BY_VERSION} for code in codes if code not in listed]
    counts.sort(key=lambda item: codes.index(item["code"]))
    n_missing = pc.sum(mask).as_py() or 0
    if not n_missing:
        return values, 0, counts
    return pc.if_else(mask, pa.scalar(None, kind), values), n_missing, counts


def _declared_dates(values: pa.Array, fmt: str):
    text = values if _is_text(values.type) else pc.cast(values, pa.string())
    return parse_declared_dates(text, fmt, format_has_time(fmt))


def apply_to_source(source, declarations: dict) -> dict[str, dict]:
    """Apply the declarations to a table just read, before its columns are typed (in the parse's child).

    Declared codes become missing; a column with a declared date format is read with it, and then goes through
    typing as a date column (as a file's own dates do). Returns, per variable concerned, what was done, for
    `describe_entries` to add to the dictionary.
    """
    applied: dict[str, dict] = {}
    replaced: dict[str, pa.Array] = {}
    for name in source.table.column_names:
        codes = missing_codes_for(declarations, name)
        fmt = date_format_for(declarations, name)
        decimal = decimal_for(declarations, name) if name in source.untyped else ""
        file_codes = source.file_missing.get(name, [])
        if not (codes or fmt or decimal or file_codes):
            continue
        values = source.table.column(name).combine_chunks()
        done = {"n_declared_missing": sum(item["count"] for item in file_codes), "codes": [], "file": file_codes}
        if codes:
            values, n_missing, counts = _null_declared(values, codes)
            done["n_declared_missing"] += n_missing
            done["codes"] = counts
        if fmt and not _is_temporal(values.type):
            dates = _declared_dates(values, fmt)
            values = dates.array
            source.untyped.discard(name)
            source.source_formats[name] = fmt
            done["date"] = {"n_invalid": dates.n_invalid, "invalid_examples": dates.invalid_examples}
            _keep_unread(source, name, dates.unread)
        if decimal:
            # A workbook's number cells are written "70.5" whatever the declaration, which is for its text cells.
            numbers = parse_declared_numbers(values, decimal, number_cells=bool(source.options.get("sheet")))
            values = numbers.array
            source.untyped.discard(name)
            source.source_formats[name] = numbers.source_format
            done["number"] = {"n_invalid": numbers.n_invalid, "invalid_examples": numbers.invalid_examples}
            _keep_unread(source, name, numbers.unread)
        replaced[name] = values
        applied[name] = done
    if replaced:
        names = source.table.column_names
        source.table = pa.table({name: replaced.get(name, source.table.column(name)) for name in names})
    return applied


def _keep_unread(source, name: str, unread: pa.Array | None) -> None:
    if unread is not None:
        source.unread[name] = unread


def _labelled(codes: list[dict], value_labels: dict) -> list[dict]:
    """A code the variable's value labels name (SPSS: -99 = "Refused") carries its label."""
    return [item | ({"label": value_labels[item["code"]]} if item["code"] in value_labels else {}) for item in codes]


def describe_entries(entries: list[dict], applied: dict[str, dict]) -> list[dict]:
    """Add to the dictionary entries what the declarations did: codes counted, dates read by a declared format."""
    for entry in entries:
        done = applied.get(entry["name"])
        if done is None:
            continue
        entry["missing_codes"] = _labelled([*done["codes"], *done["file"]], entry.get("value_labels") or {})
        entry["n_declared_missing"] = done["n_declared_missing"]
        # A variable that looks like personal data shows no examples of its values (dictionary.dictionary_entry).
        shown = 0 if entry.get("personal_data") else INVALID_EXAMPLES
        if "date" in done:
            entry["n_invalid"] = done["date"]["n_invalid"]
            entry["invalid_examples"] = done["date"]["invalid_examples"][:shown]
            entry["date_format_declared"] = True
        if "number" in done:
            entry["n_invalid"] = done["number"]["n_invalid"]
            entry["invalid_examples"] = done["number"]["invalid_examples"][:shown]
    return entries
