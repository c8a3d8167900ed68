"""Writes for trials and their tracking records. Every write is audited in the same transaction."""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.core.services import (
    assign_fields,
    audit_record,
    locked_copy,
    save_and_audit,
    snapshot,
    update_and_audit,
    validate,
)
from apps.core.text import human_date
from apps.trials import lifecycle
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, StatusTransition, Trial
from apps.trials.selectors import followups_to_remind, trial_signed_agreements

logger = logging.getLogger(__name__)

TRIAL_FIELDS = (
    "registry_id",
    "title",
    "citation",
    "doi",
    "year",
    "sponsor_type",
    "n_randomised",
    "arms",
    "result_measure",
    "result_estimate",
    "result_ci_low",
    "result_ci_high",
    "result_n_intervention",
    "result_n_control",
    "identified_via",
    "is_duplicate",
    "screening_decision",
    "exclusion_reason",
    "ipd_sought",
    "ipd_not_sought_reason",
    "ipd_provided",
    "ipd_not_provided_reason",
    "ipd_not_provided_note",
    "n_provided",
    "n_not_provided",
    "n_not_provided_reason",
    "aggregate_available",
)
CONTACT_FIELDS = ("name", "role", "email", "institution", "note")
ATTEMPT_FIELDS = ("contact", "date", "channel", "outcome", "next_follow_up", "owner", "note")
AGREEMENT_FIELDS = (
    "title",
    "platform",
    "status",
    "signed_on",
    "expires_on",
    "document",
    "conditions",
    "data_may_leave_platform",
)
APPROVAL_FIELDS = ("side", "body", "reference", "approved_on", "expires_on", "note")


def _invalid(field: str, message: str, *, code: str = "invalid") -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code=code, details={field: [message]})


def _audit_create(*, actor, instance, trial: Trial) -> None:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=instance,
        after=snapshot(instance),
        review=trial.review,
        trial=trial,
    )


def _create(*, instance, actor, data: dict, allowed, trial: Trial, check=None):
    """Set the allowed fields of a new tracking record, validate it (`check` adds the service's own rules),
    save it and audit its creation."""
    assign_fields(instance=instance, data=data, allowed=allowed)
    validate(instance)
    if check is not None:
        check(instance)
    instance.save()
    _audit_create(actor=actor, instance=instance, trial=trial)
    return instance


def _save_update(*, instance, actor, data: dict, allowed, trial: Trial, check=None, also_set: dict | None = None):
    return update_and_audit(
        instance=instance,
        actor=actor,
        data=data,
        allowed=allowed,
        review=trial.review,
        trial=trial,
        check=check,
        also_set=also_set,
    )


def _delete(*, instance, actor, trial: Trial) -> None:
    # The audit event records the stored values, which may have changed since the caller loaded `instance`.
    instance = locked_copy(instance)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        instance=instance,
        before=snapshot(instance),
        review=trial.review,
        trial=trial,
    )
    instance.delete()


# Trials ---------------------------------------------------------------------------------------------------


def _check_trial(trial: Trial) -> None:
    if trial.result_ci_low is not None and trial.result_ci_high is not None:
        if trial.result_ci_low > trial.result_ci_high:
            raise _invalid("result_ci_low", "The lower confidence limit is above the upper one.")
    if trial.ipd_provided is False and not trial.ipd_not_provided_reason:
        raise _invalid("ipd_not_provided_reason", "Give the reason the IPD were not provided.")


@transaction.atomic
def trial_create(*, review, actor, **data) -> Trial:
    if "status" in data:
        raise _invalid("status", "A new trial starts as identified; move it with a transition.")
    trial = Trial(review=review)
    assign_fields(instance=trial, data=data, allowed=TRIAL_FIELDS)
    validate(trial)
    _check_trial(trial)
    trial.save()
    _audit_create(actor=actor, instance=trial, trial=trial)
    return trial


