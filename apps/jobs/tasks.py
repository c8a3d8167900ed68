"""Scheduled job housekeeping."""

from celery import shared_task

from apps.jobs import services
from apps.jobs.periodic import run_once_per


@shared_task(name="apps.jobs.tasks.jobs_reap_stale_task")
def jobs_reap_stale_task() -> int | None:
    """Requeue or fail the jobs whose worker stopped beating; send again those left queued too long. Once a
    minute, however many schedulers send it."""
    return run_once_per("minute", "jobs-reap-stale", services.jobs_reap_stale)
