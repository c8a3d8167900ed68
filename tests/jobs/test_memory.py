"""Workers, and the parse children they start, run without transparent huge pages (apps/jobs/memory.py)."""

import os
from pathlib import Path

import pytest

from apps.datasets.isolation import run_isolated
from apps.jobs.memory import huge_pages_are_off, huge_pages_off
from ipdreview.celery import worker_memory_setup
from tests.workers import start_worker, stop_worker, wait_for

STATUS_LINE = "THP_enabled:"


def huge_pages_state(pid: int | str = "self") -> str | None:
    """'0' when the process runs without transparent huge pages, '1' when with; None on a kernel that does not
    say (before Linux 5.0)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(STATUS_LINE):
            return line.split()[1]
    return None


def child_state(argument, progress) -> dict:
    return {"state": huge_pages_state()}


needs_the_status_line = pytest.mark.skipif(huge_pages_state() is None, reason="the kernel does not report it")


@needs_the_status_line
def test_the_setting_is_kept_by_a_process_started_after_it():
    pid = os.fork()
    if pid == 0:  # the child: set it, then check what a process it executes reports
        huge_pages_off()
        os.execv("/bin/sh", ["sh", "-c", f"grep -q '^{STATUS_LINE}.0' /proc/self/status"])
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert huge_pages_are_off() is (huge_pages_state() == "0")


@needs_the_status_line
def test_a_parse_child_runs_without_transparent_huge_pages():
    result, _ = run_isolated(child_state, None, memory_mb=512, time_limit=60, on_progress=lambda *_: None)
    assert result == {"state": "0"}


def state_after_worker_setup(settings_value: bool) -> str:
    """What a process reports after the worker's start-up hook ran with the setting at `settings_value`."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        from django.conf import settings

        settings.JOBS_TRANSPARENT_HUGE_PAGES = settings_value
        worker_memory_setup()
        os.write(write, (huge_pages_state() or "").encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as reader:
        return reader.read()


@needs_the_status_line
def test_the_worker_hook_follows_the_setting():
    assert state_after_worker_setup(False) == "0"
    assert state_after_worker_setup(True) == huge_pages_state()


@needs_the_status_line
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_without_transparent_huge_pages():
    worker = start_worker(f"test-memory-{os.getpid()}")
    try:
        wait_for(lambda: huge_pages_state(worker.pid) == "0", timeout=30, what="the worker to turn them off")
    finally:
        stop_worker(worker)
