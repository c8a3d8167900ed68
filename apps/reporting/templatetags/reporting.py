import base64

from django import template

from apps.reporting import access, selectors

register = template.Library()


@register.filter
def png_data_uri(png: bytes | None) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode() if png else ""


@register.inclusion_tag("reporting/_completion.html", takes_context=True)
def checklist_completion(context, review):
    """The PRISMA-IPD checklist's completion, for the review overview (the review team only)."""
    user = context["request"].user
    if not access.can_read_reporting(user, review):
        return {"show": False}
    return {"show": True, "review": review, "completion": selectors.checklist_completion(review)}
