"""Badges for check and finding statuses: colour and a word, never colour alone."""

from django import template
from django.utils.html import format_html

from apps.checks.models import CheckStatus, FindingStatus

register = template.Library()

CHECK_TONES = {
    CheckStatus.PASS: "done",
    CheckStatus.WARNING: "warning",
    CheckStatus.FAIL: "danger",
    CheckStatus.NOT_APPLICABLE: "exit",
}
FINDING_TONES = {
    FindingStatus.OPEN: "danger",
    FindingStatus.ANSWERED: "warning",
    FindingStatus.RESOLVED: "done",
    FindingStatus.SUPERSEDED: "exit",
}


@register.simple_tag
def check_badge(status: str):
    return format_html(
        '<span class="badge badge--{}">{}</span>', CHECK_TONES.get(status, "exit"), CheckStatus(status).label
    )


# A sign per status, told apart by shape as well as colour, for the matrix's narrow columns.
CHECK_SIGNS = {
    CheckStatus.PASS: "\u2713",
    CheckStatus.WARNING: "!",
    CheckStatus.FAIL: "\u2715",
    CheckStatus.NOT_APPLICABLE: "n/a",
}


@register.simple_tag
def check_mark(status: str):
    """A check badge narrow enough for the integrity matrix: a sign on screen, the full word for screen readers
    (and for the link it is in)."""
    return format_html(
        '<span class="badge badge--mark badge--{}"><span aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{}</span></span>',
        CHECK_TONES.get(status, "exit"),
        CHECK_SIGNS.get(status, "?"),
        CheckStatus(status).label,
    )


@register.simple_tag
def finding_badge(status: str):
    return format_html(
        '<span class="badge badge--{}">{}</span>', FINDING_TONES.get(status, "exit"), FindingStatus(status).label
    )


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def _figure_label(key) -> str:
    return str(key).replace("_", " ").capitalize()


def _figure_value(value) -> str:
    """A figure in words: numbers as numbers, lists joined, nested figures as "label value" pairs."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "; ".join(f"{_figure_label(key).lower()}: {_figure_value(item)}" for key, item in value.items()) or "–"
    if isinstance(value, list | tuple):
        return ", ".join(_figure_value(item) for item in value) or "none"
    return str(value)


@register.filter
def figure_rows(figures) -> list[tuple[str, str]]:
    """A check's figures as (label, value) rows for a definition list, rather than raw JSON."""
    if not isinstance(figures, dict):
        return []
    return [(_figure_label(key), _figure_value(value)) for key, value in figures.items()]


@register.filter
def short_title(title: str) -> str:
    """A trial's short name: its acronym before the colon ("CAP-STEROID: dexamethasone in ..."), else the
    title cut short."""
    head, colon, _ = (title or "").partition(":")
    if colon and 0 < len(head.strip()) <= 30:
        return head.strip()
    return title if len(title or "") <= 32 else title[:31].rstrip() + "…"
