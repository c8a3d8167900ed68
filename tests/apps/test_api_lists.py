"""Filtering, search, ordering and pagination on the list endpoints."""

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.trials.lifecycle import Status
from tests.factories import ContactAttemptFactory, MembershipFactory, TrialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(api_as):
    membership = MembershipFactory(role=Role.REVIEWER)
    client = api_as(membership.user)
    client.review = membership.review
    return client


def _titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_trials_filter_by_status_and_sponsor(reviewer_client):
    review = reviewer_client.review
    TrialFactory(review=review, title="A", status=Status.CONTACTED, sponsor_type="industry")
    TrialFactory(review=review, title="B", status=Status.CONTACTED, sponsor_type="academic")
    TrialFactory(review=review, title="C", status=Status.INCLUDED, sponsor_type="industry")
    url = f"/api/v1/reviews/{review.pk}/trials/"
    assert _titles(reviewer_client.get(url, {"status": "contacted"})) == ["A", "B"]
    assert _titles(reviewer_client.get(url, {"status": "contacted", "sponsor_type": "industry"})) == ["A"]


def test_trials_search_title_and_registry_id(reviewer_client):
    review = reviewer_client.review
    TrialFactory(review=review, title="Dexamethasone trial", registry_id="NCT111")
    TrialFactory(review=review, title="Hydrocortisone trial", registry_id="ISRCTN222")
    url = f"/api/v1/reviews/{review.pk}/trials/"
    assert _titles(reviewer_client.get(url, {"search": "dexa"})) == ["Dexamethasone trial"]
    assert _titles(reviewer_client.get(url, {"search": "isrctn"})) == ["Hydrocortisone trial"]


def test_trials_order_and_paginate(reviewer_client):
    review = reviewer_client.review
    for year, title in [(2010, "old"), (2020, "new"), (2015, "mid")]:
        TrialFactory(review=review, title=title, year=year)
    url = f"/api/v1/reviews/{review.pk}/trials/"
    first = reviewer_client.get(url, {"ordering": "-year", "page_size": 2}).json()
    assert first["count"] == 3
    assert [row["title"] for row in first["results"]] == ["new", "mid"]
    second = reviewer_client.get(first["next"]).json()
    assert [row["title"] for row in second["results"]] == ["old"]


def test_attempts_filter_by_follow_up_date(reviewer_client):
    import datetime

    trial = TrialFactory(review=reviewer_client.review)
    ContactAttemptFactory(trial=trial, date=datetime.date(2026, 1, 1), next_follow_up=datetime.date(2026, 1, 15))
    ContactAttemptFactory(trial=trial, date=datetime.date(2026, 2, 1), next_follow_up=datetime.date(2026, 3, 1))
    rows = reviewer_client.get(f"/api/v1/trials/{trial.pk}/contact-attempts/", {"follow_up_by": "2026-02-01"}).json()
    assert [row["next_follow_up"] for row in rows["results"]] == ["2026-01-15"]


def test_trial_detail_lists_allowed_next_states(reviewer_client):
    trial = TrialFactory(review=reviewer_client.review, status=Status.RESPONDED)
    body = reviewer_client.get(f"/api/v1/trials/{trial.pk}/").json()
    assert body["allowed_next"] == ["agreement_in_progress", "declined", "data_not_available", "withdrawn"]
    assert body["status_label"] == "Responded"


def test_transition_endpoint_moves_and_records(reviewer_client):
    trial = TrialFactory(review=reviewer_client.review, status=Status.CONTACTED)
    response = reviewer_client.post(
        f"/api/v1/trials/{trial.pk}/transition/",
        {"to_status": "no_response", "reason": "no_reply", "note": "Three reminders."},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "no_response"
    assert response.json()["exit_reason"] == "no_reply"
    transitions = reviewer_client.get(f"/api/v1/trials/{trial.pk}/transitions/").json()["results"]
    assert [(t["from_status"], t["to_status"], t["note"]) for t in transitions] == [
        ("contacted", "no_response", "Three reminders.")
    ]


def test_unknown_api_urls_answer_in_the_api_error_shape(reviewer_client):
    response = reviewer_client.get("/api/v1/trials/not-a-number/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_review_summary_counts_trials_and_lists_what_is_due(api_as):
    import datetime

    from apps.trials.services import trial_transition

    membership = MembershipFactory(role=Role.CONTRIBUTOR)
    review = membership.review
    assigned = TrialFactory(review=review, status=Status.IPD_SOUGHT, n_randomised=100)
    TrialFactory(review=review, status=Status.IPD_SOUGHT, n_randomised=50)
    membership.trials.set([assigned])
    trial_transition(trial=assigned, to_status=Status.CONTACTED, actor=membership.user)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ContactAttemptFactory(trial=assigned, date=yesterday, next_follow_up=yesterday, owner=membership.user)

    coordinator = MembershipFactory(review=review, role=Role.COORDINATOR).user
    full = api_as(coordinator).get(f"/api/v1/reviews/{review.pk}/summary/").json()
    by_status = {row["status"]: row for row in full["pipeline"]}
    assert (by_status["contacted"]["trials"], by_status["contacted"]["participants"]) == (1, 100)
    assert (by_status["ipd_sought"]["trials"], by_status["ipd_sought"]["participants"]) == (1, 50)
    assert full["response_rate"] == {"contacted": 1, "responded": 0, "rate": 0.0}
    assert [row["trial"] for row in full["followups_due"]] == [assigned.pk]

    mine = api_as(membership.user).get(f"/api/v1/reviews/{review.pk}/summary/").json()
    assert sum(row["trials"] for row in mine["pipeline"]) == 1
