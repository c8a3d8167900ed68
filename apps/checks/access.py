"""Who may see and act on integrity checks. Built on apps.accounts.access: outside the review everything is 404.

- everyone who sees a trial (the review team, and contributors on the trials assigned to them) reads its runs,
  results, affected rows and query threads;
- coordinators and analysts start runs; the review team (coordinators, analysts, reviewers) edits a trial's
  check settings and resolves findings;
- the review team and the trial's contributors write in a finding's thread.
"""

from apps.accounts.access import role_for
from apps.accounts.models import Role
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.core.errors import NotFound, PermissionDenied
from apps.core.ids import as_int
from apps.trials.access import trials_for_user
from apps.trials.models import Trial

RUNNERS = {Role.COORDINATOR, Role.ANALYST}
REVIEW_TEAM = {Role.COORDINATOR, Role.ANALYST, Role.REVIEWER}


def can_run_checks(user, trial: Trial) -> bool:
    return role_for(user, trial.review_id) in RUNNERS


def is_review_team(user, trial: Trial) -> bool:
    return role_for(user, trial.review_id) in REVIEW_TEAM


def require_runner(user, trial: Trial) -> None:
    if not can_run_checks(user, trial):
        raise PermissionDenied("Only the review's coordinators and analysts start check runs.")


def require_review_team(user, trial: Trial, what: str) -> None:
    if not is_review_team(user, trial):
        raise PermissionDenied(f"Only the review team {what}.")


def runs_for_user(user):
    return CheckRun.objects.filter(trial__in=trials_for_user(user)).select_related(
        "trial", "trial__review", "review", "job", "harmonised_table"
    )


def run_get_for_user(user, run_id) -> CheckRun:
    run = runs_for_user(user).filter(pk=as_int(run_id)).first()
    if run is None:
        raise NotFound("Check run not found.")
    return run


def results_for_user(user):
    return CheckResult.objects.filter(run__trial__in=trials_for_user(user)).select_related(
        "run", "run__trial", "run__harmonised_table"
    )


def result_get_for_user(user, result_id) -> CheckResult:
    result = results_for_user(user).filter(pk=as_int(result_id)).first()
    if result is None:
        raise NotFound("Check result not found.")
    return result


def findings_for_user(user):
    return Finding.objects.filter(trial__in=trials_for_user(user)).select_related(
        "trial", "trial__review", "result", "result__run", "resolved_by"
    )


def finding_get_for_user(user, finding_id) -> Finding:
    finding = findings_for_user(user).filter(pk=as_int(finding_id)).first()
    if finding is None:
        raise NotFound("Finding not found.")
    return finding
