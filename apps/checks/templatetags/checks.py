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


@register.simple_tag
def check_mark(status: str):
    """A check badge narrow enough for the integrity matrix: "n/a" on screen, the full word for screen readers."""
    if status == CheckStatus.NOT_APPLICABLE:
        return format_html(
            '<span class="badge badge--exit"><span aria-hidden="true">n/a</span>'
            '<span class="visually-hidden">{}</span></span>',
            CheckStatus(status).label,
        )
    return check_badge(status)


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
