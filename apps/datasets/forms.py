"""The declarations form of a version's page: where the table is (sheet, header row), the file's decimal mark,
one field for every variable's missing codes, and per variable its own missing codes, date format and decimal
mark. Codes are typed separated by commas; the service checks the rest."""

from apps.datasets.declarations import date_format_for, decimal_for

ALL_CODES_FIELD = "missing_codes"
SHEET_FIELD = "sheet"
HEADER_ROW_FIELD = "header_row"
DECIMAL_FIELD = "decimal"
DECIMAL_CHOICES = [("", "Detect per column"), (",", "Comma: 12,5"), (".", "Point: 12.5")]


def codes_field(position: int) -> str:
    return f"missing_codes_{position}"


def format_field(position: int) -> str:
    return f"date_format_{position}"


def decimal_field(position: int) -> str:
    return f"decimal_{position}"


def _header_row(text: str):
    """A row number typed in the form; anything else goes to the service as typed, to be refused there."""
    text = (text or "").strip()
    return int(text) if text.isdigit() else text


def split_codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def declarations_from_form(data, dictionary) -> dict:
    """The declarations the form's fields describe, in the shape the service takes."""
    variables = {}
    for entry in dictionary:
        codes = split_codes(data.get(codes_field(entry.position), ""))
        fmt = data.get(format_field(entry.position), "").strip()
        decimal = data.get(decimal_field(entry.position), "").strip()
        declared = {"missing_codes": codes} if codes else {}
        if fmt:
            declared["date_format"] = fmt
        if decimal:
            declared["decimal"] = decimal
        if declared:
            variables[entry.name] = declared
    return {
        "missing_codes": split_codes(data.get(ALL_CODES_FIELD, "")),
        "sheet": data.get(SHEET_FIELD, "").strip(),
        "header_row": _header_row(data.get(HEADER_ROW_FIELD, "")),
        "decimal": data.get(DECIMAL_FIELD, "").strip(),
        "variables": variables,
    }


def _field_errors(details: dict) -> dict[str, str]:
    """The service's error details ("variables.age.date_format": [...]) by the part of the form they concern."""
    return {key: " ".join(str(message) for message in messages) for key, messages in details.items()}


def declaration_rows(dictionary, declarations: dict, *, data=None, details: dict | None = None) -> list[dict]:
    """One row per variable for the form: the values to show (what was sent, after an error) and its errors."""
    errors = _field_errors(details or {})
    rows = []
    for entry in dictionary:
        own = declarations.get("variables", {}).get(entry.name, {})
        if data is not None:
            codes = data.get(codes_field(entry.position), "")
            fmt = data.get(format_field(entry.position), "")
            decimal = data.get(decimal_field(entry.position), "")
        else:
            codes = ", ".join(own.get("missing_codes", []))
            fmt = date_format_for(declarations, entry.name)
            decimal = decimal_for(declarations, entry.name)
        prefix = f"variables.{entry.name}"
        rows.append(
            {
                "entry": entry,
                "codes_field": codes_field(entry.position),
                "format_field": format_field(entry.position),
                "decimal_field": decimal_field(entry.position),
                "codes": codes,
                "format": fmt,
                "decimal": decimal,
                "codes_error": errors.get(f"{prefix}.missing_codes") or errors.get(prefix, ""),
                "format_error": errors.get(f"{prefix}.date_format", ""),
                "decimal_error": errors.get(f"{prefix}.decimal", ""),
            }
        )
    return rows


def all_codes_value(declarations: dict, *, data=None) -> str:
    if data is not None:
        return data.get(ALL_CODES_FIELD, "")
    return ", ".join(declarations.get("missing_codes", []))


def all_codes_error(details: dict | None) -> str:
    return _field_errors(details or {}).get(ALL_CODES_FIELD, "")


def file_values(declarations: dict, *, data=None, details: dict | None = None) -> dict:
    """The file-wide fields (sheet, header row, decimal mark) to show, and their errors."""
    errors = _field_errors(details or {})
    if data is not None:
        values = {name: data.get(name, "") for name in (SHEET_FIELD, HEADER_ROW_FIELD, DECIMAL_FIELD)}
    else:
        values = {name: declarations.get(name, "") for name in (SHEET_FIELD, HEADER_ROW_FIELD, DECIMAL_FIELD)}
    return {
        "values": values,
        "errors": {name: errors.get(name, "") for name in (SHEET_FIELD, HEADER_ROW_FIELD, DECIMAL_FIELD)},
        "decimal_choices": DECIMAL_CHOICES,
    }
