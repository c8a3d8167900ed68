"""Pooled analyses: definitions, runs, their plots and tables, the sensitivity family; the API and the pages.

Coordinators and analysts define, change, delete and run analyses; reviewers read them; contributors get 403 in
their review (apps.analyses.access). Analyses belong to the review, not to a trial, so the cases are the own
review and the other one.
"""

from apps.analyses import services
from apps.analyses.models import AnalysisRun, RunKind
from apps.reviews.models import Outcome
from apps.trials.lifecycle import Status
from apps.trials.models import Trial
from tests.factories import OutcomeFactory, TrialFactory
from tests.permissions.matrix import Call, Route, builds, codes

INCLUDED_TRIALS = 2


@builds("included_trials", level="review")
def included_trials(scope) -> list:
    """Trials at "included" whose harmonised tables are built as the other builders build the trial's own
    (uploaded under a signed agreement, parsed, mapped to the schema, applied): what an analysis pools."""
    trials = []
    for number in range(1, INCLUDED_TRIALS + 1):
        trial = TrialFactory(
            review=scope.review,
            title=f"INCLUDED-{number}: a trial with IPD",
            status=Status.INCLUDED,
            screening_decision=Trial.ScreeningDecision.INCLUDED,
            ipd_sought=True,
            ipd_provided=True,
        )
        scope.on_trial(trial).table  # noqa: B018  (builds the agreement, the version, the mapping and the table)
        trials.append(trial)
    return trials


@builds("pressure", level="review")
def pressure(scope):
    """A continuous outcome the schema's SBP measures (the review's other outcome is binary)."""
    return OutcomeFactory(
        review=scope.review, name="Systolic blood pressure", type=Outcome.Type.CONTINUOUS, measure="MD"
    )


def definition(o, name: str, **choices) -> dict:
    return {"name": name, "outcome": o.pressure.pk, "outcome_variable": "SBP"} | choices


def run_to_the_end(analysis, author, kind: str) -> AnalysisRun:
    """Ask for the run and execute its job in this process, as the worker would."""
    run, created = services.run_request(analysis=analysis, actor=author, kind=kind)
    assert created
    services.run_execute(run.job_id)
    run.refresh_from_db()
    assert run.state == AnalysisRun.State.SUCCEEDED, run.error
    return run


@builds("analysis", level="review")
def analysis(scope):
    """The outcome's primary analysis, adjusted for age, over the included trials."""
    scope.included_trials  # noqa: B018
    return services.analysis_create(
        review=scope.review,
        actor=scope.author,
        data=definition(scope, "Blood pressure", adjust=["AGE"], is_primary=True, prespecified=True),
    )


@builds("analysis_run", level="review")
def analysis_run(scope):
    """The analysis' succeeded run."""
    return run_to_the_end(scope.analysis, scope.author, RunKind.ANALYSIS)


@builds("sensitivity_run", level="review")
def sensitivity_run(scope):
    """The analysis' succeeded sensitivity family."""
    scope.analysis_run  # noqa: B018  (the analysis' run comes first)
    return run_to_the_end(scope.analysis, scope.author, RunKind.SENSITIVITY)


@builds("idle_analysis", level="review")
def idle_analysis(scope):
    """An analysis never run: a request to run it queues a run (asking again for an unchanged run writes
    nothing and answers 200 with the stored one), and it may be deleted."""
    scope.included_trials  # noqa: B018
    return services.analysis_create(
        review=scope.review, actor=scope.author, data=definition(scope, "Blood pressure, fixed effect", tau2="FE")
    )


def analysis_form(o, name: str) -> dict:
    return {
        "name": name,
        "outcome": o.pressure.pk,
        "measure": "",
        "approach": "two-stage",
        "tau2": "REML",
        "ci": "hksj",
        "quadrature": "",
        "treatment": "",
        "outcome_variable": "SBP",
        "time_variable": "",
        "event_variable": "",
        "interaction": "",
        "trials": "included",
        "description": "",
    }


READERS = codes(200, 200, 200, 403)
EDITORS = codes(201, 201, 403, 403)
EDITORS_CHANGE = codes(200, 200, 403, 403)
EDITORS_QUEUE = codes(202, 202, 403, 403)
PAGE_EDITORS = codes(302, 302, 403, 403)
FORM_PAGE = codes(200, 200, 403, 403)  # the form that defines or changes an analysis

ROUTES = [
    Route(
        "api-analysis-list",
        {"review_id": "review"},
        get=READERS,
        post=Call(EDITORS, body=lambda o: definition(o, "Blood pressure, HKSJ", ci="hksj")),
    ),
    Route(
        "api-analysis-detail",
        {"pk": "analysis"},
        get=READERS,
        patch=Call(EDITORS_CHANGE, body=lambda o: {"description": "Adjusted for age at randomisation."}),
    ),
    Route("api-analysis-detail", {"pk": "idle_analysis"}, delete=codes(204, 204, 403, 403)),
    Route("api-analysis-runs", {"pk": "analysis"}, get=READERS),
    Route("api-analysis-runs", {"pk": "idle_analysis"}, post=EDITORS_QUEUE),
    Route("api-analysis-sensitivity", {"pk": "analysis"}, get=READERS),
    Route("api-analysis-sensitivity", {"pk": "idle_analysis"}, post=EDITORS_QUEUE),
    Route("api-analysis-run-detail", {"pk": "analysis_run"}, get=READERS),
    Route("api-analysis-run-detail", {"pk": "sensitivity_run"}, get=READERS),
    Route("api-analysis-run-forest", {"pk": "analysis_run"}, get=READERS),
    Route("api-analysis-run-table", {"pk": "analysis_run"}, get=READERS),
    # The pages ----------------------------------------------------------------------------------------------
    Route("analyses:list", {"review_id": "review"}, get=READERS),
    Route(
        "analyses:new",
        {"review_id": "review"},
        get=FORM_PAGE,
        post=Call(PAGE_EDITORS, body=lambda o: analysis_form(o, "Blood pressure, HKSJ")),
    ),
    Route("analyses:detail", {"analysis_id": "analysis"}, get=READERS),
    Route(
        "analyses:edit",
        {"analysis_id": "analysis"},
        get=FORM_PAGE,
        post=Call(PAGE_EDITORS, body=lambda o: analysis_form(o, "Blood pressure, renamed")),
    ),
    Route("analyses:delete", {"analysis_id": "idle_analysis"}, post=PAGE_EDITORS),
    Route(
        "analyses:run-start",
        {"analysis_id": "idle_analysis"},
        post=[
            Call(PAGE_EDITORS, label="analysis"),
            Call(PAGE_EDITORS, body=lambda o: {"kind": RunKind.SENSITIVITY}, label="sensitivity"),
        ],
    ),
    Route("analyses:sensitivity", {"analysis_id": "analysis"}, get=READERS),
    Route("analyses:run", {"run_id": "analysis_run"}, get=READERS),
    # A sensitivity run's page is its analysis' sensitivity page.
    Route("analyses:run", {"run_id": "sensitivity_run"}, get=codes(302, 302, 302, 403)),
    Route("analyses:run-table", {"run_id": "analysis_run"}, get=READERS),
    Route("analyses:run-json", {"run_id": "analysis_run"}, get=READERS),
]
