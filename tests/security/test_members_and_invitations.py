"""Adding members tells nothing of other reviews or of which accounts exist: members are invited by username
or e-mail, and join by accepting. Creating a review is a right a site administrator grants."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from rest_framework.test import APIClient

from apps.accounts.models import Invitation, Membership, Role
from tests.factories import MembershipFactory, ReviewFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db

VOLATILE = {"id", "invitee", "created_at", "expires_at"}


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def scene():
    review = ReviewFactory(title="Our review")
    coordinator = UserFactory(username="cora")
    MembershipFactory(review=review, user=coordinator, role=Role.COORDINATOR)
    other_review = ReviewFactory(title="Their review")
    return {
        "review": review,
        "coordinator": coordinator,
        "api": _client(coordinator),
        "own_trial": TrialFactory(review=review),
        "foreign_trial": TrialFactory(review=other_review),
        "url": f"/api/v1/reviews/{review.pk}/members/",
    }


def _without_id(response, trial_id) -> tuple:
    return response.status_code, response.content.decode().replace(str(trial_id), "<id>")


def test_another_review_s_trial_and_an_unknown_trial_get_the_same_answer(scene):
    unknown = scene["foreign_trial"].pk + 1000
    answers = [
        _without_id(
            scene["api"].post(
                scene["url"], {"invitee": "x", "role": "contributor", "trials": [trial_id]}, format="json"
            ),
            trial_id,
        )
        for trial_id in (scene["foreign_trial"].pk, unknown)
    ]
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and "does not belong" not in answers[0][1]
    member = MembershipFactory(review=scene["review"], role=Role.CONTRIBUTOR)
    patches = [
        _without_id(
            scene["api"].patch(f"/api/v1/members/{member.pk}/", {"trials": [trial_id]}, format="json"), trial_id
        )
        for trial_id in (scene["foreign_trial"].pk, unknown)
    ]
    assert patches[0] == patches[1] and patches[0][0] == 400


def test_the_answer_to_an_invitation_does_not_depend_on_the_account(scene, django_capture_on_commit_callbacks):
    UserFactory(username="ada", email="ada@example.org")
    member = UserFactory(username="ben", email="ben@example.org")
    MembershipFactory(review=scene["review"], user=member, role=Role.REVIEWER)
    UserFactory(username="gone", email="gone@example.org", is_active=False)
    invitees = ["ada", "ADA@example.org", "nobody", "nobody@example.org", "ben", "gone"]
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for invitee in invitees:
            response = scene["api"].post(scene["url"], {"invitee": invitee, "role": "reviewer"}, format="json")
            assert response.status_code == 202, response.content
            answers.append({key: value for key, value in response.json().items() if key not in VOLATILE})
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["status"] == "pending"
    assert Invitation.objects.count() == len(invitees)
    # Nobody joined: an invitation is only an invitation.
    assert not Membership.objects.filter(user__username="ada").exists()
    # Each named account is told; an address no account has is told to ask for one; a plain unknown name, or an
    # inactive account, gets nothing.
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == ["ada@example.org", "ada@example.org", "ben@example.org", "nobody@example.org"]


def test_the_invited_person_accepts_and_becomes_a_member_with_the_role_and_trials(scene):
    ada = UserFactory(username="ada", email="Ada@Example.org")
    response = scene["api"].post(
        scene["url"], {"invitee": "ada@example.org", "role": "contributor", "trials": [scene["own_trial"].pk]},
        format="json",
    )  # fmt: skip
    invitation_id = response.json()["id"]
    stranger = _client(UserFactory(username="eve"))
    assert stranger.get("/api/v1/invitations/").json()["results"] == []
    assert stranger.post(f"/api/v1/invitations/{invitation_id}/accept/").status_code == 404

    mine = _client(ada).get("/api/v1/invitations/").json()["results"]
    assert [(row["id"], row["review_title"], row["role"]) for row in mine] == [
        (invitation_id, "Our review", "contributor")
    ]
    accepted = _client(ada).post(f"/api/v1/invitations/{invitation_id}/accept/")
    assert accepted.status_code == 201, accepted.content
    membership = Membership.objects.get(user=ada, review=scene["review"])
    assert membership.role == Role.CONTRIBUTOR and list(membership.trials.all()) == [scene["own_trial"]]
    assert _client(ada).post(f"/api/v1/invitations/{invitation_id}/accept/").status_code == 404
    listed = scene["api"].get(f"/api/v1/reviews/{scene['review'].pk}/invitations/").json()["results"]
    assert [row["status"] for row in listed] == ["accepted"]


def test_an_invitation_for_a_member_already_in_the_review_is_refused_to_the_invitee_only(scene):
    ben = UserFactory(username="ben")
    MembershipFactory(review=scene["review"], user=ben, role=Role.REVIEWER)
    invitation_id = scene["api"].post(scene["url"], {"invitee": "ben", "role": "analyst"}, format="json").json()["id"]
    refused = _client(ben).post(f"/api/v1/invitations/{invitation_id}/accept/")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "duplicate"
    assert Membership.objects.get(user=ben).role == Role.REVIEWER


def test_declining_and_revoking(scene):
    ada = UserFactory(username="ada")
    first = scene["api"].post(scene["url"], {"invitee": "ada", "role": "analyst"}, format="json").json()["id"]
    second = scene["api"].post(scene["url"], {"invitee": "ada", "role": "reviewer"}, format="json").json()["id"]
    assert _client(ada).post(f"/api/v1/invitations/{first}/decline/").status_code == 204
    reviewer = UserFactory(username="rita")
    MembershipFactory(review=scene["review"], user=reviewer, role=Role.REVIEWER)
    assert _client(reviewer).delete(f"/api/v1/invitations/{second}/").status_code == 403
    assert _client(UserFactory(username="out")).delete(f"/api/v1/invitations/{second}/").status_code == 404
    assert scene["api"].delete(f"/api/v1/invitations/{second}/").status_code == 204
    assert _client(ada).post(f"/api/v1/invitations/{second}/accept/").status_code == 404
    assert set(Invitation.objects.values_list("status", flat=True)) == {"declined", "revoked"}
    assert not Membership.objects.filter(user=ada).exists()


def test_only_coordinators_invite_and_list_invitations(scene):
    reviewer = UserFactory(username="rita")
    MembershipFactory(review=scene["review"], user=reviewer, role=Role.REVIEWER)
    assert _client(reviewer).post(scene["url"], {"invitee": "x", "role": "analyst"}, format="json").status_code == 403
    assert _client(reviewer).get(f"/api/v1/reviews/{scene['review'].pk}/invitations/").status_code == 403


def test_creating_a_review_needs_the_permission_a_site_administrator_grants():
    user = UserFactory(username="probe")
    refused = _client(user).post("/api/v1/reviews/", {"title": "Probe"}, format="json")
    assert refused.status_code == 403
    assert "site administrator" in refused.json()["error"]["message"]
    user.user_permissions.add(Permission.objects.get(codename="add_review", content_type__app_label="reviews"))
    user = type(user).objects.get(pk=user.pk)  # permissions are cached on the instance
    created = _client(user).post("/api/v1/reviews/", {"title": "Granted"}, format="json")
    assert created.status_code == 201 and created.json()["my_role"] == "coordinator"
    admin = UserFactory(username="root", is_superuser=True)
    assert _client(admin).post("/api/v1/reviews/", {"title": "Site admin's"}, format="json").status_code == 201


def test_the_invitee_answers_on_the_review_list_page(scene, client):
    ada = UserFactory(username="ada", email="ada@example.org")
    scene["api"].post(scene["url"], {"invitee": "ada@example.org", "role": "analyst"}, format="json")
    scene["api"].post(scene["url"], {"invitee": "ada", "role": "reviewer"}, format="json")
    first, second = Invitation.objects.order_by("pk")
    client.force_login(ada)
    page = client.get("/").content.decode()
    assert "Our review" in page and "as analyst" in page and "as reviewer" in page
    declined = client.post(f"/invitations/{second.pk}/", {"answer": "decline"})
    assert declined.status_code == 302
    accepted = client.post(f"/invitations/{first.pk}/", {"answer": "accept"}, follow=True)
    assert accepted.status_code == 200 and "You joined" in accepted.content.decode()
    assert Membership.objects.get(user=ada, review=scene["review"]).role == Role.ANALYST
    assert "Invitations" not in client.get("/").content.decode()
    client.force_login(UserFactory(username="eve"))
    assert client.post(f"/invitations/{first.pk}/", {"answer": "accept"}).status_code == 404


def test_a_decline_that_crossed_an_answer_changes_nothing(scene):
    from apps.accounts.invitations import invitation_accept, invitation_decline
    from apps.core.errors import ApplicationError

    ada = UserFactory(username="ada")
    invitation_id = scene["api"].post(scene["url"], {"invitee": "ada", "role": "analyst"}, format="json").json()["id"]
    stale = Invitation.objects.get(pk=invitation_id)  # read before the acceptance, as a crossing request would
    invitation_accept(invitation=Invitation.objects.get(pk=invitation_id), user=ada)
    with pytest.raises(ApplicationError, match="already answered"):
        invitation_decline(invitation=stale, user=ada)
    assert Invitation.objects.get(pk=invitation_id).status == "accepted"
    assert Membership.objects.get(user=ada, review=scene["review"]).role == Role.ANALYST
