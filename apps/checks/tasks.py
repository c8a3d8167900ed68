"""The check job's task, on the `checks` queue (see ipdreview/celery.py): it takes the job id, calls one service."""

from celery import shared_task
from django.conf import settings

from apps.checks import services


@shared_task(
    name=services.CHECK_TASK,
    acks_late=True,
    soft_time_limit=settings.CHECKS_TIME_LIMIT_SECONDS,
    time_limit=settings.CHECKS_TIME_LIMIT_SECONDS + 60,
)
def check_run_task(job_id: int) -> str:
    job = services.check_run_execute(job_id)
    return job.state if job is not None else "ignored"
