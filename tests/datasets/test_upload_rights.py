"""A user who may not upload is refused before a byte of the request body is read (no 500 MB to temp disk)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.datasets.models import DatasetVersion
from apps.datasets.uploads import HashingUploadHandler

CSV = b"id,arm\n1,1\n2,2\n"


@pytest.fixture
def body_reads(monkeypatch):
    """Every file the upload handler starts receiving: a refused request must leave this empty."""
    started = []
    original = HashingUploadHandler.new_file

    def new_file(self, *args, **kwargs):
        started.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HashingUploadHandler, "new_file", new_file)
    return started


def with_csrf_cookie(client):
    """A logged-in browser holds a CSRF cookie; without one Django refuses before reading the body anyway."""
    client.cookies["csrftoken"] = "a" * 32
    return client


def upload_payload():
    return {"file": SimpleUploadedFile("trial.csv", CSV), "note": ""}


def test_the_api_refuses_a_session_user_without_upload_rights_before_reading_the_body(make_member, trial, body_reads):
    reviewer = make_member(Role.REVIEWER)
    client = with_csrf_cookie(APIClient(enforce_csrf_checks=True))
    client.force_login(reviewer)

    response = client.post(f"/api/v1/trials/{trial.pk}/datasets/", upload_payload(), format="multipart")

    assert response.status_code == 403
    assert "Only the trial's contributors" in response.json()["error"]["message"]
    assert body_reads == []
    assert not DatasetVersion.objects.exists()


def test_the_api_refuses_a_token_user_without_upload_rights_before_reading_the_body(make_member, trial, body_reads):
    reviewer = make_member(Role.REVIEWER)
    client = APIClient()
    client.force_authenticate(reviewer)

    response = client.post(f"/api/v1/trials/{trial.pk}/datasets/", upload_payload(), format="multipart")

    assert response.status_code == 403
    assert body_reads == []


def test_the_upload_page_refuses_a_user_without_upload_rights_before_reading_the_body(make_member, trial, body_reads):
    reviewer = make_member(Role.REVIEWER)
    client = with_csrf_cookie(Client(enforce_csrf_checks=True))
    client.force_login(reviewer)

    response = client.post(f"/trials/{trial.pk}/datasets/upload/", upload_payload())

    assert response.status_code == 403
    assert b"Only the trial&#x27;s contributors" in response.content
    assert body_reads == []


def test_a_session_user_who_may_upload_still_goes_through_the_csrf_check(analyst, trial, body_reads):
    client = with_csrf_cookie(APIClient(enforce_csrf_checks=True))
    client.force_login(analyst)

    response = client.post(f"/api/v1/trials/{trial.pk}/datasets/", upload_payload(), format="multipart")

    assert response.status_code == 403
    assert "CSRF" in str(response.json())
    assert not DatasetVersion.objects.exists()
