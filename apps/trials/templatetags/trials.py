"""Presentation helpers for the tracking templates: status badges and the pipeline's shape."""

import datetime

from django import template
from django.apps import apps
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.html import format_html

from apps.trials import lifecycle

register = template.Library()

# Stages of the main path grouped the way a review team talks about them, for the compact strip.
STAGE_GROUPS = (
    ("early", "Screening", (lifecycle.Status.IDENTIFIED, lifecycle.Status.ELIGIBLE, lifecycle.Status.IPD_SOUGHT)),
    ("contact", "Contact", (lifecycle.Status.CONTACTED, lifecycle.Status.RESPONDED)),
    ("agreement", "Agreement", (lifecycle.Status.AGREEMENT_IN_PROGRESS, lifecycle.Status.AGREEMENT_SIGNED)),
    ("done", "Data", (lifecycle.Status.DATA_RECEIVED, lifecycle.Status.DATA_CHECKED, lifecycle.Status.INCLUDED)),
    ("exit", "Exited", lifecycle.EXITS),
)
DATA_OBTAINED = {lifecycle.Status.DATA_RECEIVED, lifecycle.Status.DATA_CHECKED, lifecycle.Status.INCLUDED}


def status_tone(status: str) -> str:
    if lifecycle.is_exit(status):
        return "exit"
    if status in DATA_OBTAINED:
        return "done"
    return "active"


@register.simple_tag
def status_badge(status: str):
    return format_html('<span class="badge badge--{}">{}</span>', status_tone(status), lifecycle.label(status))


@register.filter
def tone(status: str) -> str:
    return status_tone(status)


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@register.filter
def share_of(part, whole) -> str:
    """CSS width for a bar: part / whole as a percentage, with a sliver kept visible for non-zero parts."""
    if not whole or not part:
        return "0%"
    return f"{max(part / whole * 100, 2):.1f}%"


@register.simple_tag
def pipeline_summary(pipeline: list[dict]) -> dict:
    """Totals and grouped stage counts for a review's pipeline rows (from selectors.review_pipeline)."""
    counts = {row["status"]: row for row in pipeline}
    total_trials = sum(row["trials"] for row in pipeline)
    groups = []
    for key, label, statuses in STAGE_GROUPS:
        trials = sum(counts.get(str(status), {}).get("trials", 0) for status in statuses)
        groups.append({"key": key, "label": label, "trials": trials})
    return {
        "trials": total_trials,
        "participants": sum(row["participants"] for row in pipeline),
        "max_trials": max((row["trials"] for row in pipeline), default=0),
        "obtained_trials": sum(counts[str(s)]["trials"] for s in DATA_OBTAINED if str(s) in counts),
        "obtained_participants": sum(counts[str(s)]["participants"] for s in DATA_OBTAINED if str(s) in counts),
        "included": counts.get(str(lifecycle.Status.INCLUDED), {}).get("trials", 0),
        "exited": sum(row["trials"] for row in pipeline if row["is_exit"]),
        "groups": groups,
    }


@register.filter
def status_label(status: str) -> str:
    try:
        return lifecycle.label(status)
    except ValueError:
        return status or ""


@register.filter
def object_label(model_name: str) -> str:
    """'contactattempt' -> 'contact attempt': the audit trail stores model names, people read verbose names."""
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return str(model._meta.verbose_name)
    return model_name


@register.simple_tag(takes_context=True)
def sortable_header(context, key: str, label: str, css_class: str = ""):
    """A column header of the trial list: a link that sorts by `key` (again: the other way), with aria-sort on the
    column the list is sorted by. The context gives the current `sort` and the other parameters (`sort_query`)."""
    current = context.get("sort") or ""
    if current == key:
        aria, next_sort, arrow = "ascending", f"-{key}", "▲"
    elif current == f"-{key}":
        aria, next_sort, arrow = "descending", key, "▼"
    else:
        aria, next_sort, arrow = None, key, ""
    query = context.get("sort_query") or ""
    href = f"?{query}&sort={next_sort}" if query else f"?sort={next_sort}"
    return format_html(
        '<th scope="col"{}{}><a href="{}">{}</a>{}</th>',
        format_html(' class="{}"', css_class) if css_class else "",
        format_html(' aria-sort="{}"', aria) if aria else "",
        href,
        label,
        format_html(' <span aria-hidden="true">{}</span>', arrow) if arrow else "",
    )


def follow_up_state(day: datetime.date, today: datetime.date | None = None) -> tuple[str, str]:
    """(tone, words) for a follow-up date: overdue (and by how long), due today, or due in some days."""
    days = (day - (today or timezone.localdate())).days
    if days < 0:
        return "danger", f"overdue by {-days} day{pluralize(-days)}"
    if days == 0:
        return "warning", "due today"
    return "active", f"due in {days} day{pluralize(days)}"


@register.simple_tag
def follow_up_badge(day: datetime.date | None):
    """A follow-up date as a badge that says whether it is overdue, due today or still to come, with the date."""
    if day is None:
        return "–"
    tone_name, words = follow_up_state(day)
    return format_html(
        '<span class="badge badge--{}">{}</span> <time datetime="{}">{}</time>',
        tone_name,
        words,
        day.isoformat(),
        f"{day.day} {day:%b %Y}",
    )
