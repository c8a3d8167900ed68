"""The review overview's recent activity: the events a person acts on (status moves, uploads, queries opened and
resolved, analyses run), in plain words with links; not the audit trail, whose job states and bookkeeping are
noise there.

Each app describes its own events. The trials app gives the status moves; the apps downstream register a source
from their AppConfig.ready (as with list_filters), so this app imports none of them. A source is a function
(review, trials, review_wide, limit) -> list[Activity]: `trials` is a queryset of the trials the reader may see,
`review_wide` says whether they may also see events of no trial (analyses); it returns its `limit` newest events
in one query, whatever the review's size.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from apps.trials import lifecycle
from apps.trials.models import StatusTransition


@dataclass(frozen=True)
class Activity:
    when: datetime.datetime
    text: str  # "Status moved from Contacted to Responded"
    url: str
    actor: object = None  # None: no person acted (a worker, a job)
    trial: object = None  # the trial it happened to, if any


_SOURCES: dict[str, Callable] = {}


def register(name: str, source: Callable) -> None:
    _SOURCES[name] = source


def status_moves(review, trials, review_wide: bool, limit: int) -> list[Activity]:
    moves = (
        StatusTransition.objects.filter(trial__in=trials)
        .select_related("trial", "actor")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        Activity(
            when=move.created_at,
            text=f"Status moved from {lifecycle.label(move.from_status)} to {lifecycle.label(move.to_status)}",
            url=reverse("dashboard:trial-detail", args=[move.trial_id]) + "#timeline",
            actor=move.actor,
            trial=move.trial,
        )
        for move in moves
    ]


register("trials", status_moves)


def recent(review, trials, *, review_wide: bool, limit: int) -> list[Activity]:
    """The `limit` newest events of every source, newest first."""
    events = []
    for name in sorted(_SOURCES):
        events.extend(_SOURCES[name](review, trials, review_wide, limit))
    events.sort(key=lambda event: event.when, reverse=True)
    return events[:limit]
