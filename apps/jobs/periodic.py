"""Periodic work that happens once per period, whatever runs twice (two beats, a message delivered again).

Each periodic task names its period; the first delivery for a period records a PeriodicRun row (unique on
name and period) and does the work, every other delivery for that period finds the row and does nothing. A
run that raises removes its row, so that the next delivery tries again.
"""

import datetime
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.jobs.models import PeriodicRun

logger = logging.getLogger(__name__)

PERIODS = ("minute", "hour", "day", "week")


def period_slot(period: str | float, moment: datetime.datetime | None = None) -> str:
    """The period containing `moment` (now), in the site's time zone, as a key; a number is a period of that
    many seconds."""
    moment = moment or timezone.now()
    if isinstance(period, int | float):
        return f"{period:g}s-{int(moment.timestamp() // period)}"
    local = timezone.localtime(moment)
    if period == "minute":
        return local.strftime("%Y-%m-%dT%H:%M")
    if period == "hour":
        return local.strftime("%Y-%m-%dT%H")
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")


def _claim(name: str, slot: str) -> PeriodicRun | None:
    try:
        with transaction.atomic():
            return PeriodicRun.objects.create(name=name, slot=slot)
    except IntegrityError:
        return None


def run_once(name: str, slot: str, work: Callable[[], Any]) -> Any:
    """Run `work` unless a run of `name` for `slot` was already claimed; returns its result, or None."""
    run = _claim(name, slot)
    if run is None:
        logger.info("periodic %s for %s already ran: skipped", name, slot)
        return None
    try:
        result = work()
    except BaseException:
        run.delete()
        raise
    run.finished_at = timezone.now()
    run.result = result
    run.save(update_fields=["finished_at", "result"])
    logger.info("periodic %s for %s ran: %s", name, slot, result)
    return result


def run_once_per(period: str | float, name: str, work: Callable[[], Any], slot: str | None = None) -> Any:
    return run_once(name, slot or period_slot(period), work)
