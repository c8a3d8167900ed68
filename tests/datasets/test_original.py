"""The original file back: access-checked, audited, the stored bytes with their SHA-256."""

import hashlib

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.core.models import AuditEvent, DataAccessEvent

from .conftest import client_for

pytestmark = pytest.mark.django_db
# Bytes a text editor would "fix": a BOM, Windows line endings, trailing spaces, a Latin-1 byte.
CONTENT = b"\xef\xbb\xbfid;name;note\r\n1;Bj\xc3\xb6rn;  \r\n2;Ana;caf\xc3\xa9\r\n"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_original_comes_back_byte_identical_with_its_sha256(ingest, analyst):
    version = ingest("export (final).csv", CONTENT)
    response = client_for(analyst).get(f"/api/v1/datasets/{version.pk}/original/")
    assert response.status_code == 200
    data = body(response)
    assert data == CONTENT
    assert response["X-Content-SHA256"] == hashlib.sha256(CONTENT).hexdigest() == version.sha256
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Length"] == str(len(CONTENT))
    assert 'attachment; filename="export (final).csv"' in response["Content-Disposition"]


def test_a_workbook_comes_back_as_sent(ingest, analyst, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "age"])
    workbook.active.append([1, 30])
    path = tmp_path / "b.xlsx"
    workbook.save(path)
    content = path.read_bytes()
    version = ingest("b.xlsx", content)
    assert body(client_for(analyst).get(f"/api/v1/datasets/{version.pk}/original/")) == content


def test_each_download_is_audited_with_who_took_it(ingest, make_member, trial):
    version = ingest("a.csv", CONTENT)
    reviewer = make_member(Role.REVIEWER)
    body(client_for(reviewer).get(f"/api/v1/datasets/{version.pk}/original/"))
    event = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).get()
    assert (event.actor, event.trial, event.review) == (reviewer, trial, trial.review)
    assert event.object_type == "datasetversion"
    assert event.object_id == str(version.pk)
    assert event.after == {"sha256": version.sha256, "size": len(CONTENT), "original_name": "a.csv"}
    read = DataAccessEvent.objects.get()
    assert (read.actor, read.trial, read.action, read.object_id) == (reviewer, trial, "download", str(version.pk))
    assert read.detail["file"] == "original" and read.detail["sha256"] == version.sha256


def test_access_follows_who_may_see_the_version(ingest, make_member, review, other_trial):
    version = ingest("a.csv", CONTENT)
    url = f"/api/v1/datasets/{version.pk}/original/"
    assigned = make_member(Role.CONTRIBUTOR, trials=[version.trial], username="assigned")
    unassigned = make_member(Role.CONTRIBUTOR, username="unassigned")
    assert client_for(assigned).get(url).status_code == 200
    refused = client_for(unassigned).get(url)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.create_user(username="outsider", password="x")
    assert client_for(outsider).get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exclude(actor=assigned).exists()


def test_the_version_page_links_the_original(ingest, analyst, client):
    version = ingest("a.csv", CONTENT)
    client.force_login(analyst)
    page = client.get(f"/datasets/{version.pk}/").content.decode()
    assert f'href="/api/v1/datasets/{version.pk}/original/" download' in page
    # The page's session is enough to take it.
    assert body(client.get(f"/api/v1/datasets/{version.pk}/original/")) == CONTENT
