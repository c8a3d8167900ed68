"""The sensitivity family of an analysis, computed from one read of its rows.

Two-stage variants reuse the stage-one estimates (stage one is per trial, so pooling a subset of them is exactly
the two-stage analysis of that subset); one-stage variants refit the model. Leave-one-out always pools the
stage-one estimates without refitting stage one. Every entry says what changed in its label.
"""

import math

import pyarrow as pa

from apps.analyses import engine
from apps.analyses.rows import without_trials
from apps.analyses.scales import Z_95

IPD, AGGREGATE = "ipd", "aggregate"
# Check states that say whether a trial has unresolved failures (the others: never checked, checks running or
# failed, no harmonised table).
JUDGED = ("checked", "unresolved_findings")


def entry(label: str, outcome: dict, *, approach: str, changed: str, note: str = "") -> dict:
    """One row of the family, in one shape whatever produced it."""
    if "error" in outcome:
        return {
            "label": label,
            "changed": changed,
            "approach": approach,
            "k": None,
            "pooled": None,
            "heterogeneity": None,
            "prediction_interval": None,
            "error": outcome["error"],
            "note": note,
        }
    pooled = outcome.get("pooled") or {}
    return {
        "label": label,
        "changed": changed,
        "approach": approach,
        "k": pooled.get("k", outcome.get("k")),
        "pooled": pooled,
        "heterogeneity": outcome.get("heterogeneity"),
        "prediction_interval": outcome.get("prediction_interval"),
        "error": None,
        "note": note,
    }


def aggregate_stage_rows(rows: list[dict]) -> list[dict]:
    return [
        {
            "trial": str(row["trial"]),
            "estimate": row["estimate"],
            "se": row["se"],
            "excluded": False,
            "source": AGGREGATE,
        }
        for row in rows
    ]


def stage_one_rows(result: dict) -> list[dict]:
    """The IPD trials' stage-one rows of a two-stage result."""
    return [row for row in result.get("per_trial") or [] if row.get("source", IPD) == IPD]


def family(
    *,
    spec: dict,
    base: dict,
    stage_one: dict,
    rows: pa.Table,
    aggregate: list[dict],
    integrity: dict[str, dict],
    labels: dict[str, str],
) -> dict:
    """Every variant of the analysis. `base` is the engine's result for `spec`; `stage_one` a two-stage result
    on the same rows (the base itself when two-stage); `integrity` each trial's check state by trial id."""
    two_stage = spec["approach"] == "two-stage"
    tau2 = spec.get("tau2", "REML") if two_stage else "REML"
    ci = spec.get("ci", "wald") if two_stage else "wald"
    ipd_rows = stage_one_rows(stage_one)
    base_rows = ipd_rows + aggregate_stage_rows(aggregate) if spec.get("aggregate") else ipd_rows
    analyses = [entry("as specified", base, approach=spec["approach"], changed="nothing")]
    analyses.append(_fixed_effect(base_rows, tau2, ci, two_stage))
    analyses.append(_interval(base_rows, tau2, ci, two_stage))
    analyses.append(_other_approach(spec, rows, stage_one))
    analyses.append(_with_or_without_aggregate(spec, ipd_rows, aggregate, tau2, ci, two_stage))
    analyses.append(_without_failing(spec, base_rows, rows, integrity, labels, tau2, ci, two_stage))
    return {
        "analyses": analyses,
        "leave_one_out": leave_one_out(base_rows, tau2=tau2, ci=ci, labels=labels),
        "stage_two": {"tau2": tau2, "ci": ci},
    }


def _fixed_effect(rows: list[dict], tau2: str, ci: str, two_stage: bool) -> dict:
    """The other model of the between-trial variance, with the analysis' own interval method."""
    where = "" if two_stage else " (two-stage)"
    if tau2 == "FE":
        return entry(
            f"random effects, REML{where}",
            engine.pool_rows(rows, tau2="REML", ci=ci),
            approach="two-stage",
            changed="tau2",
        )
    return entry(f"fixed effect{where}", engine.pool_rows(rows, tau2="FE", ci=ci), approach="two-stage", changed="tau2")


def _interval(rows: list[dict], tau2: str, ci: str, two_stage: bool) -> dict:
    where = "" if two_stage else " (two-stage)"
    other = "wald" if ci == "hksj" else "hksj"
    label = "Wald CI" if other == "wald" else "HKSJ"
    return entry(f"{label}{where}", engine.pool_rows(rows, tau2=tau2, ci=other), approach="two-stage", changed="ci")


def _other_approach(spec: dict, rows: pa.Table, stage_one: dict) -> dict:
    if spec["approach"] == "one-stage":
        return entry("two-stage", stage_one, approach="two-stage", changed="approach")
    other = {key: value for key, value in spec.items() if key not in ("tau2", "ci", "aggregate")}
    other["approach"] = "one-stage"
    if spec["outcome"] == "binary":
        other["quadrature"] = 1
    result, _ = engine.run_spec_on_rows(other, rows)
    note = "IPD trials only: a one-stage model cannot pool published results." if spec.get("aggregate") else ""
    return entry("one-stage", result, approach="one-stage", changed="approach", note=note)


