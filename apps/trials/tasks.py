"""Scheduled tasks: each takes plain values, calls one service and returns what it did."""

import datetime

from celery import shared_task

from apps.trials import services


def _parse_day(day: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(day) if day else None


@shared_task(name="apps.trials.tasks.followups_notify_due_task")
def followups_notify_due_task(today: str | None = None) -> int:
    """E-mail owners their due follow-ups; a second run the same day sends nothing new."""
    return services.followups_notify_due(today=_parse_day(today))


@shared_task(name="apps.trials.tasks.agreements_mark_expired_task")
def agreements_mark_expired_task(today: str | None = None) -> int:
    """Mark signed agreements past their expiry date as expired."""
    return services.agreements_mark_expired(today=_parse_day(today))
