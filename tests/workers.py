"""A real Celery worker process for the tests that matter: started on a queue of its own (so that no other
worker on the shared Redis takes its tasks to another database), against the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[1]


def start_worker(queue: str, storage_root: Path | None = None) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        # Frequent heartbeats, so that a killed worker's job is seen as stale within the test's patience.
        "JOBS_HEARTBEAT_SECONDS": "0.5",
    }
    if storage_root is not None:
        env["DATASET_STORAGE_ROOT"] = str(storage_root)
    command = [
        sys.executable, "-m", "celery", "-A", "ipdreview", "worker",
        "--pool=solo", f"--queues={queue}", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        f"--hostname=test-{queue}-{time.monotonic_ns()}@%h",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stop_worker(worker: subprocess.Popen) -> str:
    """Stops the worker if it still runs and returns what it printed."""
    if worker.poll() is None:
        worker.terminate()
    output, _ = worker.communicate(timeout=30)
    return output
