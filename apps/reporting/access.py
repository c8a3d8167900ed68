"""Who may see and do what in reporting. Built on apps.accounts.access: outside the review everything is 404.

- coordinators, analysts and reviewers read the flow diagram, the checklist and the report, and edit the
  checklist ("reviewers and above");
- coordinators and analysts download the reproducibility bundle (it holds participant data);
- contributors see none of it: 403 inside their review, 404 for other reviews, as elsewhere.
"""

from apps.accounts.access import review_get_for_user, role_for
from apps.accounts.models import Role
from apps.core.errors import PermissionDenied
from apps.reviews.models import Review

READERS = {Role.COORDINATOR, Role.ANALYST, Role.REVIEWER}
CHECKLIST_EDITORS = READERS
BUNDLE_TAKERS = {Role.COORDINATOR, Role.ANALYST}


def can_read_reporting(user, review: Review | int) -> bool:
    return role_for(user, review) in READERS


def can_edit_checklist(user, review: Review | int) -> bool:
    return role_for(user, review) in CHECKLIST_EDITORS


def can_take_bundle(user, review: Review | int) -> bool:
    return role_for(user, review) in BUNDLE_TAKERS


def review_for_reader(user, review_id) -> Review:
    """The review, when the user may read its reporting: 404 outside it, 403 for its contributors."""
    review = review_get_for_user(user, review_id)
    if not can_read_reporting(user, review):
        raise PermissionDenied("The PRISMA-IPD report is for the review team; trial contributors do not see it.")
    return review


def require_checklist_editor(user, review: Review) -> None:
    if not can_edit_checklist(user, review):
        raise PermissionDenied("Only the review's coordinators, analysts and reviewers edit the checklist.")


def review_for_bundle(user, review_id) -> Review:
    """The review, when the user may take its reproducibility bundle (coordinators and analysts)."""
    review = review_for_reader(user, review_id)
    if not can_take_bundle(user, review):
        raise PermissionDenied(
            "Only the review's coordinators and analysts download the reproducibility bundle: it holds participant "
            "data."
        )
    return review
