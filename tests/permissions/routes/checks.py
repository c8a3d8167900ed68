"""Integrity checks: runs, results and their rows, findings and their threads, settings; the API and the pages."""

from apps.checks import services
from apps.checks.models import CheckResult, CheckSettings
from tests.checks.data import FACTS
from tests.permissions.matrix import READ_ALL, Call, Route, builds, codes


@builds("run")
def run(scope):
    """The checks run on the trial's harmonised table, as the worker runs them, against its published facts."""
    CheckSettings.objects.create(
        trial=scope.trial,
        recruitment_start=FACTS.recruitment_start,
        recruitment_end=FACTS.recruitment_end,
        data_cutoff=FACTS.data_cutoff,
        ids_sequential=FACTS.ids_sequential,
    )
    scheduled = services.check_run_schedule(table=scope.table, actor=scope.author)
    services.check_run_execute(scheduled.job_id)
    scheduled.refresh_from_db()
    assert scheduled.state == "succeeded", scheduled.error
    return scheduled


@builds("result")
def result(scope):
    """The failed check of the two missing ids, with its rows."""
    failed = scope.run.results.get(code="ids_missing")
    assert failed.status == CheckResult.Status.FAIL and failed.affected_count == 2
    return failed


@builds("finding")
def finding(scope):
    return scope.result.finding


TEAM = codes(200, 200, 200, 403)
PAGE_TEAM = codes(302, 302, 302, 403)

ROUTES = [
    Route(
        "api-check-run-list",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=codes(202, 202, 403, 403),
    ),
    Route("api-check-run-detail", {"pk": "run"}, get=READ_ALL),
    Route("api-check-result-detail", {"pk": "result"}, get=READ_ALL),
    Route("api-check-result-rows", {"pk": "result"}, get=READ_ALL),
    Route("api-check-result-rows-csv", {"pk": "result"}, get=READ_ALL),
    Route("api-review-finding-list", {"review_id": "review"}, get=READ_ALL),
    Route("api-trial-finding-list", {"trial_id": "trial"}, get=READ_ALL),
    Route("api-finding-detail", {"pk": "finding"}, get=READ_ALL),
    Route(
        "api-finding-messages",
        {"pk": "finding"},
        post=Call(codes(201, 201, 201, 201), body=lambda o: {"body": "Were these two participants randomised?"}),
    ),
    Route("api-finding-resolve", {"pk": "finding"}, post=Call(TEAM, body=lambda o: {"note": "Explained by the team."})),
    Route(
        "api-check-settings",
        {"trial_id": "trial"},
        get=READ_ALL,
        patch=Call(TEAM, body=lambda o: {"data_cutoff": "2022-06-30"}),
    ),
    Route("api-trial-check-state", {"trial_id": "trial"}, get=READ_ALL),
    Route("api-review-integrity", {"review_id": "review"}, get=READ_ALL),
    # The pages ----------------------------------------------------------------------------------------------
    Route("checks:review-integrity", {"review_id": "review"}, get=READ_ALL),
    Route("checks:trial-checks", {"trial_id": "trial"}, get=READ_ALL),
    Route("checks:run-start", {"trial_id": "trial"}, post=codes(302, 302, 403, 403)),
    Route(
        "checks:settings-update",
        {"trial_id": "trial"},
        post=Call(
            PAGE_TEAM,
            body=lambda o: {
                "recruitment_start": "2019-01-01",
                "recruitment_end": "2019-12-31",
                "data_cutoff": "2022-06-30",
                "ids_sequential": "on",
                "allocation_ratio": "1",
                "intervention_code": "intervention",
                "control_code": "control",
                "primary_outcome": "",
            },
        ),
    ),
    Route("checks:run-detail", {"run_id": "run"}, get=READ_ALL),
    Route("checks:result-detail", {"result_id": "result"}, get=READ_ALL),
    Route("checks:result-rows-csv", {"result_id": "result"}, get=READ_ALL),
    Route(
        "checks:finding-reply",
        {"finding_id": "finding"},
        post=Call(codes(302, 302, 302, 302), body=lambda o: {"body": "Were these two participants randomised?"}),
    ),
    Route(
        "checks:finding-resolve", {"finding_id": "finding"}, post=Call(PAGE_TEAM, body=lambda o: {"note": "Explained."})
    ),
]
