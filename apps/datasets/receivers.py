"""Keep a version's status in step with its parse job (the job row is the truth while it runs)."""

from django.dispatch import receiver

from apps.jobs.models import Job
from apps.jobs.signals import job_state_changed


@receiver(job_state_changed, dispatch_uid="datasets_follow_parse_job")
def follow_parse_job(sender, job: Job, **kwargs) -> None:
    from apps.datasets.services import PARSE_JOB_KIND, version_follow_job

    if job.kind == PARSE_JOB_KIND:
        version_follow_job(job)
