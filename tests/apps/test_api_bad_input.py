"""Bad input answers 400 (or 404 for what the user may not see) with a message naming the field, and
changes nothing in the database."""

import pytest

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.trials.models import Agreement, Contact, ContactAttempt, StatusTransition, Trial

pytestmark = pytest.mark.django_db


def _state() -> dict:
    """Everything a bad request could have touched."""
    return {
        "trials": list(Trial.objects.order_by("pk").values()),
        "attempts": list(ContactAttempt.objects.order_by("pk").values()),
        "contacts": list(Contact.objects.order_by("pk").values()),
        "agreements": list(Agreement.objects.order_by("pk").values()),
        "transitions": StatusTransition.objects.count(),
        "events": AuditEvent.objects.count(),
    }


@pytest.fixture
def as_reviewer(world, api_as):
    return api_as(world.users[Role.REVIEWER])


def _assert_refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    if field:
        assert field in error["details"]
        assert field in error["message"]
    return error


@pytest.mark.parametrize("bad_date", ["2026-13-01", "01/02/2026", "yesterday", ""])
def test_malformed_attempt_date_is_refused(world, as_reviewer, bad_date):
    before = _state()
    response = as_reviewer.post(
        f"/api/v1/trials/{world.own.trial.pk}/contact-attempts/",
        {"date": bad_date, "channel": "email", "outcome": "no_reply"},
        format="json",
    )
    error = _assert_refused(response, 400, "date")
    assert error["code"] == "invalid"
    assert _state() == before


def test_malformed_agreement_expiry_is_refused(world, as_reviewer):
    before = _state()
    response = as_reviewer.patch(
        f"/api/v1/agreements/{world.own.agreement.pk}/", {"expires_on": "31/12/2026"}, format="json"
    )
    _assert_refused(response, 400, "expires_on")
    assert _state() == before


def test_follow_up_before_the_attempt_is_refused(world, as_reviewer):
    before = _state()
    response = as_reviewer.post(
        f"/api/v1/trials/{world.own.trial.pk}/contact-attempts/",
        {"date": "2026-03-10", "next_follow_up": "2026-03-01", "channel": "email", "outcome": "no_reply"},
        format="json",
    )
    _assert_refused(response, 400, "next_follow_up")
    assert _state() == before


def test_signed_agreement_without_a_date_is_refused(world, as_reviewer):
    before = _state()
    response = as_reviewer.post(f"/api/v1/trials/{world.own.trial.pk}/agreements/", {"status": "signed"}, format="json")
    _assert_refused(response, 400, "signed_on")
    assert _state() == before


def test_unknown_status_in_a_transition_is_refused(world, as_reviewer):
    before = _state()
    response = as_reviewer.post(
        f"/api/v1/trials/{world.own.trial.pk}/transition/", {"to_status": "done"}, format="json"
    )
    error = _assert_refused(response, 400, "to_status")
    assert error["code"] == "unknown_status"
    assert "Eligible (eligible)" in error["message"]
    assert _state() == before


def test_refused_transition_names_the_allowed_states(world, as_reviewer):
    before = _state()
    response = as_reviewer.post(
        f"/api/v1/trials/{world.own.trial.pk}/transition/", {"to_status": "included"}, format="json"
    )
    error = _assert_refused(response, 400, "to_status")
    assert error["code"] == "transition_not_allowed"
    assert error["details"]["allowed"] == ["eligible", "not_eligible"]
    assert _state() == before


def test_exit_without_reason_is_refused(world, as_reviewer):
    before = _state()
    response = as_reviewer.post(
        f"/api/v1/trials/{world.own.trial.pk}/transition/", {"to_status": "not_eligible"}, format="json"
    )
    error = _assert_refused(response, 400, "reason")
    assert "not_randomised" in error["message"]
    assert _state() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("sponsor_type", "pharma"), ("year", "last year"), ("n_randomised", -5), ("identified_via", "twitter")],
)
def test_bad_trial_values_are_refused(world, as_reviewer, field, value):
    before = _state()
    response = as_reviewer.patch(f"/api/v1/trials/{world.own.trial.pk}/", {field: value}, format="json")
    _assert_refused(response, 400, field)
    assert _state() == before


