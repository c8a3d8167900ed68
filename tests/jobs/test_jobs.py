"""The job row: claiming, idempotent delivery, progress, failures with and without retries, and the reaper."""

import datetime

import pytest
from django.utils import timezone

from apps.jobs import services
from apps.jobs.errors import JobInputError
from apps.jobs.models import Job
from apps.jobs.signals import job_state_changed

pytestmark = pytest.mark.django_db

TASK = "tests.jobs.not_a_registered_task"


@pytest.fixture
def sent(monkeypatch):
    """Record the messages a job sends to the broker instead of sending them."""
    calls = []

    def fake_send_task(name, args=None, task_id=None, **kwargs):
        calls.append((name, args, task_id))

    monkeypatch.setattr(services.current_app, "send_task", fake_send_task)
    return calls


def make_job(**extra) -> Job:
    return Job.objects.create(kind="test", task_name=TASK, **extra)


def test_job_create_queues_the_task_after_commit(django_capture_on_commit_callbacks, sent):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_create(kind="test", task=TASK, max_attempts=2)
    assert sent == []
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED
    assert job.max_attempts == 2
    assert sent == [(TASK, [job.pk], job.celery_task_id)]


def test_job_run_stores_the_result_and_progress():
    job = make_job()
    seen = []

    def work(context):
        context.progress(40, "Halfway")
        seen.append(Job.objects.get(pk=job.pk).progress_message)
        return {"rows": 3}

    finished = services.job_run(job.pk, work)
    assert seen == ["Halfway"]
    assert finished.state == Job.State.SUCCEEDED
    assert finished.result == {"rows": 3}
    assert finished.progress == 100
    assert finished.attempts == 1
    assert finished.started_at <= finished.finished_at


def test_a_second_delivery_does_nothing():
    job = make_job()
    calls = []
    services.job_run(job.pk, lambda context: calls.append(1) or {})
    assert services.job_run(job.pk, lambda context: calls.append(2) or {}) is None
    assert calls == [1]
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_a_running_job_is_not_claimed_again():
    job = make_job(state=Job.State.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert services.job_run(job.pk, lambda context: {"ran": True}) is None
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING
    assert job.result == {}


def test_bad_input_fails_at_once_without_retry(sent):
    job = make_job(max_attempts=3)

    def work(context):
        raise JobInputError("Row 7, column 'age': 'abc' is not a number.")

    finished = services.job_run(job.pk, work)
    assert finished.state == Job.State.FAILED
    assert finished.error == "Row 7, column 'age': 'abc' is not a number."
    assert finished.attempts == 1
    assert sent == []


def test_unexpected_errors_are_retried_then_fail_with_a_reason(django_capture_on_commit_callbacks, sent, caplog):
    job = make_job(max_attempts=2)

    def work(context):
        raise ConnectionError("storage unreachable at /srv/secret/path")

    with django_capture_on_commit_callbacks(execute=True):
        first = services.job_run(job.pk, work)
    assert first.state == Job.State.QUEUED
    # The detail goes to the log only; the job, which contributors read, says where to find it.
    assert "/srv/secret" not in first.error and "ConnectionError" not in first.error
    assert f"under job {job.pk}" in first.error
    assert "storage unreachable at /srv/secret/path" in caplog.text
    assert "attempt 1 of 2" in first.error
    assert sent == [(TASK, [job.pk], first.celery_task_id)]

    second = services.job_run(job.pk, work)
    assert second.state == Job.State.FAILED
    assert second.attempts == 2
    assert "tried 2 times" in second.error
    assert "/srv/secret" not in second.error
    assert second.finished_at is not None


def test_every_state_change_is_signalled():
    states = []

    def listen(sender, job, **kwargs):
        states.append(job.state)

    job_state_changed.connect(listen)
    try:
        job = services.job_create(kind="test", task=TASK)
        services.job_run(job.pk, lambda context: {})
    finally:
        job_state_changed.disconnect(listen)
    assert states == [Job.State.QUEUED, Job.State.RUNNING, Job.State.SUCCEEDED]


def test_reaper_requeues_a_silent_job_and_leaves_a_beating_one(django_capture_on_commit_callbacks, sent, settings):
    settings.JOBS_STALE_AFTER_SECONDS = 60
    now = timezone.now()
    silent = make_job(state=Job.State.RUNNING, attempts=1, heartbeat_at=now - datetime.timedelta(seconds=61))
    beating = make_job(state=Job.State.RUNNING, attempts=1, heartbeat_at=now - datetime.timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.jobs_reap_stale(now=now) == 1
    silent.refresh_from_db()
    beating.refresh_from_db()
    assert silent.state == Job.State.QUEUED
    assert "stopped responding" in silent.error
    assert sent == [(TASK, [silent.pk], silent.celery_task_id)]
    assert beating.state == Job.State.RUNNING


def test_reaper_fails_a_silent_job_on_its_last_attempt(sent, settings):
    settings.JOBS_STALE_AFTER_SECONDS = 60
    now = timezone.now()
    job = make_job(
        state=Job.State.RUNNING, attempts=3, max_attempts=3, heartbeat_at=now - datetime.timedelta(minutes=10)
    )
    assert services.jobs_reap_stale(now=now) == 1
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "stopped responding" in job.error and "tried 3 times" in job.error
    assert sent == []


def test_a_worker_finishing_after_its_job_was_reaped_changes_nothing(settings):
    settings.JOBS_STALE_AFTER_SECONDS = 60
    job = make_job(max_attempts=1)

    def work(context):
        later = timezone.now() + datetime.timedelta(minutes=5)
        services.jobs_reap_stale(now=later)
        context.progress(90, "Still writing")
        return {"late": True}

    services.job_run(job.pk, work)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.result == {}
    assert job.progress_message != "Still writing"


def test_reaper_sends_again_a_job_left_queued_and_not_a_recent_one(django_capture_on_commit_callbacks, sent, settings):
    settings.JOBS_RESEND_QUEUED_AFTER_SECONDS = 600
    now = timezone.now()
    lost = make_job(enqueued_at=now - datetime.timedelta(seconds=601))
    recent = make_job(enqueued_at=now - datetime.timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.jobs_reap_stale(now=now) == 1
    lost.refresh_from_db()
    assert sent == [(TASK, [lost.pk], lost.celery_task_id)]
    assert lost.state == Job.State.QUEUED
    assert lost.attempts == 0
    assert lost.enqueued_at > now - datetime.timedelta(seconds=5)
    assert recent.pk not in [args[0] for _, args, _ in sent]

    # Sent again just now, it waits another full period before the next resend.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.jobs_reap_stale(now=now + datetime.timedelta(seconds=60)) == 0
    assert len(sent) == 1


def test_a_job_sent_again_runs_once():
    job = make_job(enqueued_at=timezone.now() - datetime.timedelta(hours=2))
    services.job_resend(job)
    calls = []
    services.job_run(job.pk, lambda context: calls.append(1) or {})
    services.job_run(job.pk, lambda context: calls.append(2) or {})
    assert calls == [1]