@transaction.atomic
def trial_update(*, trial: Trial, actor, data: dict) -> Trial:
    for name in ("status", "exit_reason", "exit_note"):
        if name in data:
            raise _invalid(name, "The status changes only through a transition (POST /api/v1/trials/{id}/transition/).")
    return _save_update(instance=trial, actor=actor, data=data, allowed=TRIAL_FIELDS, trial=trial, check=_check_trial)


@transaction.atomic
def trial_delete(*, trial: Trial, actor) -> None:
    """Delete a trial; its tracking records go with it, each with its own audit event. A trial with uploaded
    data is refused (a delete gate the datasets app registers): the versions are kept for good, and so is the
    trial they belong to."""
    trial = Trial.objects.select_for_update().get(pk=trial.pk)
    lifecycle.check_delete_gates(trial)
    for records in (trial.contact_attempts, trial.contacts, trial.agreements, trial.approvals):
        for record in records.all():
            _delete(instance=record, actor=actor, trial=trial)
    _delete(instance=trial, actor=actor, trial=trial)


def _check_transition(trial: Trial, to_status: str, reason: str) -> None:
    allowed = lifecycle.allowed_next(trial.status)
    if to_status not in lifecycle.Status.values:
        raise ApplicationError(
            f"to_status: '{to_status}' is not a status. Allowed next states from "
            f"{lifecycle.label(trial.status)}: {lifecycle.describe(allowed)}.",
            code="unknown_status",
            details={"to_status": [f"Unknown status '{to_status}'."], "allowed": list(allowed)},
        )
    if to_status not in allowed:
        raise ApplicationError(
            f"to_status: cannot move from {lifecycle.label(trial.status)} to {lifecycle.label(to_status)}. "
            f"Allowed next states: {lifecycle.describe(allowed)}.",
            code="transition_not_allowed",
            details={"to_status": [f"Not allowed from {trial.status}."], "allowed": list(allowed)},
        )
    reasons = lifecycle.exit_reasons(to_status)
    if reasons and reason not in reasons:
        raise ApplicationError(
            f"reason: moving to {lifecycle.label(to_status)} needs a reason code, one of: {', '.join(reasons)}.",
            code="reason_required",
            details={"reason": [f"Use one of: {', '.join(reasons)}."], "allowed_reasons": list(reasons)},
        )
    if reason and not reasons:
        raise _invalid("reason", f"A reason code applies only to exits; {lifecycle.label(to_status)} is not one.")


def _forget_exit_facts(trial: Trial, from_status: str) -> None:
    """A reopened exit (a late reply, a re-screen) no longer stands: drop the facts it recorded."""
    if from_status == Status.NOT_ELIGIBLE:
        trial.exclusion_reason = ""
    elif from_status in _NOT_PROVIDED_BY_EXIT:
        trial.ipd_provided = None
        trial.ipd_not_provided_reason = ""
        trial.ipd_not_provided_note = ""


def _record_prisma_facts(trial: Trial, to_status: str, reason: str) -> None:
    """Keep the PRISMA-IPD fields in step with the status, so the flow diagram never needs typing in."""
    if to_status == Status.ELIGIBLE:
        trial.screening_decision = Trial.ScreeningDecision.INCLUDED
    elif to_status == Status.NOT_ELIGIBLE:
        trial.screening_decision = Trial.ScreeningDecision.EXCLUDED
        trial.exclusion_reason = trial.exclusion_reason or lifecycle.ExitReason(reason).label
    elif to_status == Status.IPD_SOUGHT:
        trial.ipd_sought = True
    elif to_status == Status.DATA_RECEIVED:
        trial.ipd_provided = True
        trial.ipd_not_provided_reason = ""
    elif to_status in (Status.NO_RESPONSE, Status.DECLINED, Status.DATA_NOT_AVAILABLE):
        trial.ipd_provided = False
        trial.ipd_not_provided_reason = _NOT_PROVIDED_REASON.get(reason, _NOT_PROVIDED_BY_EXIT[to_status])


