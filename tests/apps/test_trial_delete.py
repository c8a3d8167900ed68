"""A trial with uploaded data cannot be deleted: the API answers 409 naming the versions, and nothing goes."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.datasets.models import DatasetVersion
from apps.trials.models import Contact, Trial
from tests.factories import ContactFactory, MembershipFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db


def _version(trial, number: int, name: str) -> DatasetVersion:
    return DatasetVersion.objects.create(
        trial=trial,
        number=number,
        sha256=f"{number:064x}",
        size=120,
        original_name=name,
        storage_name=f"uploads/00/{number:064x}",
    )


@pytest.fixture
def coordinator_client(api_as):
    def make(trial):
        user = UserFactory()
        MembershipFactory(review=trial.review, user=user, role=Role.COORDINATOR)
        return api_as(user)

    return make


def test_deleting_a_trial_with_data_answers_409_naming_the_versions(coordinator_client):
    trial = TrialFactory()
    contact = ContactFactory(trial=trial)
    first, second = _version(trial, 1, "baseline.csv"), _version(trial, 2, "baseline-corrected.xlsx")
    response = coordinator_client(trial).delete(reverse("api-trial-detail", args=[trial.pk]))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "trial_has_data"
    assert "v1 (baseline.csv)" in error["message"] and "v2 (baseline-corrected.xlsx)" in error["message"]
    assert error["details"]["dataset_versions"] == [first.pk, second.pk]
    assert Trial.objects.filter(pk=trial.pk).exists()
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_trial_without_data_is_deleted(coordinator_client):
    trial = TrialFactory()
    response = coordinator_client(trial).delete(reverse("api-trial-detail", args=[trial.pk]))
    assert response.status_code == 204
    assert not Trial.objects.filter(pk=trial.pk).exists()


def test_a_coordinator_deletes_a_trial_without_data_from_its_edit_page(client):
    trial = TrialFactory(title="Screened out early")
    ContactFactory(trial=trial)
    coordinator = UserFactory()
    MembershipFactory(review=trial.review, user=coordinator, role=Role.COORDINATOR)
    client.force_login(coordinator)
    delete = reverse("dashboard:trial-delete", args=[trial.pk])
    assert delete in client.get(reverse("dashboard:trial-edit", args=[trial.pk])).content.decode()
    response = client.post(delete, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:trial-list", args=[trial.review_id])
    assert "Trial &#x27;Screened out early&#x27; deleted." in response.content.decode()
    assert not Trial.objects.filter(pk=trial.pk).exists() and not Contact.objects.exists()


def test_the_page_refuses_to_delete_a_trial_with_data_and_says_why(client):
    trial = TrialFactory()
    _version(trial, 1, "baseline.csv")
    coordinator = UserFactory()
    MembershipFactory(review=trial.review, user=coordinator, role=Role.COORDINATOR)
    client.force_login(coordinator)
    response = client.post(reverse("dashboard:trial-delete", args=[trial.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:trial-edit", args=[trial.pk]) + "#delete"
    assert "v1 (baseline.csv)" in response.content.decode()
    assert Trial.objects.filter(pk=trial.pk).exists()


def test_only_coordinators_are_offered_the_delete(client):
    trial = TrialFactory()
    reviewer = UserFactory()
    MembershipFactory(review=trial.review, user=reviewer, role=Role.REVIEWER)
    client.force_login(reviewer)
    page = client.get(reverse("dashboard:trial-edit", args=[trial.pk])).content.decode()
    assert reverse("dashboard:trial-delete", args=[trial.pk]) not in page
    assert client.post(reverse("dashboard:trial-delete", args=[trial.pk])).status_code == 403
    assert Trial.objects.filter(pk=trial.pk).exists()
