"""Reads of job rows."""

from django.db import models

from apps.jobs.models import Job
from apps.jobs.services import target_type_of


def jobs_for_target(target: models.Model):
    return Job.objects.filter(target_type=target_type_of(target), target_id=str(target.pk))


def job_latest_for_target(target: models.Model, kind: str | None = None) -> Job | None:
    jobs = jobs_for_target(target)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-id").first()
