"""The content-addressed store never keeps a partial file under a hash name."""

import hashlib

import pytest
from django.core.files.base import ContentFile

from apps.datasets import storage
from apps.datasets.storage import dataset_storage, store_once

from .conftest import stored_bytes

CSV = b"id,arm\n007,1\n012,2\n"


class BrokenContent(ContentFile):
    """Content whose reading fails after its first chunk, as when a worker is stopped mid-write."""

    def chunks(self, chunk_size=None):
        yield self.read(4)
        raise OSError("the worker stopped")


def test_a_truncated_file_left_at_the_hash_name_is_replaced_by_the_upload(ingest, dataset_root):
    sha256 = hashlib.sha256(CSV).hexdigest()
    leftover = dataset_root / storage.upload_name(sha256)
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(CSV[:5])

    version = ingest("trial.csv", CSV)

    assert stored_bytes(version) == CSV
    assert version.status == "parsed"
    assert version.n_rows == 2


def test_a_write_stopped_midway_leaves_nothing_under_the_name(dataset_root):
    with pytest.raises(OSError):
        store_once("uploads/ab/abc", BrokenContent(b"0123456789"))

    assert not dataset_storage().exists("uploads/ab/abc")
    assert list((dataset_root / "uploads" / "ab").iterdir()) == []


def test_a_complete_file_already_stored_is_kept(dataset_root):
    store_once("parsed/ab/abc.v1.parquet", ContentFile(b"first"))
    before = (dataset_root / "parsed" / "ab" / "abc.v1.parquet").stat().st_mtime_ns

    assert store_once("parsed/ab/abc.v1.parquet", ContentFile(b"again")) == "parsed/ab/abc.v1.parquet"
    assert (dataset_root / "parsed" / "ab" / "abc.v1.parquet").stat().st_mtime_ns == before


@pytest.mark.django_db  # the periodic task claims its hour in the database (apps.jobs.periodic)
def test_stale_unfinished_files_are_removed_and_nothing_else(dataset_root):
    import os
    import time

    from ipdreview.celery import app

    old, fresh = dataset_root / "parsed" / "ab" / ".t.parquet.x.partial", dataset_root / ".incoming" / "y.partial"
    finished = dataset_root / "uploads" / "ab" / "abc"
    for path in (old, fresh, finished):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"data")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(finished, (two_hours_ago, two_hours_ago))
    assert storage.partials_remove_stale(older_than_seconds=3600) == 1
    assert not old.exists() and fresh.exists() and finished.exists()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "apps.datasets.tasks.partials_remove_stale_task" in tasks
    # The task keeps a partial file for an hour past the longest job's time limit: the fresh one stays.
    from apps.datasets.tasks import partials_remove_stale_task

    assert partials_remove_stale_task() == 0 and fresh.exists()


def test_a_new_file_is_named_by_the_hash_of_the_bytes_written(dataset_root, db):
    def write(path):
        with path.open("wb") as sink:
            for part in (b"first part, ", memoryview(b"second part"), bytearray(b"; last")):
                sink.write(part)

    name, sha256 = storage.store_new(write, lambda digest: f"derived/{digest}.bin")
    content = b"first part, second part; last"
    assert sha256 == hashlib.sha256(content).hexdigest()
    assert name == f"derived/{sha256}.bin"
    assert (dataset_root / name).read_bytes() == content
    assert not list(dataset_root.rglob("*.partial"))
