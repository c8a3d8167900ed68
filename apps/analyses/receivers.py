"""Keep an analysis run's state in step with its job (the job row is the truth while it runs)."""

from django.dispatch import receiver

from apps.jobs.models import Job
from apps.jobs.signals import job_state_changed


@receiver(job_state_changed, dispatch_uid="analyses_follow_run_job")
def follow_run_job(sender, job: Job, **kwargs) -> None:
    from apps.analyses.services import RUN_KIND, run_follow_job

    if job.kind == RUN_KIND:
        run_follow_job(job)
