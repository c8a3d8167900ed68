"""The pages: a trial's versions, the upload page (with its form fallback) and a version's dictionary."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role
from apps.datasets import services
from apps.datasets.models import DatasetVersion

from .conftest import run_parse, upload_file

pytestmark = pytest.mark.django_db
CSV = b"id,arm,visit\n007,1,2020-01-05\n012,2,not done\n103,1,2020-02-01\n104,2,2020-02-02\n105,1,2020-02-03\n"


def browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.cookies["csrftoken"].value


def test_trial_versions_page_lists_versions_and_links_the_upload(analyst, trial):
    version, _ = services.dataset_upload(
        trial=trial, actor=analyst, file=upload_file("first.csv", CSV), note="Export 1"
    )
    response = browser(analyst).get(reverse("datasets:trial-versions", args=[trial.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "first.csv" in page and "Export 1" in page and "Queued" in page
    assert reverse("datasets:version-detail", args=[version.pk]) in page
    assert reverse("datasets:upload", args=[trial.pk]) in page


def test_a_reviewer_sees_why_they_cannot_upload(make_member, trial):
    reviewer = make_member(Role.REVIEWER)
    page = browser(reviewer).get(reverse("datasets:upload", args=[trial.pk])).content.decode()
    assert "Only the trial&#x27;s contributors and the review&#x27;s analysts and coordinators" in page
    assert 'id="upload-form"' not in page


def test_the_upload_page_has_the_progress_bar_and_script(analyst, trial):
    page = browser(analyst).get(reverse("datasets:upload", args=[trial.pk])).content.decode()
    assert 'id="upload-form"' in page
    assert "<progress" in page
    assert "datasets/upload.js" in page
    assert f'data-api-url="/api/v1/trials/{trial.pk}/datasets/"' in page


def test_the_form_fallback_uploads_and_opens_the_version(analyst, trial):
    client = browser(analyst)
    url = reverse("datasets:upload", args=[trial.pk])
    token = csrf_token(client, url)
    response = client.post(
        url, {"file": SimpleUploadedFile("t.csv", CSV), "note": "by form", "csrfmiddlewaretoken": token}
    )
    version = DatasetVersion.objects.get(trial=trial)
    assert response.status_code == 302
    assert response["Location"] == reverse("datasets:version-detail", args=[version.pk])
    assert version.note == "by form"


def test_the_form_fallback_checks_csrf(analyst, trial):
    response = browser(analyst).post(
        reverse("datasets:upload", args=[trial.pk]), {"file": SimpleUploadedFile("t.csv", CSV)}
    )
    assert response.status_code == 403
    assert not DatasetVersion.objects.exists()


def test_the_form_fallback_shows_the_size_limit(analyst, trial, settings):
    settings.DATASET_MAX_UPLOAD_BYTES = 20
    client = browser(analyst)
    url = reverse("datasets:upload", args=[trial.pk])
    token = csrf_token(client, url)
    response = client.post(url, {"file": SimpleUploadedFile("t.csv", CSV), "csrfmiddlewaretoken": token})
    assert response.status_code == 413
    assert "the limit is 20 bytes" in response.content.decode()
    assert not DatasetVersion.objects.exists()


def test_version_page_shows_the_dictionary_with_failed_dates(analyst, trial):
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("t.csv", CSV))
    queued = browser(analyst).get(reverse("datasets:version-detail", args=[version.pk])).content.decode()
    assert 'data-refresh-seconds="3"' in queued
    run_parse(version)
    page = browser(analyst).get(reverse("datasets:version-detail", args=[version.pk])).content.decode()
    assert "data-refresh-seconds" not in page
    assert "Parsed" in page and "5 rows, 3 columns" in page
    assert "1 not read as date" in page and "not done" in page
    assert version.sha256 in page


def test_a_failed_version_shows_its_error(analyst, trial):
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("t.csv", b"a,b\n1,2,3\n"))
    run_parse(version)
    page = browser(analyst).get(reverse("datasets:version-detail", args=[version.pk])).content.decode()
    assert "Line 2 has 3 values but the header has 2 columns" in page
    assert "kept as it was sent" in page


def test_pages_of_other_reviews_answer_404(other_trial, trial, analyst):
    stranger = get_user_model().objects.create_user(username="stranger", password="x")
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("t.csv", CSV))
    client = browser(stranger)
    assert client.get(reverse("datasets:trial-versions", args=[trial.pk])).status_code == 404
    assert client.get(reverse("datasets:upload", args=[trial.pk])).status_code == 404
    assert client.get(reverse("datasets:version-detail", args=[version.pk])).status_code == 404
    assert browser(analyst).get(reverse("datasets:trial-versions", args=[other_trial.pk])).status_code == 404


def test_the_page_script_path_session_upload_to_the_api_needs_the_csrf_header(analyst, trial):
    client = browser(analyst)
    token = csrf_token(client, reverse("datasets:upload", args=[trial.pk]))
    url = f"/api/v1/trials/{trial.pk}/datasets/"
    refused = client.post(url, {"file": SimpleUploadedFile("t.csv", CSV)})
    assert refused.status_code == 403
    accepted = client.post(url, {"file": SimpleUploadedFile("t.csv", CSV)}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 202
    assert accepted.json()["sha256"] == DatasetVersion.objects.get().sha256


def test_a_failed_version_can_be_parsed_again_from_its_page(analyst, trial, make_member):
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("t.csv", b"a,b\n1,2,3\n"))
    run_parse(version)
    url = reverse("datasets:version-detail", args=[version.pk])
    client = browser(analyst)
    assert "Parse again" in client.get(url).content.decode()
    reviewer = browser(make_member(Role.REVIEWER))
    assert "Parse again" not in reviewer.get(url).content.decode()
    reparse = reverse("datasets:version-reparse", args=[version.pk])
    token = reviewer.cookies["csrftoken"].value
    assert reviewer.post(reparse, {"csrfmiddlewaretoken": token}).status_code == 403
    response = client.post(reparse, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}, follow=True)
    assert "queued to be parsed again" in response.content.decode()
    version.refresh_from_db()
    assert version.status == DatasetVersion.Status.QUEUED
