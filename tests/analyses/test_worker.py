"""Analysis runs on a real Celery worker process: a run's stored result is the engine's on the same tables; a
worker killed in the middle of a run leaves a job the reaper takes back, and a new worker finishes it."""

import datetime
import os
import signal

import pytest

from apps.analyses import services
from apps.analyses.models import AnalysisRun
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.models import Job
from apps.jobs.services import jobs_reap_stale, stale_after
from ipdstats.engine import run_table
from tests.analyses.helpers import assert_same, rebuild
from tests.analyses.test_runs import define
from tests.workers import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(settings):
    # A queue of its own, so that no other worker on this Redis takes the job to another database.
    settings.ANALYSIS_QUEUE = name = f"test-analysis-{os.getpid()}"
    return name


def test_a_run_on_a_worker_stores_the_engines_result(review, trials, analyst, dataset_root, queue):
    analysis = define(review, analyst, adjust=["AGE"], approach="one-stage")
    run, created = services.run_request(analysis=analysis, actor=analyst)
    assert created and Job.objects.get(pk=run.job_id).queue == queue
    worker = start_worker(queue, dataset_root)
    try:
        wait_for(lambda: Job.objects.get(pk=run.job_id).is_finished, timeout=120, what="the analysis to finish")
    finally:
        output = stop_worker(worker)
    run.refresh_from_db()
    assert run.state == AnalysisRun.State.SUCCEEDED, (run.error, output)
    assert run.job.attempts == 1 and run.job.progress == 100
    assert_same(run_table(run.spec, rebuild(run, dataset_root)), run.result)
    assert run.engine_seconds > 0 and run.summary["stage_one"]["result"]["pooled"]["k"] == 4


def test_a_worker_killed_mid_run_leaves_a_job_that_is_taken_back_and_finished(
    review, trials, analyst, dataset_root, queue
):
    analysis = define(review, analyst)
    run, _ = services.run_request(analysis=analysis, actor=analyst)
    job = Job.objects.get(pk=run.job_id)
    table = trials[2].table
    content = (dataset_root / table.storage_name).read_bytes()
    # Once the run is planned, the table's file becomes a named pipe with no writer: the worker blocks opening
    # it, mid-run.
    blocked = "harmonised/blocked.parquet"
    os.mkfifo(dataset_root / blocked)
    HarmonisedTable.objects.filter(pk=table.pk).update(storage_name=blocked)

    worker = start_worker(queue, dataset_root)
    try:
        running = wait_for(
            lambda: Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).first(), timeout=60, what="the claim"
        )
        first_beat = running.heartbeat_at
        wait_for(lambda: Job.objects.get(pk=job.pk).heartbeat_at > first_beat, timeout=10, what="a heartbeat")
        assert AnalysisRun.objects.get(pk=run.pk).state == AnalysisRun.State.RUNNING
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop_worker(worker)

    # The reaper, run as if the stale time had passed since the last heartbeat.
    silent_since = Job.objects.get(pk=job.pk).heartbeat_at
    assert jobs_reap_stale(now=silent_since + stale_after() + datetime.timedelta(seconds=1)) == 1
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and job.attempts == 1 and "stopped responding" in job.error
    assert AnalysisRun.objects.get(pk=run.pk).state == AnalysisRun.State.QUEUED

    (dataset_root / blocked).unlink()
    (dataset_root / blocked).write_bytes(content)
    worker = start_worker(queue, dataset_root)
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120, what="the requeued job to finish")
    finally:
        output = stop_worker(worker)
    job.refresh_from_db()
    run.refresh_from_db()
    assert (job.state, job.attempts) == (Job.State.SUCCEEDED, 2), (job.error, output)
    assert run.state == AnalysisRun.State.SUCCEEDED and run.result["pooled"]["k"] == 4
