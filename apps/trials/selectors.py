"""Reads for the dashboard, the API and the admin."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone

from apps.accounts.access import role_for
from apps.accounts.models import Membership, Role
from apps.core.models import AuditEvent
from apps.core.text import human_date
from apps.trials import activity, lifecycle, next_steps
from apps.trials.access import trials_for_user
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, ContactAttempt, EthicsApproval, StatusTransition, Trial

# Replies after contact, whether yes or no, count as responses.
_RESPONSE_STATUSES = (Status.RESPONDED, Status.DECLINED, Status.DATA_NOT_AVAILABLE)


def _review_trials(review, user=None) -> QuerySet[Trial]:
    """The review's trials; with `user`, only those that user may see."""
    return trials_for_user(user, review) if user is not None else Trial.objects.filter(review=review)


def review_pipeline(review, user=None) -> list[dict]:
    """Trials and participants per status, in lifecycle order, main path first then exits."""
    rows = (
        _review_trials(review, user)
        .order_by()
        .values("status")
        .annotate(trials=Count("id"), participants=Sum("n_randomised"))
    )
    by_status = {row["status"]: row for row in rows}
    pipeline = []
    for status in (*lifecycle.MAIN_PATH, *lifecycle.EXITS):
        row = by_status.get(status, {})
        pipeline.append(
            {
                "status": str(status),
                "label": lifecycle.label(status),
                "is_exit": lifecycle.is_exit(status),
                "trials": row.get("trials", 0),
                "participants": row.get("participants") or 0,
            }
        )
    return pipeline


def review_response_rate(review, user=None) -> dict:
    """Of the trials ever contacted, the share that replied (agreeing or not)."""
    contacted = StatusTransition.objects.filter(trial__in=_review_trials(review, user), to_status=Status.CONTACTED)
    contacted_ids = set(contacted.values_list("trial_id", flat=True))
    responded_ids = set(
        StatusTransition.objects.filter(trial_id__in=contacted_ids, to_status__in=_RESPONSE_STATUSES).values_list(
            "trial_id", flat=True
        )
    )
    rate = len(responded_ids) / len(contacted_ids) if contacted_ids else None
    return {"contacted": len(contacted_ids), "responded": len(responded_ids), "rate": rate}


def followups_due_all(today: datetime.date | None = None) -> QuerySet[ContactAttempt]:
    """Attempts whose follow-up date has come, not superseded by a later attempt, on trials still in play."""
    today = today or timezone.localdate()
    later_attempt = ContactAttempt.objects.filter(trial_id=OuterRef("trial_id")).filter(
        Q(date__gt=OuterRef("date")) | Q(date=OuterRef("date"), pk__gt=OuterRef("pk"))
    )
    return (
        ContactAttempt.objects.filter(next_follow_up__lte=today)
        .exclude(trial__status__in=[*lifecycle.EXITS, Status.INCLUDED])
        .exclude(Exists(later_attempt))
        .select_related("trial__review", "contact", "owner")
        .order_by("next_follow_up", "pk")
    )


def followups_to_remind(today: datetime.date | None = None) -> QuerySet[ContactAttempt]:
    """Due follow-ups whose owner can still act on them: an active account, still a member of the review."""
    still_member = Membership.objects.filter(review_id=OuterRef("trial__review_id"), user_id=OuterRef("owner_id"))
    return followups_due_all(today=today).filter(owner__is_active=True).filter(Exists(still_member))


def followups_due(review, user=None, today: datetime.date | None = None) -> QuerySet[ContactAttempt]:
    """Due follow-ups in a review; with `user`, only the ones on trials that user may see."""
    attempts = followups_due_all(today=today).filter(trial__review=review)
    if user is not None:
        attempts = attempts.filter(trial__in=trials_for_user(user, review))
    return attempts


@dataclass
class Expiring:
    agreements: list = field(default_factory=list)
    approvals: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.agreements) + len(self.approvals)


def expiring_soon(review, days: int | None = None, today: datetime.date | None = None, user=None) -> Expiring:
    """Signed agreements and approvals whose expiry date falls within the next `days` days (by default
    IPD_EXPIRY_WARNING_DAYS)."""
    days = settings.IPD_EXPIRY_WARNING_DAYS if days is None else days
    today = today or timezone.localdate()
    window = {"expires_on__gte": today, "expires_on__lte": today + datetime.timedelta(days=days)}
    agreements = Agreement.objects.filter(trial__review=review, status=Agreement.Status.SIGNED, **window)
    approvals = EthicsApproval.objects.filter(trial__review=review, **window)
    if user is not None:
        visible = trials_for_user(user, review)
        agreements = agreements.filter(trial__in=visible)
        approvals = approvals.filter(trial__in=visible)
    return Expiring(
        agreements=list(agreements.select_related("trial").order_by("expires_on")),
        approvals=list(approvals.select_related("trial").order_by("expires_on")),
    )


