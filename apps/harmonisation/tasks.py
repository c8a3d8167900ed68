"""The apply job's task: it takes the job id and calls one service."""

from celery import shared_task
from django.conf import settings

from apps.harmonisation import services


# A hung apply is stopped: the soft limit fails the job with a reason, the hard limit ends the worker process
# (the job reaper then takes the job back), so it never shows "running" forever.
@shared_task(
    name=services.APPLY_TASK,
    acks_late=True,
    soft_time_limit=settings.HARMONISE_TIME_LIMIT_SECONDS,
    time_limit=settings.HARMONISE_TIME_LIMIT_SECONDS + 60,
)
def mapping_apply_task(job_id: int) -> str:
    job = services.mapping_apply_run(job_id)
    return job.state if job is not None else "ignored"
