"""Scheduled job housekeeping."""

from celery import shared_task

from apps.jobs import services


@shared_task(name="apps.jobs.tasks.jobs_reap_stale_task")
def jobs_reap_stale_task() -> int:
    """Requeue or fail the jobs whose worker stopped beating; send again those left queued too long."""
    return services.jobs_reap_stale()
