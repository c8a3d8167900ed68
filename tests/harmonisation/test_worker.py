"""The apply job end to end on a real Celery worker process: queued by the API's service, run, stored."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from django.db import connection

from apps.datasets.storage import dataset_storage
from apps.harmonisation import services
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.models import Job
from tests.harmonisation.conftest import set_rules

BASE_DIR = Path(__file__).resolve().parents[2]


def start_worker(queue: str, storage_root: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "DATASET_STORAGE_ROOT": str(storage_root),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "ipdreview", "worker", "--pool=solo", f"--queues={queue}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        f"--hostname=harmonise-test-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_apply_on_a_real_worker(mapping, schema, analyst, dataset_root, settings):
    # A queue of its own, so that no other worker on this Redis takes the job to another database.
    settings.HARMONISE_QUEUE = queue = f"test-harmonise-{os.getpid()}"
    set_rules(mapping, schema, analyst)
    job = services.mapping_apply(mapping=mapping, actor=analyst)
    worker = start_worker(queue, dataset_root)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Job.objects.get(pk=job.pk).is_finished:
            time.sleep(0.3)
    finally:
        if worker.poll() is None:
            worker.terminate()
        output, _ = worker.communicate(timeout=30)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, (job.state, job.error, output[-3000:])
    assert job.attempts == 1 and job.progress == 100
    table = HarmonisedTable.objects.get(pk=job.result["harmonised_table"])
    with dataset_storage().open(table.storage_name, "rb") as handle:
        frame = pd.read_parquet(io.BytesIO(handle.read()))
    assert len(frame) == 6 and frame["AGE__flag"][2] == "below minimum 18: 17"
    assert table.job == job and table.n_flagged_rows == 3
