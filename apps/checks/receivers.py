"""Keep a check run's state in step with its job (the job row is the truth while it runs), and check every
harmonised table once it is committed."""

from django.dispatch import receiver

from apps.harmonisation.signals import table_harmonised
from apps.jobs.models import Job
from apps.jobs.signals import job_state_changed


@receiver(job_state_changed, dispatch_uid="checks_follow_check_job")
def follow_check_job(sender, job: Job, **kwargs) -> None:
    from apps.checks.services import CHECK_KIND, check_run_follow_job

    if job.kind == CHECK_KIND:
        check_run_follow_job(job)


@receiver(table_harmonised, dispatch_uid="checks_schedule_after_harmonisation")
def check_harmonised_table(sender, table_id: int, **kwargs) -> None:
    from apps.checks.services import schedule_after_harmonisation

    schedule_after_harmonisation(table_id)
