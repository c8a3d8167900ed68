"""What each role sees in lists: only their reviews, and contributors only their assigned trials and their history.

Every route's answers per role and scope are in the permission matrix (tests/permissions/).
"""

import pytest

from apps.accounts.models import Role

C, A, R, K = Role.COORDINATOR, Role.ANALYST, Role.REVIEWER, Role.CONTRIBUTOR
ROLES = (C, A, R, K)


@pytest.mark.parametrize("role", ROLES)
def test_review_list_shows_only_the_users_reviews(world, api_as, role):
    response = api_as(world.users[role]).get("/api/v1/reviews/")
    assert response.status_code == 200
    assert [review["id"] for review in response.json()["results"]] == [world.own.review.pk]
    assert response.json()["results"][0]["my_role"] == role


def test_a_user_in_no_review_sees_an_empty_list(world, api_as):
    response = api_as(world.newcomer).get("/api/v1/reviews/")
    assert response.json()["count"] == 0


def test_creating_a_review_makes_its_creator_coordinator(world, api_as):
    from django.contrib.auth.models import Permission

    world.newcomer.user_permissions.add(Permission.objects.get(codename="add_review"))
    client = api_as(world.newcomer)
    response = client.post("/api/v1/reviews/", {"title": "New review", "registration": "CRD1"}, format="json")
    assert response.status_code == 201
    assert response.json()["my_role"] == C
    members = client.get(f"/api/v1/reviews/{response.json()['id']}/members/").json()["results"]
    assert [(m["user"], m["role"]) for m in members] == [("newcomer", C)]


def test_contributor_lists_only_assigned_trials(world, api_as):
    response = api_as(world.users[K]).get(f"/api/v1/reviews/{world.own.review.pk}/trials/")
    assert [trial["id"] for trial in response.json()["results"]] == [world.own.trial.pk]


def test_contributor_history_is_limited_to_assigned_trials(world, api_as):
    from apps.trials.services import contact_create

    contact_create(trial=world.own.trial, actor=world.users[C], name="Seen")
    contact_create(trial=world.unassigned.trial, actor=world.users[C], name="Unseen")
    events = api_as(world.users[K]).get(f"/api/v1/reviews/{world.own.review.pk}/history/").json()["results"]
    assert [event["object_repr"] for event in events] == ["Seen"]
    events = api_as(world.users[R]).get(f"/api/v1/reviews/{world.own.review.pk}/history/").json()["results"]
    assert {event["object_repr"] for event in events} == {"Seen", "Unseen"}
