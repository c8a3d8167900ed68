"""Ids that arrive as text (URL parts, query strings, form fields)."""


def as_int(value) -> int | None:
    """The integer `value` stands for, or None when it is not one: a lookup with None finds nothing, so a
    malformed id answers like a missing one (404), never with a 500."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
