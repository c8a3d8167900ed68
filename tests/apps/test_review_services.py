"""Reviews, outcomes and membership: the rules their services keep."""

import pytest

from apps.accounts.models import Membership, Role
from apps.accounts.services import membership_create, membership_delete, membership_update
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.reviews.services import outcome_create, review_create
from tests.factories import MembershipFactory, ReviewFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_creator_of_a_review_coordinates_it():
    user = UserFactory()
    review = review_create(actor=user, title="Aspirin IPD review", registration="CRD42026000001")
    assert Membership.objects.get(review=review).role == Role.COORDINATOR
    assert sorted(AuditEvent.objects.values_list("object_type", flat=True)) == ["membership", "review"]


MEASURE_CASES = [("binary", "OR", True), ("survival", "HR", True), ("continuous", "HR", False), ("binary", "MD", False)]


@pytest.mark.parametrize(("type_", "measure", "ok"), MEASURE_CASES)
def test_an_outcome_measure_must_fit_its_type(type_, measure, ok):
    review = ReviewFactory()
    if ok:
        assert outcome_create(review=review, actor=None, name="Death", type=type_, measure=measure).pk
        return
    with pytest.raises(ApplicationError) as refused:
        outcome_create(review=review, actor=None, name="Death", type=type_, measure=measure)
    assert "measure" in refused.value.details
    assert not review.outcomes.exists()


def test_a_review_keeps_at_least_one_coordinator():
    only = MembershipFactory(role=Role.COORDINATOR)
    with pytest.raises(ApplicationError) as refused:
        membership_update(membership=only, actor=only.user, role=Role.REVIEWER)
    assert refused.value.code == "last_coordinator"
    with pytest.raises(ApplicationError):
        membership_delete(membership=only, actor=only.user)
    second = MembershipFactory(review=only.review, role=Role.COORDINATOR)
    membership_delete(membership=only, actor=second.user)
    assert list(Membership.objects.filter(review=only.review)) == [second]


def test_contributors_are_assigned_only_trials_of_their_review():
    review = ReviewFactory()
    foreign = TrialFactory()
    with pytest.raises(ApplicationError) as refused:
        membership_create(review=review, actor=None, user=UserFactory(), role=Role.CONTRIBUTOR, trials=[foreign])
    assert "trials" in refused.value.details
    assert not Membership.objects.exists()


def test_a_user_joins_a_review_once():
    membership = MembershipFactory()
    with pytest.raises(ApplicationError) as refused:
        membership_create(review=membership.review, actor=None, user=membership.user, role=Role.ANALYST)
    assert refused.value.code == "duplicate"


def test_assigning_trials_is_audited_with_the_trial_ids():
    membership = MembershipFactory(role=Role.CONTRIBUTOR)
    trial = TrialFactory(review=membership.review)
    membership_update(membership=membership, actor=None, trials=[trial])
    event = AuditEvent.objects.get()
    assert (event.before["trials"], event.after["trials"]) == ([], [trial.pk])


def test_a_duplicate_outcome_name_answers_400_not_500(api_as):
    membership = MembershipFactory(role=Role.ANALYST)
    client = api_as(membership.user)
    url = f"/api/v1/reviews/{membership.review.pk}/outcomes/"
    payload = {"name": "Death at 30 days", "type": "binary", "measure": "OR"}
    assert client.post(url, payload, format="json").status_code == 201
    response = client.post(url, payload, format="json")
    assert response.status_code == 400
    assert "already exists" in response.json()["error"]["message"]
    assert membership.review.outcomes.count() == 1
