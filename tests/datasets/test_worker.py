"""A real Celery worker killed in the middle of a parse: the job is requeued by the reaper, then parsed."""

import datetime
import os
import signal

import pytest

from apps.datasets import services
from apps.datasets.models import DatasetVersion
from apps.jobs.models import Job
from apps.jobs.services import jobs_reap_stale
from tests.workers import start_worker, stop_worker, wait_for

from .conftest import parse_job

CSV = b"id,arm\n007,1\n012,2\n"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_parse_leaves_a_job_that_is_requeued_and_then_parsed(
    trial, analyst, dataset_root, settings
):
    # A queue of its own, so that no other worker on this Redis takes the job to another database.
    settings.DATASET_PARSE_QUEUE = queue = f"test-ingest-{os.getpid()}"
    upload_path = dataset_root / "uploads" / "blocked"
    upload_path.parent.mkdir(parents=True)
    # The stored file is a named pipe with no writer: the worker's first read blocks, mid-job, for as long
    # as the test wants, on the real code path.
    os.mkfifo(upload_path)
    version = DatasetVersion.objects.create(
        trial=trial, number=1, sha256="0" * 64, size=len(CSV), original_name="trial.csv", storage_name="uploads/blocked"
    )
    services.job_create(
        kind=services.PARSE_JOB_KIND, task=services.PARSE_TASK, target=version, actor=analyst, trial=trial, queue=queue
    )
    job = parse_job(version)

    worker = start_worker(queue, dataset_root)
    try:
        running = wait_for(
            lambda: Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).first(), timeout=40, what="the claim"
        )
        first_beat = running.heartbeat_at
        wait_for(
            lambda: Job.objects.get(pk=job.pk).heartbeat_at > first_beat, timeout=10, what="a heartbeat while blocked"
        )
        assert DatasetVersion.objects.get(pk=version.pk).status == DatasetVersion.Status.PARSING
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop_worker(worker)

    # Nothing beats any more: the reaper takes the job back once the heartbeat is stale.
    # The reaper is asked as if it ran once the heartbeat had gone stale; before that it leaves the job be.
    last_beat = Job.objects.get(pk=job.pk).heartbeat_at
    assert jobs_reap_stale(now=last_beat + datetime.timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS - 1)) == 0
    assert Job.objects.get(pk=job.pk).state == Job.State.RUNNING
    assert jobs_reap_stale(now=last_beat + datetime.timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS + 1)) == 1
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED
    assert job.attempts == 1
    assert "stopped responding" in job.error
    assert DatasetVersion.objects.get(pk=version.pk).status == DatasetVersion.Status.QUEUED

    # The file is readable now; a new worker takes the requeued job and parses it.
    upload_path.unlink()
    upload_path.write_bytes(CSV)
    worker = start_worker(queue, dataset_root)
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=40, what="the requeued job to finish")
    finally:
        output = stop_worker(worker)
    job.refresh_from_db()
    version.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, (job.error, output)
    assert job.attempts == 2
    assert version.status == DatasetVersion.Status.PARSED
    assert version.n_rows == 2
