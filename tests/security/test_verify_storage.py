"""`manage.py verify_storage` re-hashes every stored file against its recorded SHA-256 and reports any that is
missing or altered; beat runs it weekly."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from apps.datasets.models import DatasetVersion
from apps.datasets.storage import dataset_storage, store_once, upload_name
from apps.jobs.tasks import storage_verify_task
from ipdreview.celery import app as celery_app
from tests.checks.conftest import make_table
from tests.factories import TrialFactory
from tests.harmonisation.conftest import dataset_root  # noqa: F401  (fixture reused: storage in tmp_path)

pytestmark = pytest.mark.django_db


def _upload(trial, content: bytes, number: int) -> DatasetVersion:
    sha256 = hashlib.sha256(content).hexdigest()
    name = store_once(upload_name(sha256), ContentFile(content))
    return DatasetVersion.objects.create(
        trial=trial, number=number, sha256=sha256, size=len(content), original_name=f"v{number}.csv",
        storage_name=name, detected_format=DatasetVersion.Format.CSV,
    )  # fmt: skip


@pytest.fixture
def stored():
    trial = TrialFactory()
    first = _upload(trial, b"id,age\n1,34\n2,51\n", 1)
    second = _upload(trial, b"id,age\n1,34\n2,52\n", 2)
    table = make_table(trial, number=3)
    # make_table's source version names an upload it never stored: store one for it.
    content = b"id,age\n1,34\n2,53\n"
    sha256 = hashlib.sha256(content).hexdigest()
    DatasetVersion.objects.filter(pk=table.mapping.source_version_id).update(
        sha256=sha256, storage_name=store_once(upload_name(sha256), ContentFile(content))
    )
    return first, second, table


def _path(name: str) -> Path:
    return Path(dataset_storage().path(name))


def test_all_files_intact(stored, capsys):
    call_command("verify_storage")
    assert "4 stored files checked: 0 missing, 0 altered" in capsys.readouterr().out


def test_a_corrupted_and_a_missing_file_are_reported(stored, capsys):
    first, second, table = stored
    path = _path(first.storage_name)
    content = bytearray(path.read_bytes())
    content[-2] ^= 0x01  # one flipped bit, same size
    path.write_bytes(bytes(content))
    _path(table.storage_name).unlink()
    with pytest.raises(CommandError, match="4 stored files checked: 1 missing, 1 altered"):
        call_command("verify_storage")
    out = capsys.readouterr().out
    assert f"ALTERED  upload {first.storage_name} (dataset version {first.pk})" in out
    assert f"MISSING  harmonised table {table.storage_name} (harmonised table {table.pk})" in out
    assert second.storage_name not in out


def test_beat_runs_it_weekly_and_once_a_week(stored):
    entry = next(e for e in celery_app.conf.beat_schedule.values() if e["task"] == storage_verify_task.name)
    assert entry["schedule"].day_of_week == {0} and entry["schedule"].hour == {3}
    first, _, _ = stored
    _path(first.storage_name).write_bytes(b"tampered")
    result = storage_verify_task.apply().get()
    assert result["checked"] == 4 and len(result["altered"]) == 1 and result["missing"] == []
    assert storage_verify_task.apply().get() is None  # once a week
