"""The IPD status lifecycle of a trial: statuses, labels, exits with their reason codes, and allowed moves.

This module is the one place that says which transitions are allowed; services, forms and the API read it.
"""

from django.db import models


class Status(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    ELIGIBLE = "eligible", "Eligible"
    IPD_SOUGHT = "ipd_sought", "IPD sought"
    CONTACTED = "contacted", "Contacted"
    RESPONDED = "responded", "Responded"
    AGREEMENT_IN_PROGRESS = "agreement_in_progress", "Agreement in progress"
    AGREEMENT_SIGNED = "agreement_signed", "Agreement signed"
    DATA_RECEIVED = "data_received", "Data received"
    DATA_CHECKED = "data_checked", "Data checked"
    INCLUDED = "included", "Included"
    # Exits: a trial leaves the path here, with a reason code and free text.
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    NO_RESPONSE = "no_response", "No response"
    DECLINED = "declined", "Declined"
    DATA_NOT_AVAILABLE = "data_not_available", "Data not available"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ExitReason(models.TextChoices):
    NOT_RANDOMISED = "not_randomised", "Not a randomised trial"
    WRONG_POPULATION = "wrong_population", "Population outside the review question"
    WRONG_INTERVENTION = "wrong_intervention", "Intervention or comparator outside the review question"
    DUPLICATE_REPORT = "duplicate_report", "Duplicate report of another trial"
    NO_REPLY = "no_reply", "No reply after reminders"
    CONTACT_NOT_FOUND = "contact_not_found", "No working contact found"
    INVESTIGATORS_DECLINED = "investigators_declined", "Investigators declined"
    SPONSOR_DECLINED = "sponsor_declined", "Sponsor declined"
    LEGAL_OR_ETHICAL = "legal_or_ethical", "Legal or ethical restrictions"
    DATA_LOST = "data_lost", "Data lost or destroyed"
    NO_RESOURCES = "no_resources", "No resources to prepare the data"
    PLATFORM_ONLY = "platform_only", "Analysis only on the provider's platform, not possible"
    WITHDRAWN_BY_INVESTIGATORS = "withdrawn_by_investigators", "Withdrawn by the investigators"
    WITHDRAWN_BY_REVIEW = "withdrawn_by_review", "Withdrawn by the review team"
    OTHER = "other", "Other (see note)"


MAIN_PATH = (
    Status.IDENTIFIED,
    Status.ELIGIBLE,
    Status.IPD_SOUGHT,
    Status.CONTACTED,
    Status.RESPONDED,
    Status.AGREEMENT_IN_PROGRESS,
    Status.AGREEMENT_SIGNED,
    Status.DATA_RECEIVED,
    Status.DATA_CHECKED,
    Status.INCLUDED,
)

EXIT_REASONS: dict[str, tuple[str, ...]] = {
    Status.NOT_ELIGIBLE: (
        ExitReason.NOT_RANDOMISED,
        ExitReason.WRONG_POPULATION,
        ExitReason.WRONG_INTERVENTION,
        ExitReason.DUPLICATE_REPORT,
        ExitReason.OTHER,
    ),
    Status.NO_RESPONSE: (ExitReason.NO_REPLY, ExitReason.CONTACT_NOT_FOUND, ExitReason.OTHER),
    Status.DECLINED: (
        ExitReason.INVESTIGATORS_DECLINED,
        ExitReason.SPONSOR_DECLINED,
        ExitReason.LEGAL_OR_ETHICAL,
        ExitReason.NO_RESOURCES,
        ExitReason.PLATFORM_ONLY,
        ExitReason.OTHER,
    ),
    Status.DATA_NOT_AVAILABLE: (ExitReason.DATA_LOST, ExitReason.LEGAL_OR_ETHICAL, ExitReason.OTHER),
    Status.WITHDRAWN: (ExitReason.WITHDRAWN_BY_INVESTIGATORS, ExitReason.WITHDRAWN_BY_REVIEW, ExitReason.OTHER),
}
EXITS = tuple(EXIT_REASONS)

_AFTER_CONTACT_EXITS = (Status.DECLINED, Status.DATA_NOT_AVAILABLE, Status.WITHDRAWN)

ALLOWED: dict[str, tuple[str, ...]] = {
    Status.IDENTIFIED: (Status.ELIGIBLE, Status.NOT_ELIGIBLE),
    Status.ELIGIBLE: (Status.IPD_SOUGHT, Status.NOT_ELIGIBLE, Status.WITHDRAWN),
    Status.IPD_SOUGHT: (Status.CONTACTED, Status.NO_RESPONSE, Status.WITHDRAWN),
    Status.CONTACTED: (Status.RESPONDED, Status.NO_RESPONSE, *_AFTER_CONTACT_EXITS),
    Status.RESPONDED: (Status.AGREEMENT_IN_PROGRESS, *_AFTER_CONTACT_EXITS),
    Status.AGREEMENT_IN_PROGRESS: (Status.AGREEMENT_SIGNED, *_AFTER_CONTACT_EXITS),
    Status.AGREEMENT_SIGNED: (Status.DATA_RECEIVED, Status.DATA_NOT_AVAILABLE, Status.WITHDRAWN),
    Status.DATA_RECEIVED: (Status.DATA_CHECKED, Status.WITHDRAWN),
    Status.DATA_CHECKED: (Status.INCLUDED, Status.DATA_RECEIVED, Status.WITHDRAWN),
    Status.INCLUDED: (Status.WITHDRAWN,),
    # Exits that can be reopened: a late reply, or a re-screen after the protocol changed.
    Status.NOT_ELIGIBLE: (Status.ELIGIBLE,),
    Status.NO_RESPONSE: (Status.CONTACTED, Status.RESPONDED),
    Status.DECLINED: (Status.RESPONDED,),
    Status.DATA_NOT_AVAILABLE: (),
    Status.WITHDRAWN: (),
}


def label(status: str) -> str:
    return Status(status).label


def is_exit(status: str) -> bool:
    return status in EXIT_REASONS


def allowed_next(status: str) -> tuple[str, ...]:
    return ALLOWED.get(status, ())


def is_allowed(from_status: str, to_status: str) -> bool:
    return to_status in allowed_next(from_status)


def exit_reasons(status: str) -> tuple[str, ...]:
    return EXIT_REASONS.get(status, ())


def describe(statuses) -> str:
    """'Eligible (eligible), Not eligible (not_eligible)': labels for people, codes for API clients."""
    return ", ".join(f"{label(s)} ({s})" for s in statuses) or "none (this status is final)"


# Gates: checks that apps downstream of the trials register at start-up (in their AppConfig.ready()), so that a
# move can wait on their records (uploaded data, resolved findings) without the trials app importing them.
# A gate takes the trial and raises an ApplicationError saying what is missing; it returns nothing.
TRANSITION_GATES: dict[str, list] = {}
DELETE_GATES: list = []


def register_transition_gate(to_status: str, gate) -> None:
    """Run gate(trial) before a move to to_status; registering the same gate twice runs it once."""
    gates = TRANSITION_GATES.setdefault(to_status, [])
    if gate not in gates:
        gates.append(gate)


def register_delete_gate(gate) -> None:
    """Run gate(trial) before a trial is deleted; registering the same gate twice runs it once."""
    if gate not in DELETE_GATES:
        DELETE_GATES.append(gate)


def check_transition_gates(trial, to_status: str) -> None:
    for gate in TRANSITION_GATES.get(to_status, ()):
        gate(trial)


def check_delete_gates(trial) -> None:
    for gate in DELETE_GATES:
        gate(trial)