def _with_or_without_aggregate(spec, ipd_rows, aggregate, tau2, ci, two_stage) -> dict:
    where = "" if two_stage else " (two-stage)"
    if spec.get("aggregate"):
        return entry(
            f"IPD only{where}", engine.pool_rows(ipd_rows, tau2=tau2, ci=ci), approach="two-stage", changed="aggregate"
        )
    label = f"IPD + aggregate data{where}"
    if not aggregate:
        return entry(
            label,
            {"error": "No trial without IPD has a usable published result."},
            approach="two-stage",
            changed="aggregate",
        )
    rows = ipd_rows + aggregate_stage_rows(aggregate)
    note = (
        "1 trial without IPD added from its publication."
        if len(aggregate) == 1
        else f"{len(aggregate)} trials without IPD added from their publications."
    )
    return entry(label, engine.pool_rows(rows, tau2=tau2, ci=ci), approach="two-stage", changed="aggregate", note=note)


def _without_failing(spec, base_rows, rows, integrity: dict, labels, tau2, ci, two_stage) -> dict:
    """Without the trials whose newest check run has unresolved failures; trials whose checks never ran or did
    not finish cannot be judged, and the note names them."""
    label = "excluding trials with unresolved integrity failures"
    failing = {trial for trial, state in integrity.items() if state["unresolved"]}
    unjudged = sorted(trial for trial, state in integrity.items() if state["state"] not in JUDGED)
    unjudged_note = (
        f" Not judged (never checked, or their checks did not finish): {_names(unjudged, labels)}." if unjudged else ""
    )
    if not failing:
        outcome = {"error": "No trial has an unresolved integrity failure: nothing to exclude."}
        return entry(label, outcome, approach=spec["approach"], changed="trials", note=unjudged_note.strip())
    note = f"Left out: {_names(sorted(failing), labels)}.{unjudged_note}"
    if two_stage:
        kept = [row for row in base_rows if str(row["trial"]) not in failing]
        return entry(label, engine.pool_rows(kept, tau2=tau2, ci=ci), approach="two-stage", changed="trials", note=note)
    subset = without_trials(rows, spec, failing)
    if subset.num_rows == 0:
        return entry(
            label, {"error": "Every trial has an unresolved integrity failure."}, approach="one-stage", changed="trials"
        )
    result, _ = engine.run_spec_on_rows(spec, subset)
    return entry(label, result, approach="one-stage", changed="trials", note=note)


def _names(trials, labels: dict[str, str]) -> str:
    return ", ".join(labels.get(trial, trial) for trial in trials)


def leave_one_out(rows: list[dict], *, tau2: str, ci: str, labels: dict[str, str]) -> list[dict]:
    """One row per pooled trial: the pooled effect of the others, from the stage-one estimates."""
    pooled_rows = [row for row in rows if not row.get("excluded") and row.get("estimate") is not None]
    out = []
    for left in pooled_rows:
        others = [row for row in pooled_rows if row is not left]
        trial = str(left["trial"])
        out.append(
            {
                "trial": trial,
                "source": left.get("source", IPD),
                **entry(
                    f"leave out {labels.get(trial, trial)}",
                    engine.pool_rows(others, tau2=tau2, ci=ci),
                    approach="two-stage",
                    changed="trials",
                ),
            }
        )
    return out


def _pool_published(effects: list[dict], tau2: str) -> dict | None:
    if not effects:
        return None
    outcome = engine.pool_rows(effects, tau2=tau2 if len(effects) > 1 else "FE", ci="wald")
    return None if "error" in outcome else outcome["pooled"] | {"heterogeneity": outcome["heterogeneity"]}


def difference(first: dict | None, second: dict | None) -> dict | None:
    """The test of two independent pooled estimates: their difference, its CI and two-sided p."""
    if not first or not second:
        return None
    estimate = first["estimate"] - second["estimate"]
    se = math.sqrt(first["se"] ** 2 + second["se"] ** 2)
    return {
        "estimate": estimate,
        "se": se,
        "ci_low": estimate - Z_95 * se,
        "ci_high": estimate + Z_95 * se,
        "p": engine.two_sided_p(estimate / se) if se > 0 else None,
    }


def _describe(trials: list, published: list[dict], tau2: str) -> dict:
    years = sorted(trial.year for trial in trials if trial.year)
    sizes = sorted(trial.n_randomised for trial in trials if trial.n_randomised)
    sponsors: dict[str, int] = {}
    for trial in trials:
        sponsors[trial.get_sponsor_type_display()] = sponsors.get(trial.get_sponsor_type_display(), 0) + 1
    return {
        "trials": len(trials),
        "participants": sum(sizes),
        "sponsor": dict(sorted(sponsors.items())),
        "year": _spread(years),
        "size": _spread(sizes),
        "published": {"k": len(published), "pooled": _pool_published(published, tau2)},
    }


def _spread(values: list) -> dict | None:
    if not values:
        return None
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return {"median": median, "min": values[0], "max": values[-1]}


def with_and_without_ipd(*, with_ipd: list, without_ipd: list, effects: dict, tau2: str) -> dict:
    """Trials with IPD against those without: how they differ (sponsor, year, size) and their published effects
    pooled per group, with the test of the difference, so a reader sees whether non-response was selective.
    `effects` maps trial ids to their usable published effects."""

    def published(trials):
        return [effects[trial.pk] | {"trial": trial.pk} for trial in trials if trial.pk in effects]

    first = _describe(with_ipd, published(with_ipd), tau2)
    second = _describe(without_ipd, published(without_ipd), tau2)
    return {
        "with_ipd": first,
        "without_ipd": second,
        "difference": difference(first["published"]["pooled"], second["published"]["pooled"]),
        "tau2": tau2,
    }
