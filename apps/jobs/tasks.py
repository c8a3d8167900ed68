"""Scheduled housekeeping: stale jobs, and the stored files checked against their hashes."""

from celery import shared_task
from django.conf import settings

from apps.core.stored_files import storage_verify
from apps.jobs import services
from apps.jobs.periodic import run_once_per


@shared_task(name="apps.jobs.tasks.jobs_reap_stale_task")
def jobs_reap_stale_task() -> int | None:
    """Requeue or fail the jobs whose worker stopped beating; send again those left queued too long. Once per
    JOBS_REAP_EVERY_SECONDS, however many schedulers send it."""
    return run_once_per(settings.JOBS_REAP_EVERY_SECONDS, "jobs-reap-stale", services.jobs_reap_stale)


@shared_task(name="apps.jobs.tasks.storage_verify_task")
def storage_verify_task() -> dict | None:
    """Weekly: every stored file re-hashed against its record; problems are logged as errors and returned."""
    return run_once_per("week", "storage-verify", lambda: storage_verify().as_dict())
