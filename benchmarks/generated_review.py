"""A review of many trials at every stage, with contacts, attempts, agreements, approvals, transitions and
history, for the load benchmark and the query-count tests. Written in bulk: it stands for data, not for how it
was entered."""

import datetime
import itertools
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts.models import Membership, Role
from apps.core.models import AuditEvent
from apps.reviews.models import Review
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, StatusTransition, Trial

PATH = [
    Status.IDENTIFIED, Status.ELIGIBLE, Status.IPD_SOUGHT, Status.CONTACTED, Status.RESPONDED,
    Status.AGREEMENT_IN_PROGRESS, Status.AGREEMENT_SIGNED, Status.DATA_RECEIVED, Status.DATA_CHECKED, Status.INCLUDED,
]  # fmt: skip


def generate_review(n_trials: int = 200, *, title: str | None = None, seed: int = 7) -> tuple[Review, dict]:
    """A review of `n_trials` trials and one member per role (usernames `<role>-<review id>`)."""
    rng = random.Random(seed)
    review = Review.objects.create(title=title or f"Load review of {n_trials} trials")
    users = {}
    for role in Role.values:
        user = get_user_model().objects.create_user(
            username=f"{role}-{review.pk}", email=f"{role}-{review.pk}@example.org", password="load-test-password"
        )
        Membership.objects.create(review=review, user=user, role=role)
        users[role] = user
    today = timezone.localdate()
    now = timezone.now()
    trials = Trial.objects.bulk_create(
        Trial(
            review=review,
            registry_id=f"NCT{10_000_000 + index:08d}",
            title=f"Trial {index:03d} of a treatment against a comparator",
            year=2000 + index % 24,
            n_randomised=100 + rng.randrange(900),
            status=PATH[index % len(PATH)],
            status_changed_at=now - datetime.timedelta(days=index % 90),
        )
        for index in range(n_trials)
    )
    Membership.objects.get(review=review, role=Role.CONTRIBUTOR).trials.set(trials[:5])
    contacts = Contact.objects.bulk_create(
        Contact(trial=trial, name=f"Investigator {n} of {trial.registry_id}", email=f"pi{n}.{trial.pk}@example.org")
        for trial in trials
        for n in range(2)
    )
    by_trial = {trial.pk: [] for trial in trials}
    for contact in contacts:
        by_trial[contact.trial_id].append(contact)
    ContactAttempt.objects.bulk_create(
        ContactAttempt(
            trial=trial, contact=by_trial[trial.pk][n % 2], date=today - datetime.timedelta(days=30 - 7 * n),
            next_follow_up=today - datetime.timedelta(days=rng.randrange(-10, 10)) if n == 2 else None,
            owner=users[Role.REVIEWER], created_by=users[Role.REVIEWER], note=f"Attempt {n}",
        )
        for trial in trials
        for n in range(3)
    )  # fmt: skip
    Agreement.objects.bulk_create(
        Agreement(
            trial=trial, title=f"DSA {trial.registry_id}", status=Agreement.Status.SIGNED,
            signed_on=today - datetime.timedelta(days=300),
            expires_on=today + datetime.timedelta(days=rng.randrange(400)),
        )
        for trial in trials
    )  # fmt: skip
    EthicsApproval.objects.bulk_create(
        EthicsApproval(
            trial=trial, side=EthicsApproval.Side.RECEIVING if index % 2 else EthicsApproval.Side.CONTRIBUTING,
            body="Research ethics committee", approved_on=today - datetime.timedelta(days=200),
            expires_on=today + datetime.timedelta(days=rng.randrange(400)),
        )
        for index, trial in enumerate(trials)
    )  # fmt: skip
    transitions = []
    events = []
    for trial in trials:
        reached = PATH.index(trial.status) if trial.status in PATH else 0
        for before, after in itertools.pairwise(PATH[: reached + 1]):
            transitions.append(
                StatusTransition(trial=trial, from_status=before, to_status=after, actor=users[Role.REVIEWER])
            )
            events.append(
                AuditEvent(
                    actor=users[Role.REVIEWER], review=review, trial=trial, action=AuditEvent.Action.TRANSITION,
                    object_type="trial", object_id=str(trial.pk), object_repr=str(trial)[:255],
                    before={"status": before}, after={"status": after},
                )
            )  # fmt: skip
    StatusTransition.objects.bulk_create(transitions)
    AuditEvent.objects.bulk_create(events)
    return review, users
