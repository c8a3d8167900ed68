"""A real Celery worker process for the tests that matter: started on a queue of its own (so that no other
worker on the shared Redis takes its tasks to another database), against the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[1]


def worker_environment(storage_root: Path | None = None) -> dict:
    """This process's environment for a worker, pointed at the test database."""
    db = connection.settings_dict
    env = {
        # The browser tests' allowance of ORM calls beside an event loop is theirs alone.
        **{name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        # Frequent heartbeats, so that a killed worker's job is seen as stale within the test's patience.
        "JOBS_HEARTBEAT_SECONDS": "0.5",
    }
    if storage_root is not None:
        env["DATASET_STORAGE_ROOT"] = str(storage_root)
    return env


def start_worker(
    queue: str, storage_root: Path | None = None, *, pool: str = "solo", settings_env: dict | None = None
) -> subprocess.Popen:
    """A worker on `queue`. `pool="prefork"` (one child) for time limits, which the solo pool does not enforce;
    `settings_env` sets more of the environment the settings read (HARMONISE_TIME_LIMIT_SECONDS, ...)."""
    env = {**worker_environment(storage_root), **(settings_env or {})}
    command = [
        sys.executable, "-m", "celery", "-A", "ipdreview", "worker",
        f"--pool={pool}", "--concurrency=1", f"--queues={queue}", "--loglevel=INFO",
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
