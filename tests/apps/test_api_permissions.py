# ruff: noqa: E501  (the matrix reads best one endpoint per line)
"""The permission matrix: every role x every endpoint x own review / unassigned trial / other review.

Expected codes are written for the role's own review (on the trial assigned to the contributor). From
those: in another review every object answers 404, never 403; on a trial of the same review that is not
assigned to them, a contributor gets 404 too, and every other role gets the same answer as on their own.
"""

import pytest

from apps.accounts.models import Role
from apps.core.models import AuditEvent

C, A, R, K = Role.COORDINATOR, Role.ANALYST, Role.REVIEWER, Role.CONTRIBUTOR
ROLES = (C, A, R, K)


def codes(coordinator, analyst, reviewer, contributor) -> dict:
    return {C: coordinator, A: analyst, R: reviewer, K: contributor}


READ_ALL = codes(200, 200, 200, 200)

# name, method, url, payload (from the world), expected codes in the role's own review, level
ENDPOINTS = [
    ("review detail", "get", "/api/v1/reviews/{review}/", None, READ_ALL, "review"),
    ("review update", "patch", "/api/v1/reviews/{review}/", lambda w: {"title": "Renamed"}, codes(200, 403, 403, 403), "review"),
    ("member list", "get", "/api/v1/reviews/{review}/members/", None, codes(200, 200, 200, 403), "review"),
    (
        "member add",
        "post",
        "/api/v1/reviews/{review}/members/",
        lambda w: {"invitee": w.newcomer.username, "role": "reviewer"},
        codes(202, 403, 403, 403),
        "review",
    ),
    ("member detail", "get", "/api/v1/members/{member}/", None, codes(200, 200, 200, 403), "review"),
    ("member update", "patch", "/api/v1/members/{spare_member}/", lambda w: {"role": "analyst"}, codes(200, 403, 403, 403), "review"),
    ("member remove", "delete", "/api/v1/members/{spare_member}/", None, codes(204, 403, 403, 403), "review"),
    ("outcome list", "get", "/api/v1/reviews/{review}/outcomes/", None, READ_ALL, "review"),
    (
        "outcome add",
        "post",
        "/api/v1/reviews/{review}/outcomes/",
        lambda w: {"name": "Mortality at 90 days", "type": "binary", "measure": "RR"},
        codes(201, 201, 403, 403),
        "review",
    ),
    ("outcome detail", "get", "/api/v1/outcomes/{outcome}/", None, READ_ALL, "review"),
    ("outcome update", "patch", "/api/v1/outcomes/{outcome}/", lambda w: {"description": "x"}, codes(200, 200, 403, 403), "review"),
    ("outcome delete", "delete", "/api/v1/outcomes/{outcome}/", None, codes(204, 204, 403, 403), "review"),
    ("trial list", "get", "/api/v1/reviews/{review}/trials/", None, READ_ALL, "review"),
    ("trial add", "post", "/api/v1/reviews/{review}/trials/", lambda w: {"title": "A new trial"}, codes(201, 403, 201, 403), "review"),
    ("review summary", "get", "/api/v1/reviews/{review}/summary/", None, READ_ALL, "review"),
    ("review history", "get", "/api/v1/reviews/{review}/history/", None, READ_ALL, "review"),
    ("trial detail", "get", "/api/v1/trials/{trial}/", None, READ_ALL, "trial"),
    ("trial update", "patch", "/api/v1/trials/{trial}/", lambda w: {"citation": "Smith 2020"}, codes(200, 403, 200, 403), "trial"),
    (
        "trial result update",
        "patch",
        "/api/v1/trials/{trial}/",
        lambda w: {"result_estimate": 0.75},
        codes(200, 200, 200, 403),
        "trial",
    ),
    ("trial delete", "delete", "/api/v1/trials/{trial}/", None, codes(204, 403, 403, 403), "trial"),
    (
        "trial transition",
        "post",
        "/api/v1/trials/{trial}/transition/",
        lambda w: {"to_status": "eligible"},
        codes(201, 403, 201, 403),
        "trial",
    ),
    ("transition list", "get", "/api/v1/trials/{trial}/transitions/", None, READ_ALL, "trial"),
    ("trial history", "get", "/api/v1/trials/{trial}/history/", None, READ_ALL, "trial"),
    ("contact list", "get", "/api/v1/trials/{trial}/contacts/", None, READ_ALL, "trial"),
    ("contact add", "post", "/api/v1/trials/{trial}/contacts/", lambda w: {"name": "Dr Lee"}, codes(201, 403, 201, 201), "trial"),
    ("contact detail", "get", "/api/v1/contacts/{contact}/", None, READ_ALL, "trial"),
    ("contact update", "patch", "/api/v1/contacts/{contact}/", lambda w: {"institution": "X"}, codes(200, 403, 200, 403), "trial"),
    ("contact delete", "delete", "/api/v1/contacts/{contact}/", None, codes(204, 403, 204, 403), "trial"),
    ("attempt list", "get", "/api/v1/trials/{trial}/contact-attempts/", None, READ_ALL, "trial"),
    (
        "attempt add",
        "post",
        "/api/v1/trials/{trial}/contact-attempts/",
        lambda w: {"date": "2026-02-01", "channel": "email", "outcome": "no_reply"},
        codes(201, 403, 201, 201),
        "trial",
    ),
    ("attempt detail", "get", "/api/v1/contact-attempts/{attempt}/", None, READ_ALL, "trial"),
    ("attempt update", "patch", "/api/v1/contact-attempts/{attempt}/", lambda w: {"note": "x"}, codes(200, 403, 200, 403), "trial"),
    ("attempt delete", "delete", "/api/v1/contact-attempts/{attempt}/", None, codes(204, 403, 204, 403), "trial"),
    ("agreement list", "get", "/api/v1/trials/{trial}/agreements/", None, READ_ALL, "trial"),
    (
        "agreement add",
        "post",
        "/api/v1/trials/{trial}/agreements/",
        lambda w: {"title": "DSA", "status": "draft"},
        codes(201, 403, 201, 403),
        "trial",
    ),
    ("agreement detail", "get", "/api/v1/agreements/{agreement}/", None, READ_ALL, "trial"),
    ("agreement update", "patch", "/api/v1/agreements/{agreement}/", lambda w: {"conditions": "x"}, codes(200, 403, 200, 403), "trial"),
    ("agreement delete", "delete", "/api/v1/agreements/{agreement}/", None, codes(204, 403, 204, 403), "trial"),
    ("approval list", "get", "/api/v1/trials/{trial}/approvals/", None, READ_ALL, "trial"),
    (
        "approval add",
        "post",
        "/api/v1/trials/{trial}/approvals/",
        lambda w: {"side": "receiving", "body": "University REC"},
        codes(201, 403, 201, 403),
        "trial",
    ),
    ("approval detail", "get", "/api/v1/approvals/{approval}/", None, READ_ALL, "trial"),
    ("approval update", "patch", "/api/v1/approvals/{approval}/", lambda w: {"reference": "X-1"}, codes(200, 403, 200, 403), "trial"),
    ("approval delete", "delete", "/api/v1/approvals/{approval}/", None, codes(204, 403, 204, 403), "trial"),
]  # fmt: skip


