"""The apply job end to end on a real Celery worker process: queued by the API's service, run, stored."""

import io
import os
from contextlib import contextmanager

import pandas as pd
import psycopg
import pytest
from django.db import connection

from apps.datasets.storage import dataset_storage
from apps.harmonisation import services
from apps.harmonisation.models import HarmonisedTable, Mapping
from apps.jobs.models import Job
from tests.harmonisation.conftest import set_rules
from tests.workers import start_worker, stop_worker, wait_for


@contextmanager
def holding_row_lock(table: str, pk: int):
    """A transaction of another connection that holds one row locked (FOR UPDATE) until the block ends."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432, autocommit=False
    ) as other:
        other.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', [pk])
        yield
        other.rollback()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_apply_on_a_real_worker(mapping, schema, analyst, dataset_root, settings):
    # A queue of its own, so that no other worker on this Redis takes the job to another database.
    settings.HARMONISE_QUEUE = queue = f"test-harmonise-{os.getpid()}"
    set_rules(mapping, schema, analyst)
    job = services.mapping_apply(mapping=mapping, actor=analyst)
    worker = start_worker(queue, dataset_root)
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the apply job to finish")
    finally:
        output = stop_worker(worker)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, (job.state, job.error, output[-3000:])
    assert job.attempts == 1 and job.progress == 100
    table = HarmonisedTable.objects.get(pk=job.result["harmonised_table"])
    with dataset_storage().open(table.storage_name, "rb") as handle:
        frame = pd.read_parquet(io.BytesIO(handle.read()))
    assert len(frame) == 6 and frame["AGE__flag"][2] == "below minimum 18: 17"
    assert table.job == job and table.n_flagged_rows == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_apply_over_its_time_limit_on_a_real_worker_fails_with_a_reason(
    mapping, schema, analyst, dataset_root, settings, monkeypatch
):
    from apps.harmonisation.tasks import mapping_apply_task

    settings.HARMONISE_QUEUE = queue = f"test-harmonise-limit-{os.getpid()}"
    # HARMONISE_TIME_LIMIT_SECONDS=1 in this process and the worker's, as web and worker share the setting in
    # production: the limits travel in the message (Celery caches a task's options, hence the reset).
    monkeypatch.setattr(mapping_apply_task, "soft_time_limit", 1)
    monkeypatch.setattr(mapping_apply_task, "time_limit", 61)
    monkeypatch.setattr(mapping_apply_task, "_exec_options", None)
    set_rules(mapping, schema, analyst)
    job = services.mapping_apply(mapping=mapping, actor=analyst)
    # Another transaction holds the mapping's row, as a concurrent apply would: the job blocks on the real code
    # path, waiting for the lock, until the worker's soft time limit (1 second here) stops it.
    with holding_row_lock(Mapping._meta.db_table, mapping.pk):
        worker = start_worker(queue, dataset_root, pool="prefork", settings_env={"HARMONISE_TIME_LIMIT_SECONDS": "1"})
        try:
            wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, what="the apply to be stopped")
        finally:
            output = stop_worker(worker)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED, (job.state, job.error, output[-3000:])
    assert job.error == "The job took longer than its time limit and was stopped."
    assert job.attempts == 1
    assert "Soft time limit (1s) exceeded" in output
    assert not HarmonisedTable.objects.filter(mapping=mapping).exists()
