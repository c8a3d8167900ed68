"""What a run of an analysis is given: the trials that enter with their harmonised tables, those that were meant
to enter but cannot (with the reason), the published results of trials without IPD, and the engine spec.

The plan is made when a run is asked for, so that a request whose plan equals the newest run's returns that run;
the worker then reads exactly the tables the plan names.
"""

import hashlib
import json
import math
from dataclasses import dataclass, field

import pyarrow.parquet as pq
from django.db.models import OuterRef, Subquery

from apps.analyses.engine import ENGINE_VERSION
from apps.analyses.models import Analysis, Approach, TrialSet
from apps.analyses.scales import RATIO_MEASURES, Z_95
from apps.checks import catalogue
from apps.checks.models import CheckSettings
from apps.datasets import storage
from apps.harmonisation.models import HarmonisedTable
from apps.reviews.models import Outcome
from apps.trials.lifecycle import ExitReason, Status
from apps.trials.models import Trial

# Trials without IPD in an analysis, whose published results may stand in for them: eligible trials whose data
# are still being sought or were not provided. Trials whose IPD arrived (received, checked, included) are not
# "without IPD" even when an analysis leaves them out; not-eligible and unscreened trials never were candidates.
WITHOUT_IPD = (
    Status.ELIGIBLE,
    Status.IPD_SOUGHT,
    Status.CONTACTED,
    Status.RESPONDED,
    Status.AGREEMENT_IN_PROGRESS,
    Status.AGREEMENT_SIGNED,
    Status.NO_RESPONSE,
    Status.DECLINED,
    Status.DATA_NOT_AVAILABLE,
    Status.WITHDRAWN,
)


@dataclass
class Plan:
    """JSON-ready parts of a run, and the trials behind them."""

    spec: dict
    inputs: list[dict]
    left_out: list[dict]
    aggregate_rows: list[dict]
    aggregate_left_out: list[dict]
    trials: dict[int, Trial] = field(default_factory=dict)

    @property
    def input_sha256(self) -> str:
        """The fingerprint of the run: its spec and inputs, and the engine that computes them (a new engine
        version computes again)."""
        content = {"spec": self.spec, "inputs": self.inputs, "aggregate": self.aggregate_rows}
        return digest(content | {"engine": ENGINE_VERSION})


