"""The "analysed data" boxes of the flow diagram: for each outcome with an analysis, the IPD and the aggregate
data side by side, from the newest succeeded run of the outcome's primary analysis (its inputs, the trials left
out and why, the rows each trial contributed, and the engine's per-trial exclusions)."""

from collections import Counter

from apps.analyses.models import Analysis, AnalysisRun, RunKind, RunState
from apps.reviews.models import Outcome

MISSING_ROWS = "a value missing in a variable the analysis uses"
OTHER_ARM = "an arm code that is neither the intervention's nor the control's"


def primary_runs(review) -> list[tuple[Outcome, Analysis | None, AnalysisRun | None]]:
    """Each outcome with an analysis, its primary analysis and that analysis' newest succeeded run."""
    analyses = Analysis.objects.filter(review=review).select_related("outcome")
    by_outcome: dict[int, list[Analysis]] = {}
    for analysis in analyses:
        by_outcome.setdefault(analysis.outcome_id, []).append(analysis)
    rows = []
    for outcome in Outcome.objects.filter(pk__in=list(by_outcome)).order_by("-is_primary", "name"):
        primary = next((analysis for analysis in by_outcome[outcome.pk] if analysis.is_primary), None)
        run = None
        if primary is not None:
            run = (
                AnalysisRun.objects.filter(analysis=primary, kind=RunKind.ANALYSIS, state=RunState.SUCCEEDED)
                .filter(result__isnull=False)
                .order_by("-created_at", "-id")
                .first()
            )
        rows.append((outcome, primary, run))
    return rows


def _label(run: AnalysisRun, trial) -> str:
    return run.summary.get("trials", {}).get(str(trial), {}).get("label", f"Trial {trial}")


def _engine_exclusions(run: AnalysisRun, arms: dict) -> dict[str, str]:
    """Trials that entered the engine but do not inform the pooled effect, with the reason."""
    result = run.result or {}
    if run.spec.get("approach") == "two-stage":
        return {
            str(row["trial"]): row.get("reason") or "excluded by the engine"
            for row in result.get("per_trial") or []
            if row.get("source", "ipd") == "ipd" and row.get("excluded")
        }
    excluded = {}
    for trial, figures in arms.items():
        events = sum((figures.get(arm) or {}).get("events") or 0 for arm in ("intervention", "control"))
        analysed = figures.get("analysed", 0)
        if analysed == 0:
            continue
        if run.spec.get("outcome") == "binary" and events in (0, analysed):
            who = "no participant" if events == 0 else "every participant"
            excluded[trial] = f"{who} had the event: no information in the logistic mixed model"
        elif run.spec.get("outcome") == "survival" and events == 0:
            excluded[trial] = "no events: nothing to add to the Cox model"
    return excluded


def ipd_side(run: AnalysisRun) -> dict:
    arms = run.summary.get("arms", {})
    left_out = {str(item["trial"]): item for item in run.left_out}
    engine = _engine_exclusions(run, arms)
    included, excluded_studies = [], []
    participants_excluded: Counter = Counter()
    for item in run.inputs:
        trial = str(item["trial"])
        figures = arms.get(trial, {})
        participants_excluded[MISSING_ROWS] += figures.get("rows_missing", 0)
        participants_excluded[OTHER_ARM] += figures.get("other_arm_codes", 0)
        if trial in left_out or trial in engine:
            reason = left_out[trial]["reason"] if trial in left_out else engine[trial]
            excluded_studies.append({"trial": item["trial"], "label": _label(run, trial), "reason": reason})
            participants_excluded[f"in a study excluded from the analysis ({reason.rstrip('.')})"] += figures.get(
                "analysed", 0
            )
        else:
            included.append((item["trial"], figures.get("analysed", 0)))
    planned = {str(item["trial"]) for item in run.inputs}
    for trial, item in left_out.items():
        if trial not in planned:  # meant to enter, but had no usable table
            label = item.get("label", trial)
            excluded_studies.append({"trial": item["trial"], "label": label, "reason": item["reason"]})
    return {
        "studies": len(included),
        "participants": sum(n for _, n in included),
        "trials": [trial for trial, _ in included],
        "studies_excluded": excluded_studies,
        "participants_excluded": [{"reason": reason, "n": n} for reason, n in participants_excluded.items() if n],
    }


def aggregate_side(run: AnalysisRun) -> dict:
    facts = run.summary.get("trials", {})
    if not run.spec.get("aggregate"):
        return {
            "studies": 0,
            "participants": 0,
            "trials": [],
            "studies_excluded": [],
            "participants_excluded": [],
            "note": "The primary analysis pools the IPD only; no aggregate data enter it.",
        }
    used = [row["trial"] for row in run.aggregate_rows]
    return {
        "studies": len(used),
        "participants": sum(facts.get(str(trial), {}).get("n_randomised") or 0 for trial in used),
        "trials": used,
        "studies_excluded": [
            {"trial": item["trial"], "label": item.get("label", ""), "reason": item["reason"]}
            for item in run.summary.get("aggregate_left_out", [])
        ],
        "participants_excluded": [],
    }


def analysed(review) -> list[dict]:
    entries = []
    for outcome, analysis, run in primary_runs(review):
        entry = {
            "outcome": outcome.name,
            "outcome_id": outcome.pk,
            "analysis": {"id": analysis.pk, "name": analysis.name} if analysis else None,
            "run": run.pk if run else None,
            "note": "",
            "ipd": None,
            "aggregate": None,
        }
        if analysis is None:
            entry["note"] = "No analysis of this outcome is marked primary."
        elif run is None:
            entry["note"] = f"The primary analysis {analysis.name!r} has no succeeded run yet."
        else:
            entry["ipd"] = ipd_side(run)
            entry["aggregate"] = aggregate_side(run)
        entries.append(entry)
    return entries


def analysed_trials(review, outcome_id: int, side: str) -> list[int] | None:
    """The trials behind one analysed box (side 'ipd' or 'aggregate'); None when there is no such box."""
    for entry in analysed(review):
        if entry["outcome_id"] == outcome_id and entry[side] is not None:
            return entry[side]["trials"]
    return None
