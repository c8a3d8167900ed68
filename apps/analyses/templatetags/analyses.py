"""Numbers and run states as the analyses pages show them."""

from django import template
from django.utils.html import format_html

from apps.analyses import presentation
from apps.analyses.models import RunState
from apps.analyses.scales import on_scale

register = template.Library()

RUN_TONES = {
    RunState.QUEUED: "exit",
    RunState.RUNNING: "warning",
    RunState.SUCCEEDED: "done",
    RunState.FAILED: "danger",
}


@register.simple_tag
def run_badge(state: str):
    return format_html('<span class="badge badge--{}">{}</span>', RUN_TONES.get(state, "exit"), RunState(state).label)


@register.filter
def num(value, digits: int = 2) -> str:
    return presentation.number(value, int(digits))


@register.filter
def pvalue(value) -> str:
    return presentation.p_value(value)


@register.simple_tag
def pooled_text(pooled, measure: str) -> str:
    """'0.72 (0.55 to 0.94)' of an engine block ({estimate, ci_low, ci_high}) on the measure's own scale."""
    if not pooled or pooled.get("estimate") is None:
        return "–"
    return presentation.interval(*(on_scale(pooled.get(key), measure) for key in ("estimate", "ci_low", "ci_high")))


@register.filter
def get_item(mapping, key):
    return mapping.get(str(key)) if mapping else None
