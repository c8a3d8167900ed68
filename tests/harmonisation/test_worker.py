"""The apply job end to end on a real Celery worker process: queued by the API's service, run, stored."""

import io
import os

import pandas as pd
import pytest

from apps.datasets.storage import dataset_storage
from apps.harmonisation import services
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.models import Job
from tests.harmonisation.conftest import set_rules
from tests.workers import start_worker, stop_worker, wait_for


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
