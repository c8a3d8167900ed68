"""The upload and read endpoints: statuses, identical content, size cap, refused formats, the audit event."""

import hashlib
import io
import pickle

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import AuditEvent
from apps.datasets.models import DatasetVersion

from .conftest import parse_job, run_parse, stored_bytes

pytestmark = pytest.mark.django_db

CSV = b"id,arm,age\n007,1,34\n012,2,51\n"


def post(api, trial, content: bytes, name: str = "trial.csv", **extra):
    data = {"file": SimpleUploadedFile(name, content), **extra}
    return api.post(f"/api/v1/trials/{trial.pk}/datasets/", data, format="multipart")


def test_upload_answers_202_with_the_new_version(api, trial, analyst):
    response = post(api, trial, CSV, note="Baseline export, March")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["number"] == 1
    assert body["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert body["status"] == "queued"
    version = DatasetVersion.objects.get(pk=body["id"])
    assert (version.size, version.original_name, version.note) == (len(CSV), "trial.csv", "Baseline export, March")
    assert version.uploaded_by == analyst
    assert stored_bytes(version) == CSV
    assert version.storage_name == f"uploads/{body['sha256'][:2]}/{body['sha256']}"
    job = parse_job(version)
    assert (job.kind, job.state, job.trial_id, job.created_by) == ("dataset_parse", "queued", trial.pk, analyst)
    event = AuditEvent.objects.get(object_type="datasetversion", object_id=str(version.pk))
    assert (event.action, event.actor, event.trial) == (AuditEvent.Action.CREATE, analyst, trial)
    assert event.after["sha256"] == body["sha256"]


def test_the_same_content_again_returns_the_existing_version(api, trial):
    first = post(api, trial, CSV).json()
    again = post(api, trial, CSV, name="renamed.csv")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert DatasetVersion.objects.filter(trial=trial).count() == 1
    changed = post(api, trial, CSV + b"103,1,40\n")
    assert changed.status_code == 202
    assert changed.json()["number"] == 2


def test_version_detail_has_status_progress_and_dictionary(api, trial):
    version = DatasetVersion.objects.get(pk=post(api, trial, CSV).json()["id"])
    queued = api.get(f"/api/v1/datasets/{version.pk}/").json()
    assert queued["status"] == "queued"
    assert queued["job"]["state"] == "queued"
    assert queued["dictionary"] == []
    run_parse(version)
    parsed = api.get(f"/api/v1/datasets/{version.pk}/").json()
    assert parsed["status"] == "parsed"
    assert (parsed["n_rows"], parsed["n_columns"]) == (2, 3)
    assert parsed["job"]["progress"] == 100
    assert [(entry["name"], entry["type"]) for entry in parsed["dictionary"]] == [
        ("id", "text"),
        ("arm", "integer"),
        ("age", "integer"),
    ]


def test_trial_version_list_is_newest_first(api, trial):
    post(api, trial, CSV)
    post(api, trial, CSV + b"103,1,40\n")
    response = api.get(f"/api/v1/trials/{trial.pk}/datasets/")
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [2, 1]


def test_a_file_over_the_cap_is_refused_with_413(api, trial, settings):
    settings.DATASET_MAX_UPLOAD_BYTES = 1000
    response = post(api, trial, b"a,b\n" + b"1,2\n" * 400)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "file_too_large"
    assert "the limit is 1000 bytes" in error["message"]
    assert not DatasetVersion.objects.exists()


def test_the_cap_is_enforced_while_streaming(api, trial, settings):
    # A large request body is refused before it is read in full.
    settings.DATASET_MAX_UPLOAD_BYTES = 10
    response = post(api, trial, b"x" * (3 * 1024 * 1024))
    assert response.status_code == 413
    assert not DatasetVersion.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PAR1" + b"\x00" * 64 + b"PAR1", "Parquet files are not accepted"),
        (pickle.dumps(["a", 1], protocol=4), "Python pickle files are not accepted"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "Compressed (gzip) files are not accepted"),
    ],
)
def test_formats_that_can_carry_code_are_refused(api, trial, content, message):
    response = post(api, trial, content, name="data.csv")
    assert response.status_code == 415
    assert response.json()["error"]["message"].startswith(message)
    assert not DatasetVersion.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_refused(api, trial):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    response = post(api, trial, buffer.getvalue(), name="data.xlsx")
    assert response.status_code == 415
    assert "unpack it" in response.json()["error"]["message"]


def test_an_empty_file_is_refused(api, trial, dataset_root):
    response = post(api, trial, b"")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == {"file": ["The submitted file is empty."]}
    assert "file: The submitted file is empty." in error["message"]
    assert not DatasetVersion.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not [path for path in dataset_root.rglob("*") if path.is_file()]


def test_the_file_field_is_required(api, trial):
    response = api.post(f"/api/v1/trials/{trial.pk}/datasets/", {"note": "no file"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]


def test_a_failed_version_can_be_parsed_again_after_its_limit_is_raised(api, trial, settings, make_member):
    settings.DATASET_MAX_ROWS = 1
    version = DatasetVersion.objects.get(pk=post(api, trial, CSV).json()["id"])
    run_parse(version)
    assert version.status == "failed"
    settings.DATASET_MAX_ROWS = 100
    reviewer = make_member("reviewer")
    from .conftest import client_for

    assert client_for(reviewer).post(f"/api/v1/datasets/{version.pk}/parse/").status_code == 403
    response = api.post(f"/api/v1/datasets/{version.pk}/parse/")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response.json()["job"]["attempts"] == 0
    run_parse(version)
    assert (version.status, version.n_rows) == ("parsed", 2)
    assert api.post(f"/api/v1/datasets/{version.pk}/parse/").status_code == 409
    transition = AuditEvent.objects.get(
        object_type="datasetversion", action=AuditEvent.Action.TRANSITION, actor__isnull=False
    )
    assert (transition.before["status"], transition.after["status"]) == ("failed", "queued")


def test_a_version_left_queued_can_have_its_parse_sent_again(
    api, trial, django_capture_on_commit_callbacks, monkeypatch
):
    from apps.jobs import services as job_services

    sent = []
    monkeypatch.setattr(job_services, "_enqueue", lambda job: sent.append(job.pk))
    version = DatasetVersion.objects.get(pk=post(api, trial, CSV).json()["id"])
    job = parse_job(version)
    assert version.status == "queued"

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/datasets/{version.pk}/parse/")
    assert response.status_code == 202
    assert sent == [job.pk]
    assert parse_job(version).pk == job.pk
    assert run_parse(version).status == "parsed"


def test_uploads_use_the_parse_queue_setting(api, trial, settings, django_capture_on_commit_callbacks, monkeypatch):
    from apps.jobs import services as job_services

    sent = []
    monkeypatch.setattr(job_services, "_enqueue", sent.append)
    settings.DATASET_PARSE_QUEUE = "ingest-isolated"
    with django_capture_on_commit_callbacks(execute=True):
        post(api, trial, CSV)
    assert [job.queue for job in sent] == ["ingest-isolated"]
