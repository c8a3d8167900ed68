"""Who may see and do what in a review. The API, the pages and the admin all ask these functions.

Roles, per review:
- coordinator: everything in the review (members, review settings, trials, tracking, deletes);
- analyst: reads all tracking; edits outcomes and a trial's published primary result (the aggregate data
  used by checks and analyses), not the tracking itself;
- reviewer: reads everything, edits tracking (trials, status, contacts, attempts, agreements, approvals);
- contributor: sees only the trials assigned to them and logs contacts and contact attempts on them.
A user who is not a member of a review gets 404 for everything in it, never 403.
"""

from django.db.models import F, Q, QuerySet

from apps.accounts.models import Membership, Role
from apps.core.errors import NotFound
from apps.core.ids import as_int
from apps.reviews.models import Review
from apps.trials.models import Trial

TRACKING_EDITORS = {Role.COORDINATOR, Role.REVIEWER}
OUTCOME_EDITORS = {Role.COORDINATOR, Role.ANALYST}
MEMBER_READERS = {Role.COORDINATOR, Role.ANALYST, Role.REVIEWER}

# The trial fields an analyst may change: the published primary result and the participant counts.
RESULT_FIELDS = frozenset(
    {
        "result_measure",
        "result_estimate",
        "result_ci_low",
        "result_ci_high",
        "result_n_intervention",
        "result_n_control",
        "aggregate_available",
    }
)


def _authenticated(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def role_for(user, review: Review | int) -> str | None:
    if not _authenticated(user):
        return None
    review_id = review.pk if isinstance(review, Review) else review
    return Membership.objects.filter(user=user, review_id=review_id).values_list("role", flat=True).first()


def reviews_for_user(user) -> QuerySet[Review]:
    if not _authenticated(user):
        return Review.objects.none()
    return Review.objects.filter(memberships__user=user).distinct()


def review_get_for_user(user, review_id) -> Review:
    review = reviews_for_user(user).filter(pk=as_int(review_id)).first()
    if review is None:
        raise NotFound("Review not found.")
    return review


def trials_for_user(user, review: Review | None = None) -> QuerySet[Trial]:
    """Every trial of the user's reviews, except that contributors see only their assigned trials."""
    if not _authenticated(user):
        return Trial.objects.none()
    full_access = Membership.objects.filter(user=user).exclude(role=Role.CONTRIBUTOR).values("review_id")
    assigned = Membership.trials.through.objects.filter(
        membership__user=user,
        membership__role=Role.CONTRIBUTOR,
        trial__review_id=F("membership__review_id"),
    ).values("trial_id")
    trials = Trial.objects.filter(Q(review_id__in=full_access) | Q(pk__in=assigned))
    if review is not None:
        trials = trials.filter(review=review)
    return trials.select_related("review")


def trial_get_for_user(user, trial_id) -> Trial:
    trial = trials_for_user(user).filter(pk=as_int(trial_id)).first()
    if trial is None:
        raise NotFound("Trial not found.")
    return trial


def can_create_review(user) -> bool:
    """Creating a review is granted by a site administrator (the reviews.add_review permission)."""
    return _authenticated(user) and user.has_perm("reviews.add_review")


def can_manage_review(user, review: Review) -> bool:
    return role_for(user, review) == Role.COORDINATOR


def can_view_members(user, review: Review) -> bool:
    return role_for(user, review) in MEMBER_READERS


def can_edit_outcomes(user, review: Review) -> bool:
    return role_for(user, review) in OUTCOME_EDITORS


def can_create_trial(user, review: Review) -> bool:
    return role_for(user, review) in TRACKING_EDITORS


def can_delete_trial(user, trial: Trial) -> bool:
    return role_for(user, trial.review_id) == Role.COORDINATOR


def can_edit_tracking(user, trial: Trial) -> bool:
    """Status, contacts, attempts, agreements, approvals and the trial's own fields."""
    return role_for(user, trial.review_id) in TRACKING_EDITORS


def can_edit_trial_fields(user, trial: Trial, fields) -> bool:
    role = role_for(user, trial.review_id)
    if role in TRACKING_EDITORS:
        return True
    return role == Role.ANALYST and set(fields) <= RESULT_FIELDS


def can_log_contact(user, trial: Trial) -> bool:
    """Tracking editors, and contributors on the trials assigned to them."""
    role = role_for(user, trial.review_id)
    if role in TRACKING_EDITORS:
        return True
    return role == Role.CONTRIBUTOR and trials_for_user(user).filter(pk=trial.pk).exists()


def reviews_coordinated_by(user) -> QuerySet[Review]:
    """The reviews whose records the user may manage in the admin; superusers manage every review."""
    if not _authenticated(user):
        return Review.objects.none()
    if user.is_superuser:
        return Review.objects.all()
    return Review.objects.filter(memberships__user=user, memberships__role=Role.COORDINATOR).distinct()
