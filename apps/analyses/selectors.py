"""Reads for analyses: a review's analyses with their newest results, a run's plots, table and methods."""

import json

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from apps.analyses import figures, methods, planning, presentation
from apps.analyses.models import Analysis, AnalysisCovariate, AnalysisRun, RunKind, RunState
from apps.analyses.scales import on_scale
from apps.harmonisation.csv_export import to_csv
from apps.reviews.models import Review

PLOTS = ("trials", "interaction", "summary", "leave-one-out")


def review_analyses(review: Review) -> QuerySet[Analysis]:
    return (
        Analysis.objects.filter(review=review)
        .select_related("outcome", "treatment", "outcome_variable", "time_variable", "event_variable", "interaction")
        .prefetch_related(Prefetch("covariates", queryset=AnalysisCovariate.objects.select_related("variable")))
        .order_by("outcome__name", "-is_primary", "name", "id")
    )


def newest_run(analysis: Analysis, kind: str = RunKind.ANALYSIS, *, succeeded: bool = False) -> AnalysisRun | None:
    runs = analysis.runs.filter(kind=kind)
    if succeeded:
        runs = runs.filter(state=RunState.SUCCEEDED)
    return runs.select_related("job").order_by("-created_at", "-id").first()


def runs_stamp(runs: QuerySet[AnalysisRun]) -> tuple | None:
    """A value that changes whenever one of `runs` is added, deleted or finishes (one query); None while one is
    queued or running, because its progress moves without anything a stamp could see."""
    stamp = runs.aggregate(
        count=Count("pk"),
        newest=Max("pk"),
        finished=Max("finished_at"),
        unfinished=Count("pk", filter=Q(state__in=(RunState.QUEUED, RunState.RUNNING))),
    )
    if stamp["unfinished"]:
        return None
    finished = stamp["finished"].isoformat() if stamp["finished"] else ""
    return stamp["count"], stamp["newest"], finished


def newest_runs(analyses) -> tuple[dict[int, AnalysisRun], dict[int, AnalysisRun]]:
    """Each analysis' newest run of the analysis kind, and its newest succeeded one (whose result stands while a
    newer run is queued or failed), in one query."""
    ids = [analysis.pk for analysis in analyses]
    newest: dict[int, AnalysisRun] = {}
    succeeded: dict[int, AnalysisRun] = {}
    runs = AnalysisRun.objects.filter(analysis_id__in=ids, kind=RunKind.ANALYSIS).select_related("job")
    for run in runs.order_by("analysis_id", "-created_at", "-id").defer("summary", "inputs", "aggregate_rows"):
        newest.setdefault(run.analysis_id, run)
        if run.state == RunState.SUCCEEDED:
            succeeded.setdefault(run.analysis_id, run)
    return newest, succeeded


def headline(run: AnalysisRun | None) -> dict | None:
    """What a list shows of a run: estimate and CI on the measure's scale, k, participants and I²."""
    if run is None or not run.result:
        return None
    measure = run.spec["measure"]
    pooled = run.result.get("pooled") or {}
    heterogeneity = run.result.get("heterogeneity") or {}
    participants = (run.result.get("settings") or {}).get("participants")
    return {
        "estimate": on_scale(pooled.get("estimate"), measure),
        "ci_low": on_scale(pooled.get("ci_low"), measure),
        "ci_high": on_scale(pooled.get("ci_high"), measure),
        "k": pooled.get("k"),
        "participants": participants,
        "I2": heterogeneity.get("I2"),
        "text": presentation.interval(
            on_scale(pooled.get("estimate"), measure),
            on_scale(pooled.get("ci_low"), measure),
            on_scale(pooled.get("ci_high"), measure),
        ),
    }


def analyses_by_outcome(review: Review) -> list[dict]:
    """The review's outcomes, each with its analyses and their newest runs (outcomes without any included)."""
    analyses = list(review_analyses(review))
    runs, results = newest_runs(analyses)
    outcomes = []
    for outcome in review.outcomes.order_by("-is_primary", "name"):
        items = [
            {
                "analysis": analysis,
                "run": runs.get(analysis.pk),
                "result_run": results.get(analysis.pk),
                "headline": headline(results.get(analysis.pk)),
            }
            for analysis in analyses
            if analysis.outcome_id == outcome.pk
        ]
        outcomes.append({"outcome": outcome, "analyses": items})
    return outcomes


def run_facts(run: AnalysisRun) -> dict:
    """What the run says of its analysis as it stood when the run was asked for; the analysis' current values
    for runs stored before these were recorded."""
    analysis = run.analysis
    current = {
        "name": analysis.name,
        "outcome": analysis.outcome.name,
        "prespecified": analysis.prespecified,
        "higher_is_better": analysis.outcome.higher_is_better,
    }
    return current | run.summary.get("analysis", {})


def higher_is_better(run: AnalysisRun) -> bool:
    return run_facts(run)["higher_is_better"]


def trial_labels(run: AnalysisRun) -> dict[str, str]:
    return {trial: facts["label"] for trial, facts in run.summary.get("trials", {}).items()}


def run_forest(run: AnalysisRun, sort: str = "trial") -> presentation.Forest:
    return presentation.forest(run, sort if sort in presentation.SORTS else "trial")