def recent_activity(review, limit: int = 20, user=None) -> list[activity.Activity]:
    """Status moves, uploads, queries opened and resolved, analyses run: newest first, as `user` may see them
    (contributors: their trials' events only)."""
    review_wide = user is None or role_for(user, review) != Role.CONTRIBUTOR
    return activity.recent(review, _review_trials(review, user), review_wide=review_wide, limit=limit)


def audit_events_visible(events: QuerySet[AuditEvent], *, user, review) -> QuerySet[AuditEvent]:
    """Contributors see only the events of their trials; everyone else in the review sees them all."""
    if role_for(user, review) == Role.CONTRIBUTOR:
        return events.filter(trial__in=trials_for_user(user, review))
    return events


def review_history(review, user) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(review=review).select_related("actor", "trial")
    return audit_events_visible(events, user=user, review=review)


def trial_history(trial) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(trial=trial).select_related("actor", "trial")


@dataclass
class TimelineEntry:
    kind: str  # transition, attempt, agreement, audit
    when: datetime.datetime
    title: str
    detail: str
    actor: object
    obj: object


def _at_noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def trial_timeline(trial) -> list[TimelineEntry]:
    """Transitions, contact attempts, signed agreements and other changes to the trial, newest first."""
    entries = []
    for transition in trial.transitions.select_related("actor"):
        reason = f" ({transition.get_reason_display()})" if transition.reason else ""
        entries.append(
            TimelineEntry(
                kind="transition",
                when=transition.created_at,
                title=f"{lifecycle.label(transition.from_status)} → {lifecycle.label(transition.to_status)}{reason}",
                detail=transition.note,
                actor=transition.actor,
                obj=transition,
            )
        )
    for attempt in trial.contact_attempts.select_related("contact", "owner", "created_by"):
        contact = f" with {attempt.contact.name}" if attempt.contact else ""
        follow_up = f" Follow up on {human_date(attempt.next_follow_up)}." if attempt.next_follow_up else ""
        entries.append(
            TimelineEntry(
                kind="attempt",
                when=_at_noon(attempt.date),
                title=f"{attempt.get_channel_display()}{contact}: {attempt.get_outcome_display()}",
                detail=f"{attempt.note}{follow_up}".strip(),
                actor=attempt.created_by,
                obj=attempt,
            )
        )
    for agreement in trial.agreements.filter(signed_on__isnull=False):
        expiry = f" Expires {human_date(agreement.expires_on)}." if agreement.expires_on else ""
        entries.append(
            TimelineEntry(
                kind="agreement",
                when=_at_noon(agreement.signed_on),
                title=f"{agreement.title} signed",
                detail=f"{agreement.conditions}{expiry}".strip(),
                actor=None,
                obj=agreement,
            )
        )
    # Transitions and new attempts are shown above; the audit trail adds every other change.
    other_changes = (
        trial_history(trial)
        .exclude(action=AuditEvent.Action.TRANSITION)
        .exclude(action=AuditEvent.Action.CREATE, object_type="contactattempt")
    )
    for event in other_changes:
        changed = ", ".join(event.changed_fields)
        entries.append(
            TimelineEntry(
                kind="audit",
                when=event.created_at,
                title=f"{event.get_action_display()} {event.object_type}: {event.object_repr}",
                detail=f"Fields: {changed}" if changed and event.action == AuditEvent.Action.UPDATE else "",
                actor=event.actor,
                obj=event,
            )
        )
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


def trial_signed_agreements(trial: Trial) -> QuerySet[Agreement]:
    return trial.agreements.filter(status=Agreement.Status.SIGNED, signed_on__isnull=False)


def agreement_with_document(trial: Trial, agreement_id) -> Agreement | None:
    """The trial's agreement with this id, if it has a document; the caller has checked access to the trial."""
    return trial.agreements.exclude(document="").filter(pk=agreement_id).first()


# The trial list's ?sort= keys (a leading "-" reverses) and the expressions they order by.
TRIAL_SORTS = {
    "trial": ("title",),
    "registry": ("registry_id",),
    "year": ("year",),
    "sponsor": ("sponsor_type",),
    "participants": ("n_randomised",),
    "status": ("status_position",),
    "last_contact": ("last_contact",),
    "follow_up": ("next_follow_up",),
}
DEFAULT_TRIAL_SORT = "trial"


def trial_sort_is_known(sort: str) -> bool:
    return sort.removeprefix("-") in TRIAL_SORTS


