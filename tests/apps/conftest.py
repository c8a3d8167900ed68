"""A small world for the API tests: our review with a member in every role, and another review."""

from dataclasses import dataclass

import pytest

from apps.accounts.models import Role
from tests.factories import (
    AgreementFactory,
    ContactAttemptFactory,
    ContactFactory,
    EthicsApprovalFactory,
    MembershipFactory,
    OutcomeFactory,
    ReviewFactory,
    TrialFactory,
    UserFactory,
)


@dataclass
class Scope:
    """One trial and its tracking records, plus the review-level objects around it."""

    review: object
    trial: object
    contact: object
    attempt: object
    agreement: object
    approval: object
    outcome: object
    member: object
    spare_member: object

    def ids(self) -> dict:
        return {
            "review": self.review.pk,
            "trial": self.trial.pk,
            "contact": self.contact.pk,
            "attempt": self.attempt.pk,
            "agreement": self.agreement.pk,
            "approval": self.approval.pk,
            "outcome": self.outcome.pk,
            "member": self.member.pk,
            "spare_member": self.spare_member.pk,
        }


def _scope(review, trial, outcome, member, spare_member) -> Scope:
    contact = ContactFactory(trial=trial)
    return Scope(
        review=review,
        trial=trial,
        contact=contact,
        attempt=ContactAttemptFactory(trial=trial, contact=contact),
        agreement=AgreementFactory(trial=trial),
        approval=EthicsApprovalFactory(trial=trial),
        outcome=outcome,
        member=member,
        spare_member=spare_member,
    )


@dataclass
class World:
    users: dict  # role -> user, each a member of `own.review`
    own: Scope  # a trial assigned to the contributor
    unassigned: Scope  # a trial of the same review, not assigned to the contributor
    other: Scope  # a trial of another review, where none of `users` is a member
    newcomer: object  # a user in no review


@pytest.fixture
def world(db) -> World:
    review = ReviewFactory()
    users = {role: UserFactory(username=f"{role}") for role in Role.values}
    memberships = {role: MembershipFactory(review=review, user=user, role=role) for role, user in users.items()}
    spare = MembershipFactory(review=review, role=Role.REVIEWER)
    outcome = OutcomeFactory(review=review)
    own_trial = TrialFactory(review=review)
    memberships[Role.CONTRIBUTOR].trials.set([own_trial])
    member = memberships[Role.ANALYST]
    own = _scope(review, own_trial, outcome, member, spare)
    unassigned = _scope(review, TrialFactory(review=review), outcome, member, spare)

    other_review = ReviewFactory()
    other_coordinator = MembershipFactory(review=other_review, role=Role.COORDINATOR)
    other = _scope(
        other_review,
        TrialFactory(review=other_review),
        OutcomeFactory(review=other_review),
        other_coordinator,
        MembershipFactory(review=other_review, role=Role.REVIEWER),
    )
    return World(users=users, own=own, unassigned=unassigned, other=other, newcomer=UserFactory(username="newcomer"))
