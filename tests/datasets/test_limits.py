"""Memory and time limits: the parse runs in a child process, so a breach fails the job and spares the worker."""

import os
import time

import pyarrow as pa
import pytest

from apps.datasets import services
from apps.datasets.models import DatasetVersion

from .conftest import stored_bytes

pytestmark = pytest.mark.django_db
CSV = b"id,value\n" + b"".join(b"%d,%d.5\n" % (row, row) for row in range(20_000))


# Stand-ins for the child's parse. The child imports them by name, so they live at module level.


def allocate_in_python(task, progress):
    return bytearray(1024**3)


def allocate_in_arrow(task, progress):
    return pa.allocate_buffer(1024**3)


def abort(task, progress):
    os.abort()


def sleep(task, progress):
    time.sleep(60)


@pytest.mark.parametrize("allocate", [allocate_in_python, allocate_in_arrow], ids=["python", "arrow"])
def test_a_parse_over_its_memory_limit_fails_with_the_limit_in_the_message(ingest, settings, monkeypatch, allocate):
    # A parse that needs a gigabyte, under a cap of 64 MB above what the child already holds.
    settings.DATASET_PARSE_MEMORY_MB = 64
    monkeypatch.setattr(services, "parse_in_child", allocate)
    version = ingest("trial.csv", CSV)
    assert version.status == DatasetVersion.Status.FAILED
    assert version.error.startswith("Parsing the file needed more than the memory limit (64 MB)")
    assert stored_bytes(version) == CSV


def test_a_reader_that_aborts_the_process_fails_the_job_not_the_worker(ingest, monkeypatch):
    monkeypatch.setattr(services, "parse_in_child", abort)
    version = ingest("trial.csv", CSV)
    assert version.status == DatasetVersion.Status.FAILED
    assert "memory limit" in version.error


def test_a_parse_over_its_time_limit_is_stopped(ingest, monkeypatch, settings):
    settings.DATASET_PARSE_TIME_LIMIT_SECONDS = 1
    monkeypatch.setattr(services, "parse_in_child", sleep)
    version = ingest("trial.csv", CSV)
    # The child sleeps a minute: only the limit ends it with this message.
    assert version.status == DatasetVersion.Status.FAILED
    assert version.error.startswith("Parsing took longer than the limit of 1 seconds and was stopped")


def test_the_same_file_parses_within_its_limits(ingest):
    version = ingest("trial.csv", CSV)
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert version.n_rows == 20_000
