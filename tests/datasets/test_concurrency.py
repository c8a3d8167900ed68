"""Two identical uploads at the same moment give one version; two different ones get numbers 1 and 2."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from apps.datasets.models import DatasetVersion
from apps.jobs import services as job_services
from apps.jobs.models import Job

from .conftest import client_for


@pytest.fixture(autouse=True)
def unsent(monkeypatch):
    """No worker runs here: keep the parse jobs' messages out of the broker."""
    sent = []
    monkeypatch.setattr(job_services, "_enqueue", sent.append)
    return sent


def upload_at_once(user, trial, contents: list[bytes]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(contents))
    results: list = [None] * len(contents)

    def upload(index: int, content: bytes) -> None:
        try:
            client = client_for(user)
            barrier.wait(timeout=10)
            response = client.post(
                f"/api/v1/trials/{trial.pk}/datasets/",
                {"file": SimpleUploadedFile("trial.csv", content)},
                format="multipart",
            )
            results[index] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(index, content)) for index, content in enumerate(contents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_identical_uploads_at_once_give_one_version(trial, analyst):
    results = upload_at_once(analyst, trial, [b"id\n1\n2\n"] * 2)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 202]
    assert results[0][1]["id"] == results[1][1]["id"]
    assert DatasetVersion.objects.filter(trial=trial).count() == 1
    assert Job.objects.filter(kind="dataset_parse").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_different_uploads_at_once_get_consecutive_numbers(trial, analyst):
    results = upload_at_once(analyst, trial, [b"id\n1\n", b"id\n2\n"])
    assert sorted(status for status, _ in results) == [202, 202]
    assert sorted(body["number"] for _, body in results) == [1, 2]
