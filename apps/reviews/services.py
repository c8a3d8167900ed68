"""Writes for reviews and their outcomes; each one audited in its own transaction."""

from django.db import transaction
from django.db.models import ProtectedError

from apps.accounts.models import Membership, Role
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.core.services import (
    assign_fields,
    audit_record,
    in_use,
    locked_copy,
    snapshot,
    update_and_audit,
    validate,
)
from apps.reviews.models import Outcome, Review

REVIEW_FIELDS = ("title", "question", "registration", "status")
OUTCOME_FIELDS = ("name", "type", "measure", "is_primary", "higher_is_better", "description")


@transaction.atomic
def review_create(*, actor, title: str, question: str = "", registration: str = "", status: str = "") -> Review:
    """Create a review; its creator becomes its first coordinator."""
    review = Review(title=title, question=question, registration=registration)
    if status:
        review.status = status
    validate(review)
    review.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, instance=review, after=snapshot(review), review=review)
    if actor is not None and actor.is_authenticated:
        membership = Membership.objects.create(review=review, user=actor, role=Role.COORDINATOR)
        audit_record(
            actor=actor, action=AuditEvent.Action.CREATE, instance=membership, after=snapshot(membership), review=review
        )
    return review


@transaction.atomic
def review_update(*, review: Review, actor, data: dict) -> Review:
    return update_and_audit(instance=review, actor=actor, data=data, allowed=REVIEW_FIELDS, review=review)


def _check_measure(outcome: Outcome) -> None:
    allowed = Outcome.MEASURES_BY_TYPE.get(outcome.type, set())
    if outcome.measure not in allowed:
        names = ", ".join(sorted(allowed))
        raise ApplicationError(
            f"measure: {outcome.measure} does not fit a {outcome.type} outcome; use one of {names}.",
            details={"measure": [f"Use one of {names} for a {outcome.type} outcome."]},
        )


def record_check(instance) -> None:
    """The services' own checks of an outcome, for writes that do not go through them (the admin's forms)."""
    if isinstance(instance, Outcome):
        _check_measure(instance)


@transaction.atomic
def outcome_create(*, review: Review, actor, **data) -> Outcome:
    outcome = Outcome(review=review)
    assign_fields(instance=outcome, data=data, allowed=OUTCOME_FIELDS)
    validate(outcome)
    _check_measure(outcome)
    outcome.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, instance=outcome, after=snapshot(outcome), review=review)
    return outcome


@transaction.atomic
def outcome_update(*, outcome: Outcome, actor, data: dict) -> Outcome:
    return update_and_audit(
        instance=outcome, actor=actor, data=data, allowed=OUTCOME_FIELDS, review=outcome.review, check=_check_measure
    )


@transaction.atomic
def outcome_delete(*, outcome: Outcome, actor) -> None:
    outcome = locked_copy(outcome)
    audit_record(
        actor=actor, action=AuditEvent.Action.DELETE, instance=outcome, before=snapshot(outcome), review=outcome.review
    )
    try:
        with transaction.atomic():
            outcome.delete()
    except ProtectedError as error:
        raise in_use(outcome.name, error)
