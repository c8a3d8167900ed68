"""The declarations form of a version's page: one field for every variable's missing codes, and per variable
its own missing codes and date format. Codes are typed separated by commas; the service checks the rest."""

from apps.datasets.declarations import date_format_for

ALL_CODES_FIELD = "missing_codes"


def codes_field(position: int) -> str:
    return f"missing_codes_{position}"


def format_field(position: int) -> str:
    return f"date_format_{position}"


def split_codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def declarations_from_form(data, dictionary) -> dict:
    """The declarations the form's fields describe, in the shape the service takes."""
    variables = {}
    for entry in dictionary:
        codes = split_codes(data.get(codes_field(entry.position), ""))
        fmt = data.get(format_field(entry.position), "").strip()
        declared = {"missing_codes": codes} if codes else {}
        if fmt:
            declared["date_format"] = fmt
        if declared:
            variables[entry.name] = declared
    return {"missing_codes": split_codes(data.get(ALL_CODES_FIELD, "")), "variables": variables}


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
        else:
            codes = ", ".join(own.get("missing_codes", []))
            fmt = date_format_for(declarations, entry.name)
        prefix = f"variables.{entry.name}"
        rows.append(
            {
                "entry": entry,
                "codes_field": codes_field(entry.position),
                "format_field": format_field(entry.position),
                "codes": codes,
                "format": fmt,
                "codes_error": errors.get(f"{prefix}.missing_codes") or errors.get(prefix, ""),
                "format_error": errors.get(f"{prefix}.date_format", ""),
            }
        )
    return rows


def all_codes_value(declarations: dict, *, data=None) -> str:
    if data is not None:
        return data.get(ALL_CODES_FIELD, "")
    return ", ".join(declarations.get("missing_codes", []))


def all_codes_error(details: dict | None) -> str:
    return _field_errors(details or {}).get(ALL_CODES_FIELD, "")
