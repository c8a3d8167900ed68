"""Invitations: how a coordinator adds a member by username or e-mail without learning whether an account
answers to it. Each write is audited in its own transaction; e-mails leave after the commit."""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Invitation, Membership
from apps.accounts.services import _check_trials, membership_create
from apps.core.errors import ApplicationError, NotFound
from apps.core.ids import as_int
from apps.core.models import AuditEvent
from apps.core.services import audit_record, snapshot, validate
from apps.core.text import human_date


def _normalise(invitee: str) -> str:
    return invitee.strip()


def _accounts_named(invitee: str) -> QuerySet:
    """Active accounts whose username or e-mail is `invitee` (case does not matter)."""
    return get_user_model().objects.filter(
        Q(username__iexact=invitee) | (Q(email__iexact=invitee) & ~Q(email="")), is_active=True
    )


def _notify(invitation: Invitation) -> None:
    """One e-mail to each account the invitation names; to the address itself when it is one no account has.
    What the coordinator sees does not depend on which."""
    review = invitation.review
    subject = f"IPD Review: you are invited to join '{review.title}'"
    accounts = list(_accounts_named(invitation.invitee).exclude(email=""))
    if accounts:
        body = (
            f"{invitation.invited_by or 'A coordinator'} invited you to the review '{review.title}' as "
            f"{invitation.get_role_display().lower()}. Log in to IPD Review to accept or decline; the invitation "
            f"expires on {human_date(timezone.localtime(invitation.expires_at))}."
        )
        recipients = sorted({account.email for account in accounts})
    elif "@" in invitation.invitee:
        body = (
            f"You were invited to the review '{review.title}' in IPD Review. No account uses this address yet: "
            "ask the site's administrator for one with this address, then log in to accept."
        )
        recipients = [invitation.invitee]
    else:
        return
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)


@transaction.atomic
def invitation_create(*, review, actor, invitee: str, role: str, trials=()) -> Invitation:
    """The same answer whatever `invitee` names: an account, no account, or an existing member."""
    invitee = _normalise(invitee)
    if not invitee:
        raise ApplicationError("invitee: give a username or an e-mail address.", details={"invitee": ["Required."]})
    trials = list(trials)
    _check_trials(review, trials)
    invitation = Invitation(
        review=review,
        invitee=invitee,
        role=role,
        invited_by=actor,
        expires_at=timezone.now() + datetime.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    validate(invitation, exclude=["review", "invited_by"])
    invitation.save()
    invitation.trials.set(trials)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, instance=invitation, after=snapshot(invitation), review=review
    )
    transaction.on_commit(lambda: _notify(invitation))
    return invitation


def invitations_for_user(user) -> QuerySet[Invitation]:
    """The pending, unexpired invitations naming the user by username or e-mail."""
    if not (user and user.is_authenticated and user.is_active):
        return Invitation.objects.none()
    names = Q(invitee__iexact=user.username)
    if user.email:
        names |= Q(invitee__iexact=user.email)
    return (
        Invitation.objects.filter(names, status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        .select_related("review", "invited_by")
        .prefetch_related("trials")
    )


def invitation_get_for_user(user, invitation_id) -> Invitation:
    invitation = invitations_for_user(user).filter(pk=as_int(invitation_id)).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation


def _answer(invitation: Invitation, *, actor, status: str) -> None:
    before = snapshot(invitation)
    invitation.status = status
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        instance=invitation,
        before=before,
        after=snapshot(invitation),
        review=invitation.review,
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ApplicationError("This invitation was already answered or revoked.", code="not_pending")
    membership = membership_create(
        review=invitation.review, actor=user, user=user, role=invitation.role, trials=invitation.trials.all()
    )
    _answer(invitation, actor=user, status=Invitation.Status.ACCEPTED)
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user) -> None:
    # Read again under a lock, as an acceptance is: a decline that crossed an accept or a revoke changes nothing.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ApplicationError("This invitation was already answered or revoked.", code="not_pending")
    _answer(invitation, actor=user, status=Invitation.Status.DECLINED)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> None:
    # Read again under a lock, as an acceptance is: a revoke that crossed it must not mark it revoked.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ApplicationError("Only a pending invitation can be revoked.", code="not_pending")
    _answer(invitation, actor=actor, status=Invitation.Status.REVOKED)