def digest(content) -> str:
    """SHA-256 of JSON content, keys sorted: equal content, equal digest."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def trial_label(trial: Trial) -> str:
    """How a trial is named in plots and tables: its registry id and a short name (the title's first part)."""
    short = trial.title.split(":")[0].strip()
    if trial.registry_id and short:
        return f"{trial.registry_id} {short}"[:80]
    return (trial.registry_id or short or f"Trial {trial.pk}")[:80]


def trial_column(used: list[str]) -> str:
    """The name of the column that says which trial a row comes from: `trial`, unless a variable has it."""
    name = "trial"
    while name in used:
        name = f"{name}_id"
    return name


def used_variables(analysis: Analysis) -> dict[str, str]:
    """Schema variable names by engine role: treatment, outcome (or time, event)."""
    if analysis.outcome.type == Outcome.Type.SURVIVAL:
        return {
            "treatment": analysis.treatment.name,
            "time": analysis.time_variable.name,
            "event": analysis.event_variable.name,
        }
    return {"treatment": analysis.treatment.name, "outcome": analysis.outcome_variable.name}


def analysis_columns(analysis: Analysis) -> list[str]:
    """Every harmonised column the analysis reads, each once."""
    names = [*used_variables(analysis).values(), *(variable.name for variable in analysis.adjust_variables)]
    if analysis.interaction_id:
        names.append(analysis.interaction.name)
    return list(dict.fromkeys(names))


def base_spec(analysis: Analysis) -> dict:
    """The engine spec of the analysis, without `data` and without `aggregate`."""
    columns = used_variables(analysis)
    spec = {
        "outcome": analysis.outcome.type,
        "measure": analysis.measure,
        "approach": analysis.approach,
        "columns": {"trial": trial_column(analysis_columns(analysis)), **columns},
    }
    adjust = [variable.name for variable in analysis.adjust_variables]
    if adjust:
        spec["adjust"] = adjust
    if analysis.interaction_id:
        spec["interaction"] = analysis.interaction.name
    if analysis.approach == Approach.TWO_STAGE:
        spec |= {"tau2": analysis.tau2, "ci": analysis.ci}
    elif analysis.outcome.type == Outcome.Type.BINARY:
        spec["quadrature"] = analysis.quadrature or 1
    return spec


def entering_statuses(analysis: Analysis) -> tuple[str, ...]:
    if analysis.trials == TrialSet.CHECKED:
        return (Status.INCLUDED, Status.DATA_CHECKED)
    return (Status.INCLUDED,)


def _latest_tables(trials: list[Trial]) -> dict[int, HarmonisedTable]:
    """Each trial's newest harmonised table (the current one, which its checks judge), in one query."""
    newest = (
        HarmonisedTable.objects.filter(mapping__trial=OuterRef("mapping__trial"))
        .order_by("-created_at", "-id")
        .values("id")[:1]
    )
    tables = HarmonisedTable.objects.filter(mapping__trial__in=trials, id=Subquery(newest)).select_related("mapping")
    return {table.mapping.trial_id: table for table in tables}


def table_columns(table: HarmonisedTable) -> list[str]:
    """The table's column names, from its Parquet footer (no rows are read, and an object store sends only the
    footer's bytes)."""
    with storage.dataset_storage().open(table.storage_name, "rb") as handle:
        return pq.ParquetFile(handle).schema_arrow.names


def _arm_codes(analysis: Analysis, settings: CheckSettings | None) -> tuple[str, str] | None:
    """(intervention code, control code) as the integrity checks read them: the trial's settings, else the
    schema's two codes."""
    treatment = analysis.treatment
    variable = catalogue.Variable(
        name=treatment.name,
        role=treatment.role,
        type=treatment.type,
        allowed_values=tuple(treatment.allowed_values or ()),
    )
    facts = catalogue.TrialFacts(
        intervention_code=settings.intervention_code if settings else "",
        control_code=settings.control_code if settings else "",
    )
    return catalogue.arm_codes(variable, facts)


def _input_or_reason(analysis: Analysis, trial: Trial, table, settings, needed: list[str]) -> dict | str:
    if table is None:
        return "it has no harmonised table yet; apply its mapping."
    try:
        columns = table_columns(table)
    except (OSError, ValueError) as error:
        return f"its harmonised table #{table.pk} cannot be read ({error}); apply its mapping again."
    missing = [name for name in needed if name not in columns]
    if missing:
        return (
            f"its harmonised table (mapping {table.mapping.number}, revision {table.mapping_revision}) has no "
            f"{', '.join(missing)}; add a rule for {'them' if len(missing) > 1 else 'it'} and apply the mapping."
        )
    codes = _arm_codes(analysis, settings)
    if codes is None:
        return (
            f"the intervention and control codes of {analysis.treatment.name} are not known; give the schema "
            "variable two codes, or set them in the trial's check settings."
        )
    return {
        "trial": trial.pk,
        "harmonised_table": table.pk,
        "sha256": table.sha256,
        "n": table.n_rows,
        "arm_codes": {"intervention": codes[0], "control": codes[1]},
    }


def ipd_inputs(analysis: Analysis) -> tuple[list[dict], list[dict], dict[int, Trial]]:
    """The trials that enter with their tables, and those meant to enter that cannot, with the reason."""
    trials = list(
        Trial.objects.filter(review=analysis.review, status__in=entering_statuses(analysis)).order_by(
            "registry_id", "pk"
        )
    )
    tables = _latest_tables(trials)
    settings = {item.trial_id: item for item in CheckSettings.objects.filter(trial__in=trials)}
    needed = analysis_columns(analysis)
    inputs, left_out = [], []
    for trial in trials:
        planned = _input_or_reason(analysis, trial, tables.get(trial.pk), settings.get(trial.pk), needed)
        if isinstance(planned, str):
            left_out.append({"trial": trial.pk, "label": trial_label(trial), "reason": planned})
        else:
            inputs.append(planned)
    return inputs, left_out, {trial.pk: trial for trial in trials}


def aggregate_candidates(analysis: Analysis) -> list[Trial]:
    """Eligible trials of the review whose IPD the review does not hold; a trial the review team withdrew (for
    its integrity, say) is not one of them."""
    return list(
        Trial.objects.filter(review=analysis.review, is_duplicate=False, status__in=WITHOUT_IPD)
        .exclude(screening_decision=Trial.ScreeningDecision.EXCLUDED)
        .exclude(status=Status.WITHDRAWN, exit_reason=ExitReason.WITHDRAWN_BY_REVIEW)
        .order_by("registry_id", "pk")
    )


def published_effect(trial: Trial, measure: str) -> dict | str:
    """The trial's published primary result on the engine's scale (log for ratios), SE from its 95% CI; or why
    it cannot be used."""
    if trial.result_measure != measure:
        found = trial.result_measure or "no result"
        return f"its published primary result is {found}, not {measure}."
    estimate, low, high = trial.result_estimate, trial.result_ci_low, trial.result_ci_high
    if None in (estimate, low, high):
        return "its published result lacks the estimate or a bound of its 95% CI."
    if not low < high or not low <= estimate <= high:
        return f"its published estimate {estimate:g} and 95% CI {low:g} to {high:g} do not fit together."
    if measure in RATIO_MEASURES:
        if low <= 0:
            return f"its published {measure} has a CI bound at or below 0 ({low:g}), impossible for a ratio."
        estimate, low, high = math.log(estimate), math.log(low), math.log(high)
    return {"estimate": estimate, "se": (high - low) / (2 * Z_95)}


def _primary_mismatch(analysis: Analysis) -> str | None:
    """Published primary results stand for the review's primary outcome only, when it has one."""
    outcome = analysis.outcome
    if outcome.is_primary or not Outcome.objects.filter(review=analysis.review_id, is_primary=True).exists():
        return None
    return f"its published primary result is for the review's primary outcome, not {outcome.name!r}."


def usable_published_effect(analysis: Analysis, trial: Trial, *, has_ipd: bool = False) -> dict | str:
    """The trial's published result as the analysis can use it, or why it cannot. A trial without IPD must have
    aggregate data available by its record; every trial's result must be for this outcome and measure."""
    if not has_ipd and not trial.aggregate_available:
        return "its record says no aggregate data are available."
    return _primary_mismatch(analysis) or published_effect(trial, analysis.measure)


def aggregate_inputs(analysis: Analysis) -> tuple[list[dict], list[dict]]:
    """Published results of the trials without IPD: those usable, and the others with why."""
    rows, left_out = [], []
    for trial in aggregate_candidates(analysis):
        label = trial_label(trial)
        effect = usable_published_effect(analysis, trial)
        if isinstance(effect, str):
            left_out.append({"trial": trial.pk, "label": label, "reason": effect})
        else:
            rows.append({"trial": trial.pk, "label": label, **effect})
    return rows, left_out


def plan(analysis: Analysis, *, with_aggregate: bool | None = None) -> Plan:
    """The run's inputs now; `with_aggregate` overrides the analysis' own choice (the sensitivity family
    always gathers the published results)."""
    analysis = Analysis.objects.select_related(
        "review", "outcome", "treatment", "outcome_variable", "time_variable", "event_variable", "interaction"
    ).get(pk=analysis.pk)
    spec = base_spec(analysis)
    inputs, left_out, trials = ipd_inputs(analysis)
    gather = analysis.aggregate if with_aggregate is None else with_aggregate
    rows, aggregate_left_out = [], []
    if gather:
        rows, aggregate_left_out = aggregate_inputs(analysis)
    if analysis.aggregate and analysis.approach == Approach.TWO_STAGE and rows:
        spec["aggregate"] = [{"trial": str(row["trial"]), "estimate": row["estimate"], "se": row["se"]} for row in rows]
    return Plan(spec, inputs, left_out, rows, aggregate_left_out, trials)
