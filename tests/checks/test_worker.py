"""A real Celery worker killed in the middle of a check run: the reaper requeues the job, a new worker finishes it;
on its last attempt the job is failed with a reason instead."""

import datetime
import os
import signal

import pytest
from django.utils import timezone

from apps.checks import services
from apps.checks.models import CheckRun
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.models import Job
from apps.jobs.services import jobs_reap_stale
from tests.checks.conftest import make_table
from tests.checks.data import CHECK_CODES
from tests.workers import start_worker, stop_worker, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_check_leaves_a_job_that_is_requeued_and_then_finished(
    trial, analyst, dataset_root, settings
):
    # A queue of its own, so that no other worker on this Redis takes the job to another database.
    settings.CHECKS_QUEUE = queue = f"test-checks-{os.getpid()}"
    table = make_table(trial)
    stored = dataset_root / table.storage_name
    content = stored.read_bytes()
    # The table's file becomes a named pipe with no writer: the worker blocks opening it, mid-job.
    blocked = "harmonised/blocked.parquet"
    os.mkfifo(dataset_root / blocked)
    HarmonisedTable.objects.filter(pk=table.pk).update(storage_name=blocked)
    run = services.check_run_schedule(table=table, actor=analyst)
    job = Job.objects.get(pk=run.job_id)
    assert job.queue == queue

    worker = start_worker(queue, dataset_root)
    try:
        running = wait_for(
            lambda: Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).first(), timeout=40, what="the claim"
        )
        first_beat = running.heartbeat_at
        wait_for(
            lambda: Job.objects.get(pk=job.pk).heartbeat_at > first_beat, timeout=10, what="a heartbeat while blocked"
        )
        assert CheckRun.objects.get(pk=run.pk).state == CheckRun.State.RUNNING
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop_worker(worker)

    # The reaper is asked as if it ran once the heartbeat had gone stale.
    last_beat = Job.objects.get(pk=job.pk).heartbeat_at
    assert jobs_reap_stale(now=last_beat + datetime.timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS + 1)) == 1
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and job.attempts == 1
    assert "stopped responding" in job.error
    assert CheckRun.objects.get(pk=run.pk).state == CheckRun.State.QUEUED

    # The file is readable now; a new worker takes the requeued job and runs every check.
    (dataset_root / blocked).unlink()
    (dataset_root / blocked).write_bytes(content)
    worker = start_worker(queue, dataset_root)
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the requeued job to finish")
    finally:
        output = stop_worker(worker)
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, (job.error, output)
    assert job.attempts == 2
    assert run.state == CheckRun.State.SUCCEEDED
    assert [result.code for result in run.results.all()] == CHECK_CODES


@pytest.mark.django_db
def test_a_check_job_silent_on_its_last_attempt_is_failed_with_a_reason(trial, analyst, settings, sent_nowhere):
    run = services.check_run_schedule(table=make_table(trial), actor=analyst)
    stale = timezone.now() - datetime.timedelta(minutes=30)
    Job.objects.filter(pk=run.job_id).update(state=Job.State.RUNNING, attempts=3, heartbeat_at=stale)
    CheckRun.objects.filter(pk=run.pk).update(state=CheckRun.State.RUNNING)
    assert jobs_reap_stale() == 1
    run.refresh_from_db()
    assert run.state == CheckRun.State.FAILED
    assert "stopped responding" in run.error and "tried 3 times" in run.error


@pytest.fixture
def sent_nowhere(monkeypatch):
    """Keep queued jobs off the broker: this test plays the worker's part itself."""
    from apps.jobs import services as jobs

    monkeypatch.setattr(jobs, "_enqueue", lambda job: None)
