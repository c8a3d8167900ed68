"""Writes for review membership; each one audited in its own transaction."""

from django.db import transaction

from apps.accounts.models import Membership, Role
from apps.accounts.tokens import tokens_revoke_for_user
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.core.services import audit_record, snapshot, validate


def _check_trials(review, trials) -> None:
    # Worded as for an id that does not exist, so that the answer tells nothing of other reviews' trials.
    foreign = [trial.pk for trial in trials if trial.review_id != review.pk]
    if foreign:
        message = f'Invalid pk "{foreign[0]}" - object does not exist.'
        raise ApplicationError(f"trials: {message}", details={"trials": [message]})


def _check_keeps_a_coordinator(membership: Membership, new_role: str | None) -> None:
    if membership.role != Role.COORDINATOR or new_role == Role.COORDINATOR:
        return
    others = Membership.objects.filter(review=membership.review, role=Role.COORDINATOR).exclude(pk=membership.pk)
    if not others.exists():
        raise ApplicationError(
            "A review needs at least one coordinator; appoint another before changing this one.",
            code="last_coordinator",
            details={"role": ["This is the review's only coordinator."]},
        )


def membership_role_check(candidate: Membership) -> None:
    """The check a change of role passes where a form saves the membership itself (the admin)."""
    stored = Membership.objects.filter(pk=candidate.pk).first() if candidate.pk else None
    if stored is not None and stored.role != candidate.role:
        _check_keeps_a_coordinator(stored, candidate.role)


def memberships_left_without_coordinator(review, removed: list[Membership], changed: list[Membership]) -> bool:
    """Whether removing `removed` and saving the new roles of `changed` at once would leave no coordinator."""
    touched = {membership.pk for membership in removed} | {membership.pk for membership in changed}
    untouched = Membership.objects.filter(review=review, role=Role.COORDINATOR).exclude(pk__in=touched)
    return not untouched.exists() and not any(m.role == Role.COORDINATOR for m in changed)


@transaction.atomic
def membership_create(*, review, actor, user, role: str, trials=()) -> Membership:
    if Membership.objects.filter(review=review, user=user).exists():
        raise ApplicationError(
            f"user: {user} is already a member of this review.",
            code="duplicate",
            details={"user": ["Already a member of this review."]},
        )
    trials = list(trials)
    _check_trials(review, trials)
    membership = Membership(review=review, user=user, role=role)
    validate(membership, exclude=["review", "user"])
    membership.save()
    membership.trials.set(trials)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, instance=membership, after=snapshot(membership), review=review
    )
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, actor, role: str | None = None, trials=None) -> Membership:
    before = snapshot(membership)
    if role is not None and role != membership.role:
        _check_keeps_a_coordinator(membership, role)
        membership.role = role
        validate(membership, exclude=["review", "user"])
        membership.save()
    if trials is not None:
        trials = list(trials)
        _check_trials(membership.review, trials)
        membership.trials.set(trials)
    after = snapshot(membership)
    if after != before:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=membership,
            before=before,
            after=after,
            review=membership.review,
        )
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, actor) -> None:
    _check_keeps_a_coordinator(membership, None)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        instance=membership,
        before=snapshot(membership),
        review=membership.review,
    )
    membership.delete()
    # The removed member's API tokens stop working now, not when they expire.
    tokens_revoke_for_user(user=membership.user)
