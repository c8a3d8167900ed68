"""The access functions, branch by branch."""

import pytest

from apps.accounts import access
from apps.accounts.models import Role
from apps.core.errors import NotFound
from apps.trials import access as trial_access
from tests.factories import MembershipFactory, ReviewFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def review():
    return ReviewFactory()


def _member(review, role, trials=()):
    return MembershipFactory(review=review, role=role, trials=list(trials)).user


def test_anonymous_and_inactive_users_see_nothing(review):
    from django.contrib.auth.models import AnonymousUser

    TrialFactory(review=review)
    inactive = _member(review, Role.COORDINATOR)
    inactive.is_active = False
    inactive.save()
    for user in (AnonymousUser(), inactive, None):
        assert not access.reviews_for_user(user).exists()
        assert not trial_access.trials_for_user(user).exists()
        assert access.role_for(user, review) is None


def test_non_member_gets_not_found(review):
    outsider = UserFactory()
    trial = TrialFactory(review=review)
    with pytest.raises(NotFound):
        access.review_get_for_user(outsider, review.pk)
    with pytest.raises(NotFound):
        trial_access.trial_get_for_user(outsider, trial.pk)


@pytest.mark.parametrize("bad_id", ["abc", None, "", -1, 10**9])
def test_malformed_or_unknown_ids_are_not_found(review, bad_id):
    user = _member(review, Role.COORDINATOR)
    with pytest.raises(NotFound):
        access.review_get_for_user(user, bad_id)
    with pytest.raises(NotFound):
        trial_access.trial_get_for_user(user, bad_id)


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ANALYST, Role.REVIEWER])
def test_full_members_see_every_trial_of_their_review_only(review, role):
    user = _member(review, role)
    mine = [TrialFactory(review=review), TrialFactory(review=review)]
    TrialFactory()  # another review
    assert set(trial_access.trials_for_user(user)) == set(mine)
    assert access.review_get_for_user(user, str(review.pk)) == review


def test_contributor_sees_only_assigned_trials(review):
    assigned, unassigned = TrialFactory(review=review), TrialFactory(review=review)
    user = _member(review, Role.CONTRIBUTOR, trials=[assigned])
    assert list(trial_access.trials_for_user(user)) == [assigned]
    assert trial_access.trial_get_for_user(user, assigned.pk) == assigned
    with pytest.raises(NotFound):
        trial_access.trial_get_for_user(user, unassigned.pk)


def test_an_assignment_to_a_trial_of_another_review_grants_nothing(review):
    foreign = TrialFactory()
    user = _member(review, Role.CONTRIBUTOR, trials=[foreign])
    assert not trial_access.trials_for_user(user).exists()


def test_roles_in_two_reviews_do_not_leak(review):
    other = ReviewFactory()
    user = _member(review, Role.CONTRIBUTOR)
    MembershipFactory(review=other, user=user, role=Role.REVIEWER)
    in_review, in_other = TrialFactory(review=review), TrialFactory(review=other)
    assert list(trial_access.trials_for_user(user)) == [in_other]
    assert not trial_access.can_edit_tracking(user, in_review)
    assert trial_access.can_edit_tracking(user, in_other)
    assert list(trial_access.trials_for_user(user, review)) == []


EXPECTED = {
    # role: manage, view members, edit outcomes, create trial, delete trial, edit tracking, edit result, log contact
    Role.COORDINATOR: (True, True, True, True, True, True, True, True),
    Role.ANALYST: (False, True, True, False, False, False, True, False),
    Role.REVIEWER: (False, True, False, True, False, True, True, True),
    Role.CONTRIBUTOR: (False, False, False, False, False, False, False, True),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_what_each_role_may_do(review, role):
    trial = TrialFactory(review=review)
    user = _member(review, role, trials=[trial])
    answers = (
        access.can_manage_review(user, review),
        access.can_view_members(user, review),
        access.can_edit_outcomes(user, review),
        trial_access.can_create_trial(user, review),
        trial_access.can_delete_trial(user, trial),
        trial_access.can_edit_tracking(user, trial),
        trial_access.can_edit_trial_fields(user, trial, ["result_estimate", "result_ci_low"]),
        trial_access.can_log_contact(user, trial),
    )
    assert answers == EXPECTED[role]


def test_contributor_logs_contacts_only_on_assigned_trials(review):
    assigned, unassigned = TrialFactory(review=review), TrialFactory(review=review)
    user = _member(review, Role.CONTRIBUTOR, trials=[assigned])
    assert trial_access.can_log_contact(user, assigned)
    assert not trial_access.can_log_contact(user, unassigned)


def test_reviews_coordinated_by(review):
    coordinator = _member(review, Role.COORDINATOR)
    reviewer = _member(review, Role.REVIEWER)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    other = ReviewFactory()
    assert list(access.reviews_coordinated_by(coordinator)) == [review]
    assert not access.reviews_coordinated_by(reviewer).exists()
    assert set(access.reviews_coordinated_by(superuser)) == {review, other}
