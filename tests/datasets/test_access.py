"""Who may upload and read participant data: roles, agreement states, other reviews."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.datasets import services
from apps.datasets.access import agreement_problem
from apps.datasets.models import DatasetVersion
from apps.jobs.models import Job
from apps.trials.models import Agreement, Trial

from .conftest import client_for, upload_file

pytestmark = pytest.mark.django_db
CSV = b"id\n1\n"
TODAY = timezone.localdate()


def post(client, trial):
    return client.post(
        f"/api/v1/trials/{trial.pk}/datasets/", {"file": SimpleUploadedFile("a.csv", CSV)}, format="multipart"
    )


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ANALYST])
def test_coordinators_and_analysts_may_upload(make_member, trial, role):
    user = make_member(role)
    response = post(client_for(user), trial)
    assert response.status_code == 202
    version = DatasetVersion.objects.get(pk=response.json()["id"])
    assert (version.trial, version.number, version.uploaded_by, version.size) == (trial, 1, user, len(CSV))
    assert version.status == DatasetVersion.Status.QUEUED
    event = AuditEvent.objects.get(object_type="datasetversion", object_id=str(version.pk))
    assert (event.action, event.actor) == (AuditEvent.Action.CREATE, user)
    assert Job.objects.filter(target_id=str(version.pk), state=Job.State.QUEUED, created_by=user).count() == 1


def test_a_contributor_may_upload_to_an_assigned_trial_only(make_member, trial, review):
    second = Trial.objects.create(review=review, title="Second trial")
    Agreement.objects.create(trial=second, status=Agreement.Status.SIGNED)
    client = client_for(make_member(Role.CONTRIBUTOR, trials=[trial]))
    assert post(client, trial).status_code == 202
    response = post(client, second)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Trial not found."


def test_a_reviewer_may_read_but_not_upload(make_member, trial, analyst):
    version, _ = services.dataset_upload(trial=trial, actor=analyst, file=upload_file("a.csv", CSV))
    client = client_for(make_member(Role.REVIEWER))
    response = post(client, trial)
    assert response.status_code == 403
    assert "contributors and the review's analysts and coordinators" in response.json()["error"]["message"]
    assert client.get(f"/api/v1/datasets/{version.pk}/").status_code == 200
    assert client.get(f"/api/v1/trials/{trial.pk}/datasets/").json()["count"] == 1


def test_other_reviews_answer_404(api, other_trial):
    other_version = DatasetVersion.objects.create(
        trial=other_trial, number=1, sha256="a" * 64, size=1, original_name="x.csv", storage_name="uploads/x"
    )
    assert post(api, other_trial).status_code == 404
    assert api.get(f"/api/v1/trials/{other_trial.pk}/datasets/").status_code == 404
    assert api.get(f"/api/v1/datasets/{other_version.pk}/").status_code == 404
    assert api.get("/api/v1/datasets/not-a-number/").status_code == 404


def test_a_non_member_gets_404_and_an_anonymous_client_401(trial):
    stranger = get_user_model().objects.create_user(username="stranger", password="x")
    assert post(client_for(stranger), trial).status_code == 404
    anonymous = post(APIClient(), trial)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert not DatasetVersion.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("status", "expires_on", "reason"),
    [
        (Agreement.Status.DRAFT, None, "is not signed yet"),
        (Agreement.Status.NEGOTIATING, None, "is not signed yet"),
        (Agreement.Status.SIGNED, TODAY - datetime.timedelta(days=1), "expired on"),
        (Agreement.Status.EXPIRED, TODAY - datetime.timedelta(days=10), "expired on"),
        (Agreement.Status.TERMINATED, None, "is not signed yet"),
    ],
)
def test_uploads_need_a_signed_unexpired_agreement(api, trial, status, expires_on, reason):
    trial.agreements.update(status=status, expires_on=expires_on)
    response = post(api, trial)
    assert response.status_code == 403
    assert reason in response.json()["error"]["message"]
    assert not DatasetVersion.objects.exists()


def test_a_trial_without_any_agreement(api, review):
    bare = Trial.objects.create(review=review, title="No agreement yet")
    response = post(api, bare)
    assert response.status_code == 403
    assert response.json()["error"]["message"].startswith("The trial has no data-sharing agreement")


def test_an_agreement_in_force_today_and_one_without_end_date(trial):
    trial.agreements.update(expires_on=TODAY)
    assert agreement_problem(trial, today=TODAY) is None
    assert "expired on" in agreement_problem(trial, today=TODAY + datetime.timedelta(days=1))
    trial.agreements.update(expires_on=None)
    assert agreement_problem(trial, today=TODAY + datetime.timedelta(days=3650)) is None
