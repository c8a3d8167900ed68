"""The parse child: started from a fresh interpreter (not a fork of the worker), and sending back data only."""

import os
import threading

import billiard
import pytest

from apps.datasets.isolation import ChildFailed, run_isolated

# Held by the test process while a child runs: a forked child would inherit it locked.
HELD = threading.Lock()
MARKER = "IPD_REVIEW_UNPICKLED_IN_PARENT"


def try_the_held_lock(argument, progress):
    acquired = HELD.acquire(timeout=2)
    return {"acquired": acquired, "parent": os.getppid()}


def set_marker():
    os.environ[MARKER] = "1"


class RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (set_marker, ())


def return_an_object(argument, progress):
    return RunsCodeWhenUnpickled()


def return_data(argument, progress):
    progress(50, "Halfway")
    return {"echo": argument, "rows": [1, 2.5, None, "x"]}


def run(function, argument=None, on_progress=lambda percent, message: None):
    return run_isolated(function, argument, memory_mb=512, time_limit=60, on_progress=on_progress)


def parse_from_a_pool_process(results):
    try:
        results.put(run(return_data, "from the pool")[0])
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")


def test_the_child_does_not_inherit_locks_held_in_the_worker():
    with HELD:
        result, _ = run(try_the_held_lock)
    assert result["acquired"] is True
    assert result["parent"] != os.getpid()


def test_a_child_cannot_send_an_object_that_runs_code_in_the_worker(monkeypatch):
    monkeypatch.delenv(MARKER, raising=False)
    with pytest.raises(ChildFailed):
        run(return_an_object)
    assert MARKER not in os.environ


def test_data_and_progress_come_back_as_json():
    seen = []
    result, peak_mb = run(return_data, "trial.csv", lambda percent, message: seen.append((percent, message)))
    assert result == {"echo": "trial.csv", "rows": [1, 2.5, None, "x"]}
    assert seen == [(50, "Halfway")]
    assert peak_mb > 0


def test_a_daemonic_pool_process_of_a_celery_worker_can_start_the_child():
    results = billiard.get_context("fork").Queue()
    pool_process = billiard.get_context("fork").Process(target=parse_from_a_pool_process, args=(results,), daemon=True)
    pool_process.start()
    try:
        assert results.get(timeout=60) == {"echo": "from the pool", "rows": [1, 2.5, None, "x"]}
    finally:
        pool_process.join(10)