_NOT_PROVIDED_BY_EXIT = {
    Status.NO_RESPONSE: Trial.IpdNotProvidedReason.NO_RESPONSE,
    Status.DECLINED: Trial.IpdNotProvidedReason.DECLINED,
    Status.DATA_NOT_AVAILABLE: Trial.IpdNotProvidedReason.DATA_LOST,
}
_NOT_PROVIDED_REASON = {
    lifecycle.ExitReason.LEGAL_OR_ETHICAL: Trial.IpdNotProvidedReason.LEGAL_OR_ETHICAL,
    lifecycle.ExitReason.NO_RESOURCES: Trial.IpdNotProvidedReason.NO_RESOURCES,
    lifecycle.ExitReason.OTHER: Trial.IpdNotProvidedReason.OTHER,
}


def _check_evidence(trial: Trial, to_status: str) -> None:
    """Agreement signed is a fact with a record behind it, not a click: the signed agreement. The apps downstream
    gate their own moves (data received, data checked) through lifecycle.register_transition_gate."""
    if to_status == Status.AGREEMENT_SIGNED and not trial_signed_agreements(trial).exists():
        message = "the trial has no signed data-sharing agreement. Record the agreement as signed, with its date"
        raise ApplicationError(
            f"to_status: cannot mark the agreement signed: {message}, then move the trial.",
            code="agreement_not_signed",
            status=409,
            details={"to_status": [f"No signed agreement: {message}."]},
        )


@transaction.atomic
def trial_transition(*, trial: Trial, to_status: str, actor, reason: str = "", note: str = "") -> StatusTransition:
    """Move a trial along its lifecycle; refuse moves lifecycle.ALLOWED does not list."""
    trial = Trial.objects.select_for_update().select_related("review").get(pk=trial.pk)
    _check_transition(trial, to_status, reason)
    _check_evidence(trial, to_status)
    lifecycle.check_transition_gates(trial, to_status)
    before = snapshot(trial)
    from_status = trial.status
    trial.status = to_status
    trial.exit_reason = reason if lifecycle.is_exit(to_status) else ""
    trial.exit_note = note if lifecycle.is_exit(to_status) else ""
    trial.status_changed_at = timezone.now()
    if lifecycle.is_exit(from_status) and not lifecycle.is_exit(to_status):
        _forget_exit_facts(trial, from_status)
    _record_prisma_facts(trial, to_status, reason)
    trial.save()
    transition = StatusTransition.objects.create(
        trial=trial, from_status=from_status, to_status=to_status, reason=reason, note=note, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        instance=trial,
        before=before,
        after=snapshot(trial),
        review=trial.review,
        trial=trial,
    )
    return transition


# Contacts and contact attempts ----------------------------------------------------------------------------


@transaction.atomic
def contact_create(*, trial: Trial, actor, **data) -> Contact:
    return _create(instance=Contact(trial=trial), actor=actor, data=data, allowed=CONTACT_FIELDS, trial=trial)


@transaction.atomic
def contact_update(*, contact: Contact, actor, data: dict) -> Contact:
    return _save_update(instance=contact, actor=actor, data=data, allowed=CONTACT_FIELDS, trial=contact.trial)


@transaction.atomic
def contact_delete(*, contact: Contact, actor) -> None:
    _delete(instance=contact, actor=actor, trial=contact.trial)


def _check_attempt(attempt: ContactAttempt) -> None:
    if attempt.contact_id and attempt.contact.trial_id != attempt.trial_id:
        raise _invalid("contact", "This contact belongs to another trial.")
    if (
        attempt.owner_id
        and attempt.trial_id
        and not Membership.objects.filter(review_id=attempt.trial.review_id, user_id=attempt.owner_id).exists()
    ):
        raise _invalid("owner", "The owner must be a member of this review.")
    if attempt.next_follow_up and attempt.next_follow_up < attempt.date:
        raise _invalid("next_follow_up", "The follow-up date is before the date of the attempt.")


