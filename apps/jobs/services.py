"""Creating, running and reaping jobs. Every state change is saved with the signal `job_state_changed`."""

import datetime
import logging
import uuid
from collections.abc import Callable

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.jobs.context import JobContext
from apps.jobs.errors import JobInputError
from apps.jobs.models import Job
from apps.jobs.signals import job_state_changed

logger = logging.getLogger(__name__)

Work = Callable[[JobContext], dict | None]


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS)


def resend_after() -> datetime.timedelta:
    """How long a job may stay queued before its task is sent again (a long backlog only costs a no-op)."""
    return datetime.timedelta(seconds=settings.JOBS_RESEND_QUEUED_AFTER_SECONDS)


def target_type_of(instance: models.Model) -> str:
    return instance._meta.label_lower


def _enqueue(job: Job) -> None:
    """Send the job's task; a task registered in this process is applied so that eager mode runs it."""
    options = {"queue": job.queue} if job.queue else {}
    task = current_app.tasks.get(job.task_name)
    if task is not None:
        task.apply_async(args=[job.pk], task_id=job.celery_task_id, **options)
    else:
        current_app.send_task(job.task_name, args=[job.pk], task_id=job.celery_task_id, **options)


def _save_state(job: Job, fields: list[str]) -> None:
    job.save(update_fields=fields)
    job_state_changed.send(sender=Job, job=job)


def job_create(
    *,
    kind: str,
    task: str,
    target: models.Model | None = None,
    actor=None,
    review=None,
    trial=None,
    max_attempts: int = 3,
    queue: str = "",
) -> Job:
    """Store a queued job and send its task once the surrounding transaction commits."""
    job = Job.objects.create(
        kind=kind,
        task_name=task,
        queue=queue,
        target_type=target_type_of(target) if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        review=review,
        trial=trial,
        max_attempts=max_attempts,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        celery_task_id=str(uuid.uuid4()),
        enqueued_at=timezone.now(),
    )
    job_state_changed.send(sender=Job, job=job)
    transaction.on_commit(lambda: _enqueue(job))
    return job


def job_resend(job: Job) -> None:
    """Send a queued job's task again, its message being lost or never sent; a duplicate delivery does nothing."""
    if job.state != Job.State.QUEUED:
        raise ValueError(f"Job {job.pk} is {job.state}, not queued.")
    job.enqueued_at = timezone.now()
    job.save(update_fields=["enqueued_at"])
    transaction.on_commit(lambda: _enqueue(job))


def _claim(job_id: int) -> Job | None:
    """Mark a queued job as running; None when it is missing, finished, or already running elsewhere."""
    with transaction.atomic():
        job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id, state=Job.State.QUEUED).first()
        if job is None:
            return None
        now = timezone.now()
        job.state = Job.State.RUNNING
        job.attempts += 1
        job.started_at = now
        job.heartbeat_at = now
        job.progress = 0
        job.progress_message = "Started"
        _save_state(job, ["state", "attempts", "started_at", "heartbeat_at", "progress", "progress_message"])
        return job


def _finish(job: Job, *, state: str, error: str = "", result: dict | None = None) -> bool:
    """End the claimed attempt; False when the reaper took the job back meanwhile (nothing is written)."""
    with transaction.atomic():
        current = (
            Job.objects.select_for_update().filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts).first()
        )
        if current is None:
            logger.warning("Job %s attempt %s ended after it was taken back; result dropped", job.pk, job.attempts)
            return False
        current.state = state
        current.error = error
        current.result = result or {}
        current.finished_at = timezone.now()
        current.heartbeat_at = current.finished_at
        if state == Job.State.SUCCEEDED:
            current.progress = 100
            current.progress_message = "Done"
        _save_state(
            current, ["state", "error", "result", "finished_at", "heartbeat_at", "progress", "progress_message"]
        )
        job.__dict__.update(current.__dict__)
        return True


