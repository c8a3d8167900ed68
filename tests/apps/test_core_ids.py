"""The shared id parser, and the access functions that use it: malformed ids find nothing."""

import pytest

from apps.accounts.access import review_get_for_user
from apps.core.errors import NotFound
from apps.core.ids import as_int
from apps.trials.access import trial_get_for_user
from tests.factories import MembershipFactory, TrialFactory


@pytest.mark.parametrize(
    ("value", "expected"), [("42", 42), (7, 7), (" 8 ", 8), ("4x", None), ("", None), (None, None)]
)
def test_as_int_reads_ids_and_gives_none_for_anything_else(value, expected):
    assert as_int(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["abc", "", None, "1.5"])
def test_access_functions_answer_not_found_for_malformed_ids(bad_id):
    membership = MembershipFactory()
    TrialFactory(review=membership.review)
    with pytest.raises(NotFound):
        review_get_for_user(membership.user, bad_id)
    with pytest.raises(NotFound):
        trial_get_for_user(membership.user, bad_id)
