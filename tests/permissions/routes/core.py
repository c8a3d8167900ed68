"""Reviews, members, outcomes, trials and their tracking records: the core API and the dashboard's pages."""

import datetime

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.models import Membership, Role
from apps.trials.models import Agreement
from tests.factories import (
    AgreementFactory,
    ContactAttemptFactory,
    ContactFactory,
    EthicsApprovalFactory,
    MembershipFactory,
    OutcomeFactory,
    TrialFactory,
)
from tests.permissions.matrix import READ_ALL, Call, Route, builds, codes


@builds("outcome", level="review")
def outcome(scope):
    return OutcomeFactory(review=scope.review, name="All-cause mortality")


@builds("member", level="review")
def member(scope):
    return Membership.objects.get(review=scope.review, user=scope.author)


@builds("spare_member", level="review")
def spare_member(scope):
    """A member to change and remove."""
    return MembershipFactory(review=scope.review, role=Role.REVIEWER)


@builds("contact")
def contact(scope):
    return ContactFactory(trial=scope.trial)


@builds("attempt")
def attempt(scope):
    return ContactAttemptFactory(trial=scope.trial, contact=scope.contact)


@builds("agreement")
def agreement(scope):
    """Signed and in force (uploads need it), with its document."""
    today = timezone.localdate()
    signed = AgreementFactory(
        trial=scope.trial,
        status=Agreement.Status.SIGNED,
        signed_on=today - datetime.timedelta(days=30),
        expires_on=today + datetime.timedelta(days=335),
    )
    signed.document.save("data-sharing-agreement.pdf", ContentFile(b"%PDF-1.4\n% signed\n"), save=True)
    return signed


@builds("approval")
def approval(scope):
    return EthicsApprovalFactory(trial=scope.trial)


@builds("bare_trial")
def bare_trial(scope):
    """A trial with no data uploaded, which may be deleted (one with data may not)."""
    return scope.assign(TrialFactory(review=scope.review, title=f"Trial to delete ({scope.name})"))


def last_week() -> str:
    return (timezone.localdate() - datetime.timedelta(days=7)).isoformat()


def attempt_form(o) -> dict:
    return {"date": last_week(), "channel": "email", "outcome": "no_reply", "contact": "", "owner": "", "note": ""}


def new_trial_form(o) -> dict:
    return {
        "title": "A trial added on its page",
        "sponsor_type": "academic",
        "arms": "2",
        "identified_via": "database",
        "screening_decision": "pending",
        "ipd_sought": "unknown",
        "ipd_provided": "unknown",
    }


def trial_edit_form(o) -> dict:
    """The trial's form as posted from its edit page, with a new citation and estimate: an analyst's form has
    the published result only, and ignores the rest."""
    trial = o.trial
    return {
        **new_trial_form(o),
        "title": trial.title,
        "citation": "Smith 2020",
        "result_measure": "RR",
        "result_estimate": "0.75",
        "screening_decision": trial.screening_decision,
    }


def agreement_form(o) -> dict:
    document = SimpleUploadedFile("agreement.pdf", b"%PDF-1.4\n% draft\n", content_type="application/pdf")
    return {"title": "DSA", "platform": "direct", "status": "draft", "document": document}


def contact_edit_form(o) -> dict:
    return {"name": "Dr Lee, renamed", "role": o.contact.role, "email": o.contact.email}


def agreement_edit_form(o) -> dict:
    """The signed agreement, renamed, with a new document."""
    agreement = o.agreement
    document = SimpleUploadedFile("agreement-v2.pdf", b"%PDF-1.4\n% signed, v2\n", content_type="application/pdf")
    return {
        "title": "DSA, second version",
        "platform": agreement.platform,
        "status": agreement.status,
        "signed_on": agreement.signed_on.isoformat(),
        "expires_on": agreement.expires_on.isoformat(),
        "document": document,
    }


def attempt_edit_form(o) -> dict:
    """The attempt's outcome changed once the reply came."""
    attempt = o.attempt
    return {
        "date": attempt.date.isoformat(),
        "channel": attempt.channel,
        "outcome": "replied",
        "contact": attempt.contact_id or "",
        "owner": "",
        "note": attempt.note,
    }


def approval_edit_form(o) -> dict:
    return {"side": o.approval.side, "body": "University REC, renamed", "reference": o.approval.reference}


PAGE_TRACKING_WRITE = codes(302, 403, 302, 403)
PAGE_TRACKING_READ = codes(200, 403, 200, 403)
TRACKING_WRITE = codes(201, 403, 201, 403)
TRACKING_CHANGE = codes(200, 403, 200, 403)
TRACKING_DELETE = codes(204, 403, 204, 403)

