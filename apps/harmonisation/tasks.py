"""The apply job's task: it takes the job id and calls one service."""

from celery import shared_task

from apps.harmonisation import services


@shared_task(name=services.APPLY_TASK, acks_late=True)
def mapping_apply_task(job_id: int) -> str:
    job = services.mapping_apply_run(job_id)
    return job.state if job is not None else "ignored"