def _cases():
    for name, method, url, payload, expected, level in ENDPOINTS:
        scopes = ("own", "unassigned", "other") if level == "trial" else ("own", "other")
        for scope in scopes:
            for role in ROLES:
                if scope == "other" or (scope == "unassigned" and role == K):
                    code = 404
                else:
                    code = expected[role]
                yield pytest.param(method, url, payload, role, scope, code, id=f"{name}-{role}-{scope}-{code}")


@pytest.mark.parametrize(("method", "url", "payload", "role", "scope", "expected"), list(_cases()))
def test_permission_matrix(world, api_as, method, url, payload, role, scope, expected):
    client = api_as(world.users[role])
    path = url.format(**getattr(world, scope).ids())
    events_before = AuditEvent.objects.count()
    response = getattr(client, method)(path, payload(world) if payload else None, format="json")
    assert response.status_code == expected, response.content
    if expected in (403, 404):
        error = response.json()["error"]
        assert error["code"] in ("permission_denied", "not_found")
        assert error["message"]
        assert AuditEvent.objects.count() == events_before, "a refused request must change nothing"
    elif method != "get":
        assert AuditEvent.objects.count() > events_before, "every write is audited"


@pytest.mark.parametrize(
    ("name", "method", "url", "payload", "expected", "level"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_anonymous_requests_answer_401(world, api_client, name, method, url, payload, expected, level):
    response = getattr(api_client, method)(
        url.format(**world.own.ids()), payload(world) if payload else None, format="json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


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