@transaction.atomic
def contact_attempt_create(
    *,
    trial: Trial,
    actor,
    date: datetime.date,
    channel: str = ContactAttempt.Channel.EMAIL,
    outcome: str = ContactAttempt.Outcome.NO_REPLY,
    next_follow_up: datetime.date | None = None,
    owner=None,
    contact: Contact | None = None,
    note: str = "",
) -> ContactAttempt:
    if next_follow_up and owner is None and getattr(actor, "is_authenticated", False):
        # A follow-up nobody owns would never be reminded; it falls to whoever logged it.
        owner = actor
    attempt = ContactAttempt(
        trial=trial,
        date=date,
        channel=channel,
        outcome=outcome,
        next_follow_up=next_follow_up,
        owner=owner,
        contact=contact,
        note=note,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    validate(attempt)
    _check_attempt(attempt)
    attempt.save()
    _audit_create(actor=actor, instance=attempt, trial=trial)
    return attempt


@transaction.atomic
def contact_attempt_update(*, attempt: ContactAttempt, actor, data: dict) -> ContactAttempt:
    stored = locked_copy(attempt)
    # A new follow-up date deserves a new reminder.
    new_date = "next_follow_up" in data and data["next_follow_up"] != stored.next_follow_up
    follow_up, owner = data.get("next_follow_up", stored.next_follow_up), data.get("owner", stored.owner)
    if follow_up and owner is None and getattr(actor, "is_authenticated", False):
        # As when an attempt is logged: a follow-up nobody owns would never be reminded.
        data = {**data, "owner": actor}
    return _save_update(
        instance=stored,
        actor=actor,
        data=data,
        allowed=ATTEMPT_FIELDS,
        trial=stored.trial,
        check=_check_attempt,
        also_set={"notified_at": None} if new_date else None,
    )


@transaction.atomic
def contact_attempt_delete(*, attempt: ContactAttempt, actor) -> None:
    _delete(instance=attempt, actor=actor, trial=attempt.trial)


# Agreements and ethics approvals --------------------------------------------------------------------------


def _check_dates(start_field: str, start, end) -> None:
    if start and end and end < start:
        raise _invalid("expires_on", f"The expiry date is before {start_field}.")


def _check_agreement(agreement: Agreement) -> None:
    if agreement.status == Agreement.Status.SIGNED and not agreement.signed_on:
        raise _invalid("signed_on", "A signed agreement needs the date it was signed.")
    _check_dates("signed_on", agreement.signed_on, agreement.expires_on)


def _check_approval(approval: EthicsApproval) -> None:
    _check_dates("approved_on", approval.approved_on, approval.expires_on)


@transaction.atomic
def agreement_create(*, trial: Trial, actor, **data) -> Agreement:
    return _create(
        instance=Agreement(trial=trial),
        actor=actor,
        data=data,
        allowed=AGREEMENT_FIELDS,
        trial=trial,
        check=_check_agreement,
    )


@transaction.atomic
def agreement_update(*, agreement: Agreement, actor, data: dict) -> Agreement:
    """`document` None removes the document from the agreement: the file stays stored and the audit event names
    it, so a wrong file taken off the record is not lost."""
    if "document" in data and not data["document"]:
        data = {**data, "document": ""}
    return _save_update(
        instance=agreement,
        actor=actor,
        data=data,
        allowed=AGREEMENT_FIELDS,
        trial=agreement.trial,
        check=_check_agreement,
    )


@transaction.atomic
def agreement_delete(*, agreement: Agreement, actor) -> None:
    _delete(instance=agreement, actor=actor, trial=agreement.trial)


@transaction.atomic
def approval_create(*, trial: Trial, actor, **data) -> EthicsApproval:
    return _create(
        instance=EthicsApproval(trial=trial),
        actor=actor,
        data=data,
        allowed=APPROVAL_FIELDS,
        trial=trial,
        check=_check_approval,
    )


@transaction.atomic
def approval_update(*, approval: EthicsApproval, actor, data: dict) -> EthicsApproval:
    return _save_update(
        instance=approval, actor=actor, data=data, allowed=APPROVAL_FIELDS, trial=approval.trial, check=_check_approval
    )


@transaction.atomic
def approval_delete(*, approval: EthicsApproval, actor) -> None:
    _delete(instance=approval, actor=actor, trial=approval.trial)


def record_check(instance) -> None:
    """The services' own checks of a trial or tracking record, for writes that do not go through the
    services (the admin's forms); raises the same ApplicationError the service would."""
    checks = {
        Trial: _check_trial,
        ContactAttempt: _check_attempt,
        Agreement: _check_agreement,
        EthicsApproval: _check_approval,
    }
    check = checks.get(type(instance))
    if check:
        check(instance)


# Scheduled work -------------------------------------------------------------------------------------------


def _reminder_text(owner, attempts) -> str:
    lines = [f"Hello {owner.get_full_name() or owner.username},", "", "These follow-ups are due:", ""]
    for attempt in attempts:
        contact = f" with {attempt.contact.name}" if attempt.contact else ""
        lines.append(
            f"- {attempt.trial} ({attempt.trial.review}): follow up{contact}, due {human_date(attempt.next_follow_up)}"
        )
    lines += ["", "Log the next contact attempt on the trial's page once done.", "", "IPD Review"]
    return "\n".join(lines)


def followups_notify_due(today: datetime.date | None = None) -> int:
    """E-mail each owner their follow-ups due by `today`, once; returns the number of e-mails sent. Owners
    who left the review or whose account is inactive get nothing: their follow-ups stay on the dashboard.

    Each owner is handled in a transaction that locks their attempts, so two runs never send the same
    reminder twice; a failed e-mail leaves the attempts unmarked for the next run.
    """
    today = today or timezone.localdate()
    owner_ids = set(
        followups_to_remind(today=today)
        .filter(notified_at__isnull=True)
        .exclude(owner__email="")
        .values_list("owner_id", flat=True)
    )
    sent = 0
    for owner_id in sorted(owner_ids):
        sent += _notify_owner(owner_id=owner_id, today=today)
    return sent


@transaction.atomic
def _notify_owner(*, owner_id: int, today: datetime.date) -> int:
    due_ids = followups_to_remind(today=today).filter(owner_id=owner_id, notified_at__isnull=True).values("pk")
    attempts = list(
        ContactAttempt.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=due_ids)
        .select_related("trial__review", "contact", "owner")
        .order_by("next_follow_up", "pk")
    )
    if not attempts:
        return 0
    owner = attempts[0].owner
    send_mail(
        subject=f"IPD Review: {len(attempts)} follow-up(s) due",
        message=_reminder_text(owner, attempts),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[owner.email],
    )
    now = timezone.now()
    for attempt in attempts:
        before = snapshot(attempt)
        attempt.notified_at = now
        save_and_audit(
            attempt,
            actor=None,
            before=before,
            review=attempt.trial.review,
            trial=attempt.trial,
            fields=["notified_at", "updated_at"],
        )
    logger.info("Sent a reminder of %d follow-up(s) to user %s", len(attempts), owner_id)
    return 1


@transaction.atomic
def agreements_mark_expired(today: datetime.date | None = None) -> int:
    """Mark signed agreements whose expiry date has passed as expired; returns how many changed."""
    today = today or timezone.localdate()
    agreements = list(
        Agreement.objects.select_for_update(of=("self",))
        .filter(status=Agreement.Status.SIGNED, expires_on__lt=today)
        .select_related("trial__review")
    )
    for agreement in agreements:
        before = snapshot(agreement)
        agreement.status = Agreement.Status.EXPIRED
        save_and_audit(
            agreement,
            actor=None,
            before=before,
            review=agreement.trial.review,
            trial=agreement.trial,
            fields=["status", "updated_at"],
        )
    return len(agreements)
