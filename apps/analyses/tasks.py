"""The analysis job's task, on the `analysis` queue (see ipdreview/celery.py): it takes the job id, calls one
service."""

from celery import shared_task
from django.conf import settings

from apps.analyses import services


@shared_task(
    name=services.RUN_TASK,
    acks_late=True,
    soft_time_limit=settings.ANALYSIS_TIME_LIMIT_SECONDS,
    time_limit=settings.ANALYSIS_TIME_LIMIT_SECONDS + 60,
)
def analysis_run_task(job_id: int) -> str:
    job = services.run_execute(job_id)
    return job.state if job is not None else "ignored"