def test_status_cannot_be_set_by_editing_the_trial(world, as_reviewer):
    before = _state()
    response = as_reviewer.patch(f"/api/v1/trials/{world.own.trial.pk}/", {"status": "included"}, format="json")
    error = _assert_refused(response, 400, "status")
    assert "transition" in error["message"]
    assert _state() == before


def test_unknown_filter_value_is_refused(world, as_reviewer):
    response = as_reviewer.get(f"/api/v1/reviews/{world.own.review.pk}/trials/?status=finished")
    _assert_refused(response, 400, "status")


def test_contact_of_another_trial_is_refused(world, as_reviewer):
    before = _state()
    response = as_reviewer.post(
        f"/api/v1/trials/{world.own.trial.pk}/contact-attempts/",
        {"date": "2026-03-10", "channel": "email", "outcome": "no_reply", "contact": world.unassigned.contact.pk},
        format="json",
    )
    _assert_refused(response, 400, "contact")
    assert _state() == before


def test_owner_outside_the_review_is_refused(world, as_reviewer):
    before = _state()
    response = as_reviewer.post(
        f"/api/v1/trials/{world.own.trial.pk}/contact-attempts/",
        {"date": "2026-03-10", "channel": "email", "outcome": "no_reply", "owner": world.newcomer.username},
        format="json",
    )
    _assert_refused(response, 400, "owner")
    assert _state() == before


def test_contributor_writing_to_another_trial_gets_404_and_nothing_changes(world, api_as):
    client = api_as(world.users[Role.CONTRIBUTOR])
    before = _state()
    attempt = {"date": "2026-03-10", "channel": "email", "outcome": "no_reply"}
    responses = [
        client.post(f"/api/v1/trials/{world.unassigned.trial.pk}/contact-attempts/", attempt, format="json"),
        client.post(f"/api/v1/trials/{world.unassigned.trial.pk}/contacts/", {"name": "X"}, format="json"),
        client.patch(f"/api/v1/contacts/{world.unassigned.contact.pk}/", {"name": "X"}, format="json"),
        client.post(f"/api/v1/trials/{world.other.trial.pk}/contact-attempts/", attempt, format="json"),
        client.post(
            f"/api/v1/trials/{world.unassigned.trial.pk}/transition/", {"to_status": "eligible"}, format="json"
        ),
    ]
    for response in responses:
        error = _assert_refused(response, 404)
        assert error["code"] == "not_found"
    assert _state() == before


def test_contributor_gets_403_for_a_status_change_on_their_own_trial(world, api_as):
    client = api_as(world.users[Role.CONTRIBUTOR])
    before = _state()
    response = client.post(f"/api/v1/trials/{world.own.trial.pk}/transition/", {"to_status": "eligible"}, format="json")
    error = _assert_refused(response, 403)
    assert "coordinators and reviewers" in error["message"]
    assert _state() == before


def test_analyst_cannot_mix_tracking_fields_into_a_result_update(world, api_as):
    client = api_as(world.users[Role.ANALYST])
    before = _state()
    response = client.patch(
        f"/api/v1/trials/{world.own.trial.pk}/", {"result_estimate": 0.5, "citation": "X"}, format="json"
    )
    _assert_refused(response, 403)
    assert _state() == before


def test_wrong_password_gives_no_token(world, api_client):
    response = api_client.post("/api/v1/auth/token/", {"username": "reviewer", "password": "nope"}, format="json")
    error = _assert_refused(response, 400)
    assert "Unable to log in" in error["message"]


def test_token_login_then_token_requests(world, api_client):
    from tests.factories import FACTORY_PASSWORD

    response = api_client.post(
        "/api/v1/auth/token/", {"username": "reviewer", "password": FACTORY_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api_client.get("/api/v1/reviews/").json()["count"] == 1
