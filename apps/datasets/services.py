"""Writes for participant data: uploads, parse results and the version status that follows its job."""

from django.db import transaction

from apps.datasets.models import DatasetVersion
from apps.jobs.models import Job

_STATUS_FOR_JOB_STATE = {
    Job.State.QUEUED: DatasetVersion.Status.QUEUED,
    Job.State.RUNNING: DatasetVersion.Status.PARSING,
    Job.State.FAILED: DatasetVersion.Status.FAILED,
}


def version_follow_job(job: Job) -> None:
    """Mirror a parse job's state on its version; success is written by the parse itself with its results."""
    status = _STATUS_FOR_JOB_STATE.get(job.state)
    if status is None:
        return
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().filter(pk=job.target_id).first()
        if version is None or version.status == DatasetVersion.Status.PARSED:
            return
        version.status = status
        version.error = job.error if status == DatasetVersion.Status.FAILED else ""
        version.save(update_fields=["status", "error"])
