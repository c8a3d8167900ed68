"""Celery tasks for participant data; they run on the `ingest` queue (see ipdreview/celery.py)."""

from celery import shared_task
from django.conf import settings

from apps.datasets import services, storage
from apps.jobs.models import Job
from apps.jobs.periodic import run_once_per
from apps.jobs.services import job_run


# The parse enforces its own time limit in a child process (with a readable message); Celery's limits are a
# backstop for the steps around it.
@shared_task(
    name=services.PARSE_TASK,
    soft_time_limit=settings.DATASET_PARSE_TIME_LIMIT_SECONDS + 120,
    time_limit=settings.DATASET_PARSE_TIME_LIMIT_SECONDS + 180,
)
def dataset_parse_task(job_id: int) -> str | None:
    """Parse the version the job points at; a second delivery of the same job does nothing."""

    def work(context):
        return services.dataset_parse(version_id=int(context.job.target_id), context=context)

    job = job_run(job_id, work)
    return job.state if isinstance(job, Job) else None


@shared_task(name="apps.datasets.tasks.partials_remove_stale_task")
def partials_remove_stale_task() -> int:
    """Hourly: unfinished files of writes that stopped, kept a good while past the longest job's time limit."""
    longest = max(settings.DATASET_PARSE_TIME_LIMIT_SECONDS, settings.HARMONISE_TIME_LIMIT_SECONDS)
    return run_once_per(
        "hour",
        "datasets-remove-stale-partials",
        lambda: storage.partials_remove_stale(older_than_seconds=longest + 3600),
    )
