"""A run's result as people read it: one row per trial with its arms, estimate, CI and weight on the measure's
own scale (ratios exponentiated), the pooled rows, and the sentences around them. The forest plot, the table
under it (its text alternative), the CSV download and the methods paragraph all read this one model."""

import math
from dataclasses import dataclass, field

from apps.analyses.models import AnalysisRun
from apps.analyses.scales import is_ratio, on_scale, wald_interval

MEASURE_NAMES = {
    "MD": "mean difference",
    "OR": "odds ratio",
    "RR": "risk ratio",
    "RD": "risk difference",
    "HR": "hazard ratio",
}
SORTS = ("trial", "year", "weight", "effect")
TAU2_WORDS = {
    "REML": "restricted maximum likelihood (REML)",
    "DL": "the DerSimonian-Laird method",
    "PM": "the Paule-Mandel method",
    "ML": "maximum likelihood",
    "HE": "the Hedges method",
    "SJ": "the Sidik-Jonkman method",
    "EB": "the empirical Bayes method",
}


def number(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if abs(value) < 1e-8:  # an estimate at its boundary reads 0, not 4.3e-15
        value = 0.0
    if abs(value) >= 1000 or (value != 0 and abs(value) < 0.01):
        return f"{value:.3g}"
    return f"{value:.{digits}f}"


def interval(estimate, low, high) -> str:
    if estimate is None:
        return "–"
    return f"{number(estimate)} ({number(low)} to {number(high)})"


@dataclass
class TrialRow:
    trial: str
    label: str
    year: int | None
    source: str  # "ipd" or "aggregate"
    estimate: float | None  # measure's own scale
    ci_low: float | None
    ci_high: float | None
    log_estimate: float | None  # engine scale
    se: float | None
    weight: float | None  # percent of the pooled weight
    intervention: dict = field(default_factory=dict)
    control: dict = field(default_factory=dict)
    excluded: bool = False
    reason: str | None = None
    unresolved: list[dict] = field(default_factory=list)
    outcome: str = "binary"

    @property
    def flagged(self) -> bool:
        return bool(self.unresolved)

    def arm_text(self, arm: str) -> str:
        """N per arm for continuous outcomes, events/N otherwise; a dash for published results."""
        figures = self.intervention if arm == "intervention" else self.control
        if not figures:
            return "–"
        if self.outcome == "continuous":
            return f"{figures['n']:,}"
        return f"{figures.get('events', 0):,}/{figures['n']:,}"

    @property
    def intervention_text(self) -> str:
        return self.arm_text("intervention")

    @property
    def control_text(self) -> str:
        return self.arm_text("control")


@dataclass
class PooledRow:
    label: str
    estimate: float
    ci_low: float
    ci_high: float
    k: int
    source: str = "all"
    prediction_interval: tuple[float, float] | None = None


@dataclass
class Forest:
    measure: str
    outcome: str  # continuous, binary, survival
    approach: str
    rows: list[TrialRow]
    pooled: list[PooledRow]
    heterogeneity: dict | None
    prediction_interval: tuple[float, float] | None
    weights_from: str  # "analysis" or "two-stage": where the weights come from
    warnings: list[str]

    @property
    def ratio(self) -> bool:
        return is_ratio(self.measure)


def _per_trial(run: AnalysisRun) -> tuple[list[dict], dict | None, str]:
    """Per-trial rows and the heterogeneity their weights use: the run's own (two-stage), or those of the
    two-stage twin computed beside a one-stage run."""
    result = run.result or {}
    if result.get("per_trial") is not None:
        return result["per_trial"], result.get("heterogeneity"), "analysis"
    twin = (run.summary.get("stage_one") or {}).get("result") or {}
    return twin.get("per_trial") or [], twin.get("heterogeneity"), "two-stage"


def _weights(rows: list[dict], heterogeneity: dict | None) -> dict[str, float]:
    tau2 = (heterogeneity or {}).get("tau2") or 0.0
    if (heterogeneity or {}).get("method") == "FE":
        tau2 = 0.0
    inverse = {
        str(row["trial"]): 1.0 / (row["se"] ** 2 + tau2) for row in rows if row.get("se") and not row["excluded"]
    }
    total = sum(inverse.values())
    return {trial: 100 * weight / total for trial, weight in inverse.items()} if total else {}


def _trial_row(row: dict, run: AnalysisRun, weights: dict, measure: str) -> TrialRow:
    trial = str(row["trial"])
    facts = run.summary.get("trials", {}).get(trial, {})
    arms = run.summary.get("arms", {}).get(trial, {})
    estimate, se = row.get("estimate"), row.get("se")
    low = high = None
    if estimate is not None and se is not None:
        low, high = wald_interval(estimate, se)
    return TrialRow(
        trial=trial,
        label=facts.get("label", f"Trial {trial}"),
        year=facts.get("year"),
        source=row.get("source", "ipd"),
        estimate=on_scale(estimate, measure),
        ci_low=on_scale(low, measure),
        ci_high=on_scale(high, measure),
        log_estimate=estimate,
        se=se,
        weight=weights.get(trial),
        intervention=arms.get("intervention", {}),
        control=arms.get("control", {}),
        excluded=bool(row.get("excluded")),
        reason=row.get("reason"),
        unresolved=run.summary.get("integrity", {}).get(trial, {}).get("unresolved", []),
        outcome=run.spec["outcome"],
    )


def sort_rows(rows: list[TrialRow], sort: str) -> list[TrialRow]:
    """Pooled trials first in the chosen order, excluded ones after them; ties by label."""
    keys = {
        "trial": lambda row: (row.label,),
        "year": lambda row: (row.year if row.year is not None else 10_000, row.label),
        "weight": lambda row: (-(row.weight or 0.0), row.label),
        "effect": lambda row: (row.log_estimate if row.log_estimate is not None else math.inf, row.label),
    }
    key = keys.get(sort, keys["trial"])
    ordered = sorted(rows, key=lambda row: (row.excluded, row.source != "ipd", *key(row)))
    return ordered


def _pooled_row(label: str, block: dict | None, measure: str, source: str = "all", prediction=None):
    if not block or block.get("estimate") is None:
        return None
    return PooledRow(
        label=label,
        estimate=on_scale(block["estimate"], measure),
        ci_low=on_scale(block["ci_low"], measure),
        ci_high=on_scale(block["ci_high"], measure),
        k=block.get("k") or 0,
        source=source,
        prediction_interval=prediction,
    )


def _prediction(interval_value, measure: str):
    if not interval_value or None in interval_value:
        return None
    return (on_scale(interval_value[0], measure), on_scale(interval_value[1], measure))


def forest(run: AnalysisRun, sort: str = "trial") -> Forest:
    """The run's forest: its trials (sorted), the pooled diamond(s) and heterogeneity."""
    spec = run.spec
    measure = spec["measure"]
    per_trial, heterogeneity, weights_from = _per_trial(run)
    weights = _weights(per_trial, heterogeneity)
    rows = sort_rows([_trial_row(row, run, weights, measure) for row in per_trial], sort)
    result = run.result or {}
    prediction = _prediction(result.get("prediction_interval"), measure)
    pooled = []
    groups = run.summary.get("groups") or {}
    if groups:
        pooled += [
            row
            for row in (
                _pooled_row("IPD trials", (groups.get("ipd") or {}).get("pooled"), measure, "ipd"),
                _pooled_row(
                    "Aggregate-data trials", (groups.get("aggregate") or {}).get("pooled"), measure, "aggregate"
                ),
            )
            if row is not None
        ]
    overall = _pooled_row(f"Pooled ({spec['approach']})", result.get("pooled"), measure, "all", prediction)
    if overall is not None:
        pooled.append(overall)
    return Forest(
        measure=measure,
        outcome=spec["outcome"],
        approach=spec["approach"],
        rows=rows,
        pooled=pooled,
        heterogeneity=result.get("heterogeneity"),
        prediction_interval=prediction,
        weights_from=weights_from,
        warnings=result.get("warnings") or [],
    )


def heterogeneity_sentence(heterogeneity: dict | None, approach: str) -> str:
    if not heterogeneity:
        return ""
    tau2 = heterogeneity.get("tau2")
    parts = [f"τ² = {number(tau2, 3)}" if tau2 is not None else "τ² not estimated"]
    if heterogeneity.get("I2") is not None:
        parts.append(f"I² = {heterogeneity['I2']:.1f}%")
    if heterogeneity.get("Q") is not None:
        p = heterogeneity.get("Q_p")
        parts.append(f"Q = {number(heterogeneity['Q'])} on {heterogeneity['Q_df']} df (p = {p_value(p)})")
    return "Heterogeneity: " + ", ".join(parts)


def p_value(p) -> str:
    if p is None:
        return "–"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}"