def run_figure(run: AnalysisRun, *, plot: str = "", sort: str = "trial") -> dict | None:
    """The plotly figure of one of the run's plots; None when the run has no such plot."""
    if not run.result or run.state != RunState.SUCCEEDED:
        return None
    better = higher_is_better(run)
    measure = run.spec["measure"]
    if run.kind == RunKind.SENSITIVITY:
        if plot == "leave-one-out":
            return figures.leave_one_out_figure(run.result, measure=measure, higher_is_better=better)
        if plot in ("", "summary"):
            return figures.summary_figure(run.result, measure=measure, higher_is_better=better)
        return None
    if plot == "interaction":
        block = run.result.get("interaction") or {}
        if not block.get("per_trial"):
            return None
        return figures.interaction_figure(
            block, measure=measure, covariate=run.spec.get("interaction", ""), labels=trial_labels(run)
        )
    if plot in ("", "trials"):
        return figures.forest_figure(run_forest(run, sort), higher_is_better=better)
    return None


def sensitivity_data(run: AnalysisRun | None) -> dict:
    """The newest sensitivity family as the API and the page give it, with the trials that did not enter."""
    if run is None:
        return {
            "run": None,
            "status": "never_run",
            "error": "",
            "analyses": [],
            "leave_one_out": [],
            "comparison": None,
            "left_out": [],
            "aggregate_left_out": [],
        }
    result = run.result or {}
    succeeded = run.state == RunState.SUCCEEDED
    return {
        "run": run.pk,
        "status": run.state,
        "error": run.error,
        "analyses": result.get("analyses", []) if succeeded else [],
        "leave_one_out": result.get("leave_one_out", []) if succeeded else [],
        "comparison": result.get("comparison") if succeeded else None,
        "left_out": run.left_out,
        "aggregate_left_out": run.summary.get("aggregate_left_out", []),
    }


def sensitivity_is_stale(run: AnalysisRun | None, analysis: Analysis) -> bool:
    """Whether the analysis was changed after its sensitivity family was run."""
    if run is None:
        return False
    return {key: value for key, value in run.spec.items() if key != "aggregate"} != planning.base_spec(analysis)


def figure_json(figure: dict | None) -> str:
    return json.dumps(figure, separators=(",", ":"), allow_nan=False) if figure else ""


TABLE_COLUMNS = [
    "trial_id",
    "registry_id",
    "trial",
    "source",
    "intervention_n",
    "intervention_events",
    "intervention_mean",
    "intervention_sd",
    "control_n",
    "control_events",
    "control_mean",
    "control_sd",
    "measure",
    "estimate",
    "ci_low",
    "ci_high",
    "log_estimate",
    "se",
    "weight_percent",
    "excluded",
    "reason",
    "unresolved_integrity_failures",
]


def table_rows(run: AnalysisRun, sort: str = "trial") -> list[dict]:
    """The rows of the forest's table, trials then pooled results, with every number unrounded."""
    forest = run_forest(run, sort)
    facts = run.summary.get("trials", {})
    rows = []
    for row in forest.rows:
        rows.append(
            {
                "trial_id": row.trial,
                "registry_id": facts.get(row.trial, {}).get("registry_id", ""),
                "trial": row.label,
                "source": row.source,
                **{f"intervention_{key}": row.intervention.get(key) for key in ("n", "events", "mean", "sd")},
                **{f"control_{key}": row.control.get(key) for key in ("n", "events", "mean", "sd")},
                "measure": forest.measure,
                "estimate": row.estimate,
                "ci_low": row.ci_low,
                "ci_high": row.ci_high,
                "log_estimate": row.log_estimate if forest.ratio else None,
                "se": row.se,
                "weight_percent": row.weight,
                "excluded": row.excluded,
                "reason": row.reason or "",
                "unresolved_integrity_failures": "; ".join(item["title"] for item in row.unresolved),
            }
        )
    for pooled in forest.pooled:
        rows.append(
            {
                "trial": f"{pooled.label} (k = {pooled.k})",
                "source": pooled.source,
                "measure": forest.measure,
                "estimate": pooled.estimate,
                "ci_low": pooled.ci_low,
                "ci_high": pooled.ci_high,
            }
        )
    return rows


def table_csv(run: AnalysisRun, sort: str = "trial") -> str:
    return to_csv(table_rows(run, sort), TABLE_COLUMNS)


def methods_paragraph(run: AnalysisRun) -> str:
    pooled = (run.result or {}).get("pooled") or {}
    facts = run_facts(run)
    return methods.paragraph(
        spec=run.spec,
        outcome_name=facts["outcome"],
        prespecified=facts["prespecified"],
        engine_version=run.engine_version or "",
        k=pooled.get("k"),
        n_aggregate=len(run.spec.get("aggregate") or []),
    )


def run_history(analysis: Analysis, kind: str = RunKind.ANALYSIS) -> list[dict]:
    """The analysis' runs, newest first, each with its headline and what changed since the one before."""
    runs = analysis.runs.filter(kind=kind).select_related("job", "created_by").order_by("-created_at", "-id")
    return [{"run": run, "headline": headline(run) if kind == RunKind.ANALYSIS else None} for run in runs]


def run_as_data(run: AnalysisRun) -> dict:
    """The downloadable record of a run: everything needed to reproduce it."""
    return {
        "run": run.pk,
        "analysis": {"id": run.analysis_id, "name": run.analysis.name, "outcome": run.analysis.outcome.name},
        "kind": run.kind,
        "status": run.state,
        "error": run.error,
        "spec": run.spec,
        "engine_version": run.engine_version,
        "inputs": run.inputs,
        "left_out": run.left_out,
        "aggregate_rows": run.aggregate_rows,
        "result": run.result,
        "summary": run.summary,
        "changes": run.changes,
        "input_sha256": run.input_sha256,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
