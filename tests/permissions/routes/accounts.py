"""Membership by invitation, and the review's log of reads of participant data: the API and the page.

Coordinators invite (routes/core.py: POST members/ answers 202 with the invitation), list the review's invitations
and revoke them, and read the access log. Only the person an invitation names answers it: none of the four roles
is, so each gets 404 and the invitation stays pending. The invitee's own answers, and their list of invitations,
are tested in tests/security/test_members_and_invitations.py.
"""

from apps.accounts import invitations
from apps.accounts.models import Role
from tests.permissions.matrix import Call, Route, builds, codes

COORDINATORS = codes(200, 403, 403, 403)
NOT_THE_INVITEE = codes(404, 404, 404, 404)


@builds("invitation", level="review")
def invitation(scope):
    """A pending invitation of a user who is in no review, as a reviewer."""
    return invitations.invitation_create(
        review=scope.review, actor=scope.author, invitee="matrix-newcomer", role=Role.REVIEWER
    )


ROUTES = [
    Route("api-review-invitations", {"review_id": "review"}, get=COORDINATORS),
    Route("api-invitation-detail", {"pk": "invitation"}, delete=codes(204, 403, 403, 403)),
    Route("api-invitation-accept", {"pk": "invitation"}, post=NOT_THE_INVITEE),
    Route("api-invitation-decline", {"pk": "invitation"}, post=NOT_THE_INVITEE),
    Route("api-review-access-log", {"review_id": "review"}, get=COORDINATORS),
    # The page ----------------------------------------------------------------------------------------------
    Route(
        "dashboard:invitation-answer",
        {"invitation_id": "invitation"},
        post=[
            Call(NOT_THE_INVITEE, body=lambda o: {"answer": "accept"}, label="accept"),
            Call(NOT_THE_INVITEE, body=lambda o: {"answer": "decline"}, label="decline"),
        ],
    ),
    Route(
        "dashboard:invitation-revoke",
        {"review_id": "review", "invitation_id": "invitation"},
        post=Call(codes(302, 403, 403, 403), target="invitation"),
    ),
]