ROUTES = [
    # The API ------------------------------------------------------------------------------------------------
    # Creating a review takes the permission a site administrator grants (reviews.add_review), which no role in a
    # review gives; with it the user becomes the new review's coordinator (tests/security).
    Route("api-review-list", get=READ_ALL, post=Call(codes(403, 403, 403, 403), body=lambda o: {"title": "New"})),
    Route(
        "api-review-detail",
        {"pk": "review"},
        get=READ_ALL,
        patch=Call(codes(200, 403, 403, 403), body=lambda o: {"title": "Renamed"}),
    ),
    Route(
        "api-member-list",
        {"review_id": "review"},
        get=codes(200, 200, 200, 403),
        # Members are added by invitation: 202 with the invitation, whether or not an account has the name.
        post=[
            Call(
                codes(202, 403, 403, 403),
                body=lambda o: {"invitee": "matrix-newcomer", "role": "reviewer"},
                label="account",
            ),
            Call(
                codes(202, 403, 403, 403),
                body=lambda o: {"invitee": "nobody@example.org", "role": "contributor", "trials": [o.trial.pk]},
                label="no account",
            ),
        ],
    ),
    Route("api-member-detail", {"pk": "member"}, get=codes(200, 200, 200, 403)),
    Route(
        "api-member-detail",
        {"pk": "spare_member"},
        patch=Call(codes(200, 403, 403, 403), body=lambda o: {"role": "analyst"}),
        delete=codes(204, 403, 403, 403),
    ),
    Route(
        "api-outcome-list",
        {"review_id": "review"},
        get=READ_ALL,
        post=Call(
            codes(201, 201, 403, 403),
            body=lambda o: {"name": "Mortality at 90 days", "type": "binary", "measure": "RR"},
        ),
    ),
    Route(
        "api-outcome-detail",
        {"pk": "outcome"},
        get=READ_ALL,
        patch=Call(codes(200, 200, 403, 403), body=lambda o: {"description": "At 90 days"}),
        delete=codes(204, 204, 403, 403),
    ),
    Route(
        "api-trial-list",
        {"review_id": "review"},
        get=READ_ALL,
        post=Call(TRACKING_WRITE, body=lambda o: {"title": "A new trial"}),
    ),
    Route("api-review-summary", {"review_id": "review"}, get=READ_ALL),
    Route("api-review-history", {"review_id": "review"}, get=READ_ALL),
    Route(
        "api-trial-detail",
        {"pk": "trial"},
        get=READ_ALL,
        patch=[
            Call(TRACKING_CHANGE, body=lambda o: {"citation": "Smith 2020"}, label="tracking"),
            Call(codes(200, 200, 200, 403), body=lambda o: {"result_estimate": 0.75}, label="result"),
        ],
    ),
    Route("api-trial-detail", {"pk": "bare_trial"}, delete=codes(204, 403, 403, 403)),
    Route("dashboard:trial-delete", {"trial_id": "bare_trial"}, post=codes(302, 403, 403, 403)),
    Route(
        "api-trial-transition",
        {"trial_id": "trial"},
        post=Call(TRACKING_WRITE, body=lambda o: {"to_status": "eligible"}),
    ),
    Route("api-transition-list", {"trial_id": "trial"}, get=READ_ALL),
    Route("api-trial-history", {"trial_id": "trial"}, get=READ_ALL),
    Route(
        "api-contact-list",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(codes(201, 403, 201, 201), body=lambda o: {"name": "Dr Lee"}),
    ),
    Route(
        "api-contact-detail",
        {"pk": "contact"},
        get=READ_ALL,
        patch=Call(TRACKING_CHANGE, body=lambda o: {"institution": "Leeds"}),
        delete=TRACKING_DELETE,
    ),
    Route(
        "api-attempt-list",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(
            codes(201, 403, 201, 201), body=lambda o: {"date": last_week(), "channel": "email", "outcome": "no_reply"}
        ),
    ),
    Route(
        "api-attempt-detail",
        {"pk": "attempt"},
        get=READ_ALL,
        patch=Call(TRACKING_CHANGE, body=lambda o: {"note": "Left a message"}),
        delete=TRACKING_DELETE,
    ),
    Route(
        "api-agreement-list",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(TRACKING_WRITE, body=lambda o: {"title": "DSA", "status": "draft"}),
    ),
    Route(
        "api-agreement-detail",
        {"pk": "agreement"},
        get=READ_ALL,
        patch=Call(TRACKING_CHANGE, body=lambda o: {"conditions": "No linkage"}),
        delete=TRACKING_DELETE,
    ),
    Route("api-agreement-document", {"pk": "agreement"}, get=READ_ALL),
    Route(
        "api-approval-list",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(TRACKING_WRITE, body=lambda o: {"side": "receiving", "body": "University REC"}),
    ),
    Route(
        "api-approval-detail",
        {"pk": "approval"},
        get=READ_ALL,
        patch=Call(TRACKING_CHANGE, body=lambda o: {"reference": "X-1"}),
        delete=TRACKING_DELETE,
    ),
    # The pages ----------------------------------------------------------------------------------------------
    Route("dashboard:review-list", get=READ_ALL),
    Route("dashboard:review-overview", {"review_id": "review"}, get=READ_ALL),
    Route("dashboard:trial-list", {"review_id": "review"}, get=READ_ALL),
    Route("dashboard:trial-detail", {"trial_id": "trial"}, get=READ_ALL),
    Route("dashboard:agreement-document", {"trial_id": "trial", "agreement_id": "agreement"}, get=READ_ALL),
    Route(
        "dashboard:contact-attempt-create",
        {"trial_id": "trial"},
        post=Call(codes(302, 403, 302, 302), body=attempt_form),
    ),
    Route(
        "dashboard:trial-create",
        {"review_id": "review"},
        get=codes(200, 403, 200, 403),
        post=Call(PAGE_TRACKING_WRITE, body=new_trial_form),
    ),
    Route(
        "dashboard:trial-edit",
        {"trial_id": "trial"},
        get=codes(200, 200, 200, 403),
        post=Call(codes(302, 302, 302, 403), body=trial_edit_form),
    ),
    Route(
        "dashboard:contact-create",
        {"trial_id": "trial"},
        post=Call(codes(302, 403, 302, 302), body=lambda o: {"name": "Dr Lee", "role": "other"}),
    ),
    Route("dashboard:agreement-create", {"trial_id": "trial"}, post=Call(PAGE_TRACKING_WRITE, body=agreement_form)),
    Route(
        "dashboard:approval-create",
        {"trial_id": "trial"},
        post=Call(PAGE_TRACKING_WRITE, body=lambda o: {"side": "receiving", "body": "University REC"}),
    ),
    Route(
        "dashboard:contact-edit",
        {"trial_id": "trial", "contact_id": "contact"},
        get=PAGE_TRACKING_READ,
        post=Call(PAGE_TRACKING_WRITE, body=contact_edit_form, target="contact"),
    ),
    Route(
        "dashboard:contact-delete",
        {"trial_id": "trial", "contact_id": "contact"},
        post=Call(PAGE_TRACKING_WRITE, target="contact"),
    ),
    Route(
        "dashboard:agreement-edit",
        {"trial_id": "trial", "agreement_id": "agreement"},
        get=PAGE_TRACKING_READ,
        post=Call(PAGE_TRACKING_WRITE, body=agreement_edit_form, target="agreement"),
    ),
    Route(
        "dashboard:agreement-delete",
        {"trial_id": "trial", "agreement_id": "agreement"},
        post=Call(PAGE_TRACKING_WRITE, target="agreement"),
    ),
    Route(
        "dashboard:attempt-edit",
        {"trial_id": "trial", "attempt_id": "attempt"},
        get=PAGE_TRACKING_READ,
        post=Call(PAGE_TRACKING_WRITE, body=attempt_edit_form, target="attempt"),
    ),
    Route(
        "dashboard:attempt-delete",
        {"trial_id": "trial", "attempt_id": "attempt"},
        post=Call(PAGE_TRACKING_WRITE, target="attempt"),
    ),
    Route(
        "dashboard:approval-edit",
        {"trial_id": "trial", "approval_id": "approval"},
        get=PAGE_TRACKING_READ,
        post=Call(PAGE_TRACKING_WRITE, body=approval_edit_form, target="approval"),
    ),
    Route(
        "dashboard:approval-delete",
        {"trial_id": "trial", "approval_id": "approval"},
        post=Call(PAGE_TRACKING_WRITE, target="approval"),
    ),
    Route(
        "dashboard:member-list",
        {"review_id": "review"},
        get=codes(200, 200, 200, 403),
        post=Call(codes(302, 403, 403, 403), body=lambda o: {"invitee": "matrix-newcomer", "role": "reviewer"}),
    ),
    Route(
        "dashboard:member-edit",
        {"review_id": "review", "membership_id": "spare_member"},
        get=codes(200, 403, 403, 403),
        post=Call(codes(302, 403, 403, 403), body=lambda o: {"role": "analyst", "initial-role": "reviewer"}),
    ),
    Route(
        "dashboard:member-remove",
        {"review_id": "review", "membership_id": "spare_member"},
        post=codes(302, 403, 403, 403),
    ),
    Route(
        "dashboard:outcome-list",
        {"review_id": "review"},
        get=READ_ALL,
        post=Call(codes(302, 302, 403, 403), body=lambda o: {"name": "Pain", "type": "continuous", "measure": "MD"}),
    ),
    Route(
        "dashboard:outcome-edit",
        {"review_id": "review", "outcome_id": "outcome"},
        get=codes(200, 200, 403, 403),
        post=Call(
            codes(302, 302, 403, 403),
            body=lambda o: {"name": "All-cause mortality", "type": "binary", "measure": "RR"},
        ),
    ),
    Route(
        "dashboard:outcome-delete",
        {"review_id": "review", "outcome_id": "outcome"},
        post=codes(302, 302, 403, 403),
    ),
    Route(
        "dashboard:trial-transition",
        {"trial_id": "trial"},
        post=Call(codes(302, 403, 302, 403), body=lambda o: {"to_status": "eligible", "reason": "", "note": ""}),
    ),
]
