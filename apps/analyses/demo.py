"""The demo review's analyses: the primary two-stage analysis of 30-day mortality, its one-stage twin, and length
of stay with its interaction with age, each run (and the primary's sensitivity family) so that the pages show
results at once. Everything goes through the services and runs the jobs in this process (the demo is loaded in
one transaction, so a job queued there would only be sent once it commits)."""

from apps.analyses import services
from apps.analyses.models import Analysis, AnalysisRun, RunKind
from apps.core.errors import ApplicationError
from apps.reviews.models import Review

DEMO_ANALYSES = (
    {
        "name": "30-day mortality, two-stage (primary)",
        "outcome": "30-day mortality",
        "approach": "two-stage",
        "tau2": "REML",
        "ci": "wald",
        "trials": "checked",
        "prespecified": True,
        "is_primary": True,
        "description": "The protocol's primary analysis: odds ratios from each trial's 2x2 table, pooled by REML.",
    },
    {
        "name": "30-day mortality, one-stage",
        "outcome": "30-day mortality",
        "approach": "one-stage",
        "quadrature": 1,
        "trials": "checked",
        "prespecified": True,
        "description": "Logistic mixed model with a separate intercept per trial, as a check of the primary analysis.",
    },
    {
        "name": "Length of stay, interaction with age",
        "outcome": "Length of hospital stay (days)",
        "approach": "two-stage",
        "tau2": "REML",
        "ci": "wald",
        "outcome_variable": "LOS",
        "interaction": "AGE",
        "trials": "checked",
        "prespecified": True,
        "is_primary": True,
        "description": "Does the effect of steroids on length of stay vary with age? Within-trial interactions.",
    },
)


def demo_analyses(*, review: Review, actor) -> list[Analysis]:
    """Define the demo's analyses, run each, and run the primary one's sensitivity family."""
    outcomes = {outcome.name: outcome.pk for outcome in review.outcomes.all()}
    analyses = []
    for definition in DEMO_ANALYSES:
        data = {**definition, "outcome": outcomes[definition["outcome"]]}
        analysis = services.analysis_create(review=review, actor=actor, data=data)
        _run_now(analysis, actor, RunKind.ANALYSIS)
        analyses.append(analysis)
    _run_now(analyses[0], actor, RunKind.SENSITIVITY)
    return analyses


def _run_now(analysis: Analysis, actor, kind: str) -> AnalysisRun:
    run, _ = services.run_request(analysis=analysis, actor=actor, kind=kind)
    if run.state == AnalysisRun.State.QUEUED and run.job_id:
        services.run_execute(run.job_id)
        run.refresh_from_db()
    if run.state != AnalysisRun.State.SUCCEEDED:
        raise ApplicationError(f"The demo analysis {analysis.name!r} did not run: {run.error or run.state}.")
    return run
