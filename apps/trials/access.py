"""Who may see and change a trial and its tracking records, built on the review roles of apps.accounts.access.

A contributor sees only the trials assigned to them; a user who is not a member of the trial's review gets 404
for it, never 403.
"""

from django.db.models import F, Q, QuerySet

# The trial pages read the review-level functions beside these ones, from this module.
from apps.accounts.access import review_get_for_user, reviews_for_user, role_for  # noqa: F401
from apps.accounts.models import Membership, Role
from apps.core.errors import NotFound
from apps.core.ids import as_int
from apps.reviews.models import Review
from apps.trials.models import Trial

TRACKING_EDITORS = {Role.COORDINATOR, Role.REVIEWER}

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
