"""Scheduled tasks: each takes plain values, calls one service and returns what it did."""

import datetime

from celery import shared_task

from apps.jobs.periodic import run_once_per
from apps.trials import services


def _parse_day(day: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(day) if day else None


@shared_task(name="apps.trials.tasks.followups_notify_due_task")
def followups_notify_due_task(today: str | None = None) -> int | None:
    """E-mail owners their due follow-ups, once a day however many schedulers send this task."""
    return run_once_per(
        "day", "followups-notify-due", lambda: services.followups_notify_due(today=_parse_day(today)), slot=today
    )


@shared_task(name="apps.trials.tasks.agreements_mark_expired_task")
def agreements_mark_expired_task(today: str | None = None) -> int | None:
    """Mark signed agreements past their expiry date as expired, once a day."""
    return run_once_per(
        "day", "agreements-mark-expired", lambda: services.agreements_mark_expired(today=_parse_day(today)), slot=today
    )
