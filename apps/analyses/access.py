"""Who may see and run analyses. Built on apps.accounts.access: outside the review everything is 404.

- coordinators and analysts define, change, delete and run analyses;
- reviewers read them (definitions, runs, results, plots and downloads);
- contributors see none of it: 403 inside their review, 404 for other reviews, as elsewhere.
"""

from apps.accounts.access import review_get_for_user, role_for
from apps.accounts.models import Membership, Role
from apps.analyses.models import Analysis, AnalysisRun
from apps.core.errors import NotFound, PermissionDenied
from apps.core.ids import as_int
from apps.reviews.models import Review

EDITORS = {Role.COORDINATOR, Role.ANALYST}
READERS = {Role.COORDINATOR, Role.ANALYST, Role.REVIEWER}


def can_edit_analyses(user, review: Review | int) -> bool:
    return role_for(user, review) in EDITORS


def can_read_analyses(user, review: Review | int) -> bool:
    return role_for(user, review) in READERS


def require_reader(user, review: Review | int) -> None:
    if not can_read_analyses(user, review):
        raise PermissionDenied("Analyses are for the review team; trial contributors do not see them.")


def require_editor(user, review: Review | int) -> None:
    if not can_edit_analyses(user, review):
        raise PermissionDenied("Only the review's coordinators and analysts define and run analyses.")


def review_for_reader(user, review_id) -> Review:
    """The review, when the user may read its analyses: 404 outside it, 403 for its contributors."""
    review = review_get_for_user(user, review_id)
    require_reader(user, review)
    return review


def _readable_review_ids(user):
    return Membership.objects.filter(user=user, role__in=READERS).values("review_id")


def analyses_for_user(user):
    if not (user and user.is_authenticated and user.is_active):
        return Analysis.objects.none()
    return Analysis.objects.filter(review_id__in=_readable_review_ids(user)).select_related(
        "review", "outcome", "treatment", "outcome_variable", "time_variable", "event_variable", "interaction"
    )


def _member_of(user, review_id: int) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and role_for(user, review_id) is not None


def analysis_get_for_user(user, analysis_id) -> Analysis:
    """The analysis for a reader; 403 for a contributor of its review, 404 for anyone outside it."""
    analysis = Analysis.objects.filter(pk=as_int(analysis_id)).select_related("review", "outcome").first()
    if analysis is None or not _member_of(user, analysis.review_id):
        raise NotFound("Analysis not found.")
    require_reader(user, analysis.review_id)
    return analyses_for_user(user).get(pk=analysis.pk)


def run_get_for_user(user, run_id) -> AnalysisRun:
    """The run for a reader; 403 for a contributor of its review, 404 for anyone outside it."""
    run = AnalysisRun.objects.filter(pk=as_int(run_id)).select_related("review", "analysis", "job").first()
    if run is None or not _member_of(user, run.review_id):
        raise NotFound("Analysis run not found.")
    require_reader(user, run.review_id)
    return run