def _trial_order(sort: str) -> list:
    """The order for a known ?sort= value: empty values last either way, then by id so pages never overlap."""
    descending = sort.startswith("-")
    order = []
    for name in TRIAL_SORTS[sort.removeprefix("-")]:
        expression = F(name)
        order.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    return [*order, F("id").desc() if descending else F("id").asc()]


def trial_list(
    user, review, *, status=None, search=None, sponsor_type=None, trial_ids=None, sort=DEFAULT_TRIAL_SORT
) -> QuerySet[Trial]:
    """The trials `user` may see, filtered, with their last contact and pending follow-up, in the `sort` order
    (a known key of TRIAL_SORTS; the view checks it)."""
    trials = trials_for_user(user, review)
    if trial_ids is not None:
        trials = trials.filter(pk__in=trial_ids)
    if status:
        trials = trials.filter(status=status)
    if sponsor_type:
        trials = trials.filter(sponsor_type=sponsor_type)
    if search:
        trials = trials.filter(
            Q(title__icontains=search)
            | Q(registry_id__icontains=search)
            | Q(citation__icontains=search)
            | Q(doi__icontains=search)
        )
    latest_attempt = ContactAttempt.objects.filter(trial_id=OuterRef("pk")).order_by("-date", "-pk")
    position = Case(
        *[
            When(status=value, then=Value(index))
            for index, value in enumerate((*lifecycle.MAIN_PATH, *lifecycle.EXITS))
        ],
        output_field=IntegerField(),
    )
    trials = trials.annotate(
        last_contact=Subquery(latest_attempt.values("date")[:1]),
        next_follow_up=Subquery(latest_attempt.values("next_follow_up")[:1]),
        status_position=position,
    )
    return trials.order_by(*_trial_order(sort))


# The contributor's home warns of an agreement that ends within this many days (the team's overview uses the
# review-wide IPD_EXPIRY_WARNING_DAYS; a trial's team needs a nearer warning of its own agreement).
CONTRIBUTOR_EXPIRY_WARNING_DAYS = 30


@dataclass
class AgreementState:
    agreement: Agreement | None
    days_left: int | None = None  # until it expires; negative once it has

    @property
    def expired(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def days_ago(self) -> int | None:
        return -self.days_left if self.expired else None

    @property
    def expiring(self) -> bool:
        return self.days_left is not None and 0 <= self.days_left <= CONTRIBUTOR_EXPIRY_WARNING_DAYS


@dataclass
class ContributorTrial:
    trial: Trial
    agreement: AgreementState
    steps: list


def _current_agreement(trial: Trial, today: datetime.date) -> AgreementState:
    """The agreement that governs the data: the latest signed (or since expired), else the latest in progress."""
    agreements = list(trial.agreements.all())  # prefetched, newest first
    settled = [a for a in agreements if a.status in (Agreement.Status.SIGNED, Agreement.Status.EXPIRED)]
    agreement = (settled or agreements or [None])[0]
    if agreement is None or agreement.expires_on is None:
        return AgreementState(agreement)
    return AgreementState(agreement, days_left=(agreement.expires_on - today).days)


def contributor_home(review, user, today: datetime.date | None = None) -> list[ContributorTrial]:
    """The trials assigned to a contributor, each with its agreement and what the trial's team should do next."""
    today = today or timezone.localdate()
    newest_first = Agreement.objects.order_by("-signed_on", "-created_at", "-id")
    trials = list(
        trials_for_user(user, review)
        .prefetch_related(Prefetch("agreements", queryset=newest_first))
        .order_by("title", "id")
    )
    steps = next_steps.steps_for(trials)
    return [
        ContributorTrial(
            trial=trial,
            agreement=_current_agreement(trial, today),
            steps=steps.get(trial.pk) or [_tracking_step(trial)],
        )
        for trial in trials
    ]


def _tracking_step(trial: Trial) -> next_steps.Step:
    """Where the trial stands when the data apps have nothing to ask: the tracking's own next step."""
    url = reverse("dashboard:trial-detail", args=[trial.pk])
    if lifecycle.is_exit(trial.status):
        return next_steps.Step(f"Nothing more to do: {lifecycle.label(trial.status).lower()}", url)
    if trial.status == Status.INCLUDED:
        return next_steps.Step("Your data are included in the analyses", url)
    if lifecycle.MAIN_PATH.index(trial.status) < lifecycle.MAIN_PATH.index(Status.AGREEMENT_SIGNED):
        return next_steps.Step(
            "The data-sharing agreement is being arranged",
            url,
            detail="You can upload data once the agreement is signed.",
        )
    return next_steps.Step("See the trial's record", url)
