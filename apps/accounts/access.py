"""Who may see and do what in a review. The API, the pages and the admin all ask these functions; the trial-level
ones (a trial and its tracking records) are in apps.trials.access, built on these.

Roles, per review:
- coordinator: everything in the review (members, review settings, trials, tracking, deletes);
- analyst: reads all tracking; edits outcomes and a trial's published primary result (the aggregate data
  used by checks and analyses), not the tracking itself;
- reviewer: reads everything, edits tracking (trials, status, contacts, attempts, agreements, approvals);
- contributor: sees only the trials assigned to them and logs contacts and contact attempts on them.
A user who is not a member of a review gets 404 for everything in it, never 403.
"""

from django.db.models import QuerySet

from apps.accounts.models import Membership, Role
from apps.core.errors import NotFound
from apps.core.ids import as_int

OUTCOME_EDITORS = {Role.COORDINATOR, Role.ANALYST}
MEMBER_READERS = {Role.COORDINATOR, Role.ANALYST, Role.REVIEWER}


def _review_model():
    """The review model, as Membership.review names it: accounts sits below reviews and never imports them."""
    return Membership._meta.get_field("review").related_model


def _authenticated(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def role_for(user, review) -> str | None:
    """The user's role in the review (a review or its id), None for a non-member."""
    if not _authenticated(user):
        return None
    review_id = review.pk if isinstance(review, _review_model()) else review
    return Membership.objects.filter(user=user, review_id=review_id).values_list("role", flat=True).first()


def reviews_for_user(user) -> QuerySet:
    if not _authenticated(user):
        return _review_model().objects.none()
    return _review_model().objects.filter(memberships__user=user).distinct()


def review_get_for_user(user, review_id):
    review = reviews_for_user(user).filter(pk=as_int(review_id)).first()
    if review is None:
        raise NotFound("Review not found.")
    return review


def can_create_review(user) -> bool:
    """Creating a review is granted by a site administrator (the reviews.add_review permission)."""
    return _authenticated(user) and user.has_perm("reviews.add_review")


def can_manage_review(user, review) -> bool:
    return role_for(user, review) == Role.COORDINATOR


def can_view_members(user, review) -> bool:
    return role_for(user, review) in MEMBER_READERS


def can_edit_outcomes(user, review) -> bool:
    return role_for(user, review) in OUTCOME_EDITORS


def reviews_coordinated_by(user) -> QuerySet:
    """The reviews whose records the user may manage in the admin; superusers manage every review."""
    if not _authenticated(user):
        return _review_model().objects.none()
    if user.is_superuser:
        return _review_model().objects.all()
    return _review_model().objects.filter(memberships__user=user, memberships__role=Role.COORDINATOR).distinct()
