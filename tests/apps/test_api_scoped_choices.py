"""A contact attempt names a contact and an owner: only this trial's contacts and this review's members are
found, and anything else answers exactly as an id or username that does not exist, so other reviews' contact
ids and the site's usernames cannot be probed."""

import datetime

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from tests.factories import ContactAttemptFactory, ContactFactory, MembershipFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db

MISSING_ID = 987654321


@pytest.fixture
def setting():
    trial = TrialFactory()
    reviewer = UserFactory(username="rosa")
    MembershipFactory(review=trial.review, user=reviewer, role=Role.REVIEWER)
    other_trial = TrialFactory()
    return {
        "trial": trial,
        "reviewer": reviewer,
        "own_contact": ContactFactory(trial=trial),
        "foreign_contact": ContactFactory(trial=other_trial),
        "sibling_contact": ContactFactory(trial=TrialFactory(review=trial.review)),
        "outsider": UserFactory(username="someone-elsewhere"),
    }


def _post(api_as, setting, **data):
    url = reverse("api-attempt-list", args=[setting["trial"].pk])
    body = {"date": datetime.date(2026, 3, 1).isoformat(), "channel": "email", "outcome": "no_reply", **data}
    return api_as(setting["reviewer"]).post(url, body, format="json")


def _error(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]["details"]


def _same_shape(first: str, second: str, first_value, second_value) -> bool:
    return first.replace(str(first_value), "X") == second.replace(str(second_value), "X")


def test_another_reviews_contact_answers_like_a_missing_one(api_as, setting):
    foreign = _error(_post(api_as, setting, contact=setting["foreign_contact"].pk))["contact"][0]
    missing = _error(_post(api_as, setting, contact=MISSING_ID))["contact"][0]
    assert _same_shape(foreign, missing, setting["foreign_contact"].pk, MISSING_ID)
    assert "another trial" not in foreign


def test_a_contact_of_another_trial_in_the_same_review_is_not_found_either(api_as, setting):
    sibling = _error(_post(api_as, setting, contact=setting["sibling_contact"].pk))["contact"][0]
    assert "does not exist" in sibling


def test_a_user_outside_the_review_answers_like_a_missing_username(api_as, setting):
    outsider = _error(_post(api_as, setting, owner="someone-elsewhere"))["owner"][0]
    missing = _error(_post(api_as, setting, owner="nobody-at-all"))["owner"][0]
    assert _same_shape(outsider, missing, "someone-elsewhere", "nobody-at-all")


def test_the_trials_own_contact_and_a_member_owner_are_accepted(api_as, setting):
    response = _post(api_as, setting, contact=setting["own_contact"].pk, owner="rosa")
    assert response.status_code == 201, response.content
    assert response.json()["contact"] == setting["own_contact"].pk
    assert response.json()["owner"] == "rosa"


def test_a_change_is_limited_to_the_attempts_own_trial_too(api_as, setting):
    attempt = ContactAttemptFactory(trial=setting["trial"])
    url = reverse("api-attempt-detail", args=[attempt.pk])
    client = api_as(setting["reviewer"])
    foreign = client.patch(url, {"contact": setting["foreign_contact"].pk}, format="json")
    assert "does not exist" in _error(foreign)["contact"][0]
    outsider = client.patch(url, {"owner": "someone-elsewhere"}, format="json")
    assert "does not exist" in _error(outsider)["owner"][0]
    assert client.patch(url, {"contact": setting["own_contact"].pk}, format="json").status_code == 200
