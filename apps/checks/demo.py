"""The demo review's harmonisation and integrity checks: a trial whose data arrived is mapped to a small common
schema, its harmonised table checked, and every raised finding settled with a note, as a review team would, so
the trial may be marked "data checked". Everything goes through the services and runs the jobs in this process
(the demo is loaded in one transaction, so a job queued there would only be sent once it commits)."""

from apps.checks import services
from apps.checks.models import CLOSED_FINDING_STATUSES, CheckRun, CheckSettings, Finding
from apps.core.errors import ApplicationError
from apps.datasets.models import DatasetVersion
from apps.harmonisation import services as harmonisation
from apps.harmonisation.models import HarmonisedTable, Mapping, SchemaVariable
from apps.harmonisation.selectors import apply_jobs
from apps.jobs.models import Job
from apps.trials.models import Trial

OUTCOME = "DTH30"
# The common schema: one participant id, the randomised arm, two baseline covariates and the primary outcome.
SCHEMA = (
    dict(name="USUBJID", label="Participant identifier", role="participant_id", type="text"),
    dict(
        name="TRT01P",
        label="Randomised arm",
        role="treatment",
        type="category",
        allowed_values=["intervention", "control"],
    ),
    dict(
        name="AGE", label="Age at randomisation", role="covariate", type="integer", unit="year", minimum=18, maximum=100
    ),
    dict(name="SEX", label="Sex", role="covariate", type="category", allowed_values=["female", "male"]),
    dict(name=OUTCOME, label="30-day mortality", role="outcome", type="integer", allowed_values=[0, 1]),
    dict(name="LOS", label="Length of hospital stay", role="outcome", type="integer", unit="day", minimum=0),
)
# target, category, source columns of the demo's participant files, parameters, rationale
RULES = (
    ("USUBJID", "direct", ["participant_id"], {}, ""),
    (
        "TRT01P",
        "treatment_arms",
        ["arm"],
        {"arms": {"steroid": "intervention", "control": "control"}},
        "Corticosteroid arm is the intervention; placebo or usual care the control.",
    ),
    ("AGE", "direct", ["age"], {}, "Age in completed years at randomisation."),
    ("SEX", "recode", ["sex"], {"map": {"F": "female", "M": "male"}}, "The trial codes sex as F/M."),
    (OUTCOME, "direct", ["died_30d"], {}, "Death from any cause within 30 days of randomisation (1 = died)."),
    ("LOS", "direct", ["los_days"], {}, "Days from randomisation to discharge, as recorded."),
)
# How the review team settled each kind of finding in the demo.
NOTES = {
    "arm_sizes": "Arm sizes differ from the paper by post-randomisation exclusions; confirmed with the trial team.",
    "allocation_ratio": "Within what 1:1 block randomisation gives; the trial statistician confirmed the scheme.",
    "allocation_runs": "Alternating allocation list confirmed by the trial team; concealment judged in risk of bias.",
    "baseline_balance": "Chance imbalance in a baseline covariate; adjusted for in the analysis.",
    "baseline_missingness": "Missing baseline values explained by the trial team; no action needed.",
    "outcome_missingness": "Missing outcomes are losses to follow-up reported in the paper.",
    "primary_result": (
        "The paper reports an odds ratio adjusted for severity and age, further from 1 than the unadjusted one these "
        "data give; the trial team confirmed both. Accepted: the analyses pool the unadjusted estimate."
    ),
    "ranges": "Out-of-range values queried and confirmed as recorded in the case report forms.",
}
DEFAULT_NOTE = "Queried with the trial team, who confirmed the values as recorded; accepted as they stand."


def demo_harmonise_and_check(*, trial: Trial, version: DatasetVersion, actor) -> None:
    """Map `version` to the demo schema, apply it, check the table and resolve what the checks raise.

    Safe to call again: rules, table, run and resolutions already there are reused, nothing is added.
    """
    targets = _ensure_schema(trial, actor)
    _ensure_check_settings(trial, actor)
    mapping = _ensure_mapping(trial, version, targets, actor)
    table = _ensure_table(mapping, actor)
    run = _ensure_run(table, actor)
    _resolve_findings(run, actor)


def _ensure_schema(trial: Trial, actor) -> dict[str, SchemaVariable]:
    existing = {variable.name: variable for variable in SchemaVariable.objects.filter(review=trial.review)}
    for spec in SCHEMA:
        if spec["name"] not in existing:
            existing[spec["name"]] = harmonisation.schema_variable_create(review=trial.review, actor=actor, **spec)
    return existing


def _ensure_check_settings(trial: Trial, actor) -> None:
    # The primary outcome is named so that the published odds ratio is re-derived from it.
    if not CheckSettings.objects.filter(trial=trial).exists():
        services.check_settings_update(trial=trial, actor=actor, data={"primary_outcome": OUTCOME})


def _ensure_mapping(trial: Trial, version: DatasetVersion, targets: dict, actor) -> Mapping:
    mapping = trial.mappings.filter(source_version=version).order_by("number").first()
    if mapping is None:
        mapping = harmonisation.mapping_create(
            trial=trial, source_version=version, actor=actor, note="Mapping of the participant file to the schema."
        )
    for target, category, sources, parameters, rationale in RULES:
        # An unchanged rule is returned as it stands: no new revision.
        harmonisation.mapping_rule_set(
            mapping=mapping,
            target=targets[target],
            actor=actor,
            category=category,
            source_variables=sources,
            parameters=parameters,
            rationale=rationale,
        )
    mapping.refresh_from_db()
    return mapping


def _ensure_table(mapping: Mapping, actor) -> HarmonisedTable:
    table = _current_table(mapping)
    if table is not None:
        return table
    job = apply_jobs(mapping).filter(state=Job.State.QUEUED).order_by("id").first()
    if job is None:
        job = harmonisation.mapping_apply(mapping=mapping, actor=actor)
    harmonisation.mapping_apply_run(job.pk)  # does nothing when the job already ran in this process
    table = _current_table(mapping)
    if table is None:
        job.refresh_from_db()
        raise ApplicationError(f"The demo mapping {mapping.pk} could not be applied: {job.error or job.state}.")
    return table


def _current_table(mapping: Mapping) -> HarmonisedTable | None:
    return (
        HarmonisedTable.objects.filter(mapping=mapping, mapping_revision=mapping.revision)
        .order_by("-created_at", "-id")
        .first()
    )


def _ensure_run(table: HarmonisedTable, actor) -> CheckRun:
    # Automatic scheduling returns the table's run when there is one, so a second call adds none.
    run = services.check_run_schedule(table=table, actor=actor)
    if run.state == CheckRun.State.QUEUED and run.job_id:
        services.check_run_execute(run.job_id)
        run.refresh_from_db()
    if run.state != CheckRun.State.SUCCEEDED:
        raise ApplicationError(f"The demo check run #{run.pk} did not succeed: {run.error or run.state}.")
    return run


def _resolve_findings(run: CheckRun, actor) -> None:
    findings = (
        Finding.objects.filter(result__run=run, result__status__in=services.RAISED)
        .exclude(status__in=CLOSED_FINDING_STATUSES)
        .select_related("result")
        .order_by("result__position")
    )
    for finding in findings:
        services.finding_resolve(finding=finding, actor=actor, note=NOTES.get(finding.result.code, DEFAULT_NOTE))
