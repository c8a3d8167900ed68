"""The admin for coordinators: scoped to their reviews, audited saves, bulk status moves, read-only history."""

import pytest

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.trials.lifecycle import Status
from apps.trials.models import Contact, Trial
from tests.factories import ContactFactory, MembershipFactory, ReviewFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(client):
    membership = MembershipFactory(role=Role.COORDINATOR, user=UserFactory(is_staff=True))
    client.force_login(membership.user)
    client.review = membership.review
    return membership.user


def test_coordinator_sees_only_their_reviews_trials(client, coordinator):
    mine = TrialFactory(review=client.review, title="Mine")
    theirs = TrialFactory(title="Theirs")
    page = client.get("/admin/trials/trial/")
    assert page.status_code == 200
    assert "Mine" in page.content.decode() and "Theirs" not in page.content.decode()
    assert client.get(f"/admin/trials/trial/{mine.pk}/change/").status_code == 200
    # Another review's trial is treated as missing: the admin redirects with "doesn't exist".
    assert client.get(f"/admin/trials/trial/{theirs.pk}/change/").status_code == 302


def test_staff_who_coordinate_nothing_are_refused(client):
    reviewer = MembershipFactory(role=Role.REVIEWER, user=UserFactory(is_staff=True)).user
    client.force_login(reviewer)
    assert client.get("/admin/trials/trial/").status_code == 403
    assert client.get("/admin/core/auditevent/").status_code == 403


def test_superuser_sees_every_review(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    ReviewFactory(title="First review")
    ReviewFactory(title="Second review")
    html = client.get("/admin/reviews/review/").content.decode()
    assert "First review" in html and "Second review" in html


def test_bulk_action_moves_trials_through_the_lifecycle_service(client, coordinator):
    eligible = TrialFactory(review=client.review, status=Status.ELIGIBLE)
    identified = TrialFactory(review=client.review, status=Status.IDENTIFIED)
    response = client.post(
        "/admin/trials/trial/",
        {"action": "mark_ipd_sought", "_selected_action": [eligible.pk, identified.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 trial(s) marked IPD sought" in html
    assert "Allowed next states: Eligible (eligible)" in html
    assert Trial.objects.get(pk=eligible.pk).status == Status.IPD_SOUGHT
    assert Trial.objects.get(pk=identified.pk).status == Status.IDENTIFIED
    transition = eligible.transitions.get()
    assert transition.actor == coordinator
    assert AuditEvent.objects.filter(trial=eligible, action="transition").count() == 1


def test_an_admin_save_is_audited_with_before_and_after(client, coordinator):
    contact = ContactFactory(trial=TrialFactory(review=client.review), institution="Leeds")
    response = client.post(
        f"/admin/trials/contact/{contact.pk}/change/",
        {"trial": contact.trial.pk, "name": contact.name, "role": contact.role, "email": contact.email,
         "institution": "York", "note": ""},
    )  # fmt: skip
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.actor, event.action) == (coordinator, "update")
    assert (event.before["institution"], event.after["institution"]) == ("Leeds", "York")


def test_an_admin_delete_is_audited(client, coordinator):
    contact = ContactFactory(trial=TrialFactory(review=client.review))
    response = client.post(f"/admin/trials/contact/{contact.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEvent.objects.get().action == "delete"


def test_trial_page_shows_its_history_and_audit_events_are_read_only(client, coordinator):
    trial = TrialFactory(review=client.review)
    from apps.trials.services import trial_update

    trial_update(trial=trial, actor=coordinator, data={"citation": "Lee 2019"})
    html = client.get(f"/admin/trials/trial/{trial.pk}/change/").content.decode()
    assert "History (newest first)" in html and "citation" in html
    event = AuditEvent.objects.get()
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    assert client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403


def test_filters_and_choices_name_only_the_coordinators_reviews(client, coordinator):
    TrialFactory(review=client.review)
    ReviewFactory(title="A confidential review")
    assert "A confidential review" not in client.get("/admin/trials/trial/").content.decode()
    assert "A confidential review" not in client.get("/admin/trials/trial/add/").content.decode()
    assert "A confidential review" not in client.get("/admin/core/auditevent/").content.decode()


def test_coordinator_adds_a_member_in_the_admin(client, coordinator):
    newcomer = UserFactory(username="newcomer")
    assert client.get("/admin/accounts/membership/add/").status_code == 200
    response = client.post(
        "/admin/accounts/membership/add/", {"review": client.review.pk, "user": newcomer.pk, "role": "analyst"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.after["role"]) == ("create", "membership", "analyst")