def _requeue_or_fail(job: Job, *, reason: str) -> None:
    """After an unexpected error: queue the job again while attempts remain, otherwise fail it."""
    with transaction.atomic():
        current = (
            Job.objects.select_for_update().filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts).first()
        )
        if current is None:
            return
        _requeue_or_fail_locked(current, reason=reason)


def _requeue_or_fail_locked(job: Job, *, reason: str) -> None:
    now = timezone.now()
    if job.attempts < job.max_attempts:
        job.state = Job.State.QUEUED
        job.error = f"{reason} It was queued again (attempt {job.attempts} of {job.max_attempts} used)."
        job.celery_task_id = str(uuid.uuid4())
        job.progress_message = "Queued again"
        job.enqueued_at = now
        _save_state(job, ["state", "error", "celery_task_id", "progress_message", "enqueued_at"])
        transaction.on_commit(lambda: _enqueue(job))
    else:
        job.state = Job.State.FAILED
        job.error = (
            f"{reason} The job was tried {job.attempts} times and has stopped; "
            "start it again, and if it fails the same way, tell the review's coordinator."
        )
        job.finished_at = now
        _save_state(job, ["state", "error", "finished_at"])


def job_run(job_id: int, work: Work) -> Job | None:
    """Run `work` for a queued job. A second delivery of the same job, or of a finished one, does nothing.

    `work` returns a JSON-ready dict stored as the job's result. JobInputError fails the job at once with its
    message; a time limit fails it too (more attempts would hit the same limit); any other error requeues
    it while attempts remain.
    """
    job = _claim(job_id)
    if job is None:
        logger.info("Job %s is not queued; delivery ignored", job_id)
        return None
    try:
        with JobContext(job) as context:
            result = work(context)
    except JobInputError as error:
        _finish(job, state=Job.State.FAILED, error=error.message)
    except SoftTimeLimitExceeded:
        _finish(job, state=Job.State.FAILED, error="The job took longer than its time limit and was stopped.")
    except Exception:
        # The error's text may hold paths, queries or data values: it goes to the log, and the job (which
        # contributors read) gets a sentence pointing there.
        logger.exception("Job %s failed unexpectedly", job.pk)
        _requeue_or_fail(
            job, reason=f"The job stopped on an unexpected error (the worker's log has it under job {job.pk})."
        )
    else:
        result = result or {}
        if context.seconds:
            result = {**result, "seconds": {**context.seconds, **result.get("seconds", {})}}
        _finish(job, state=Job.State.SUCCEEDED, result=result)
    job.refresh_from_db()
    return job


def jobs_reap_stale(now: datetime.datetime | None = None) -> int:
    """Requeue or fail every running job whose heartbeat is older than JOBS_STALE_AFTER_SECONDS, and send again
    every job queued for longer than JOBS_RESEND_QUEUED_AFTER_SECONDS; the number of jobs handled."""
    now = now or timezone.now()
    return _reap_running(now) + _resend_queued(now)


def _resend_queued(now: datetime.datetime) -> int:
    cutoff = now - resend_after()
    waited_too_long = Q(enqueued_at__lt=cutoff) | Q(enqueued_at__isnull=True, created_at__lt=cutoff)
    resent = 0
    with transaction.atomic():
        for job in Job.objects.select_for_update(skip_locked=True).filter(waited_too_long, state=Job.State.QUEUED):
            logger.warning("Job %s has been queued since %s; its task is sent again", job.pk, job.enqueued_at)
            job_resend(job)
            resent += 1
    return resent


def _reap_running(now: datetime.datetime) -> int:
    cutoff = now - stale_after()
    reaped = 0
    with transaction.atomic():
        stale = Job.objects.select_for_update(skip_locked=True).filter(state=Job.State.RUNNING, heartbeat_at__lt=cutoff)
        for job in stale:
            last = timezone.localtime(job.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S %Z")
            _requeue_or_fail_locked(job, reason=f"The worker running this job stopped responding (last seen {last}).")
            reaped += 1
    return reaped
