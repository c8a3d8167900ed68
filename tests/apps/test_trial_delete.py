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
