"""Reads for integrity checks: the inputs of a run, the latest results per trial, the review's integrity summary."""

import dataclasses
import datetime
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from django.conf import settings as django_settings
from django.db.models import OuterRef, QuerySet, Subquery

from apps.checks import catalogue
from apps.checks.models import CLOSED_FINDING_STATUSES, CheckResult, CheckRun, CheckSettings, Finding
from apps.core.errors import ApplicationError
from apps.datasets.models import DatasetVersion
from apps.datasets.storage import dataset_storage
from apps.harmonisation.models import HarmonisedTable, Mapping, SchemaVariable
from apps.harmonisation.rules import FLAG_SUFFIX
from apps.reviews.models import Review
from apps.trials.models import Trial

PAGE_ROWS = 200


def json_safe(value):
    """Plain JSON: numpy numbers become Python ones, NaN and infinities null, dates ISO text."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(item) for item in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------------- inputs


def latest_table(trial: Trial) -> HarmonisedTable | None:
    return (
        HarmonisedTable.objects.filter(mapping__trial=trial)
        .select_related("mapping")
        .order_by("-created_at", "-id")
        .first()
    )


def table_frame(table: HarmonisedTable, columns: list[str] | None = None) -> pd.DataFrame:
    # Through the storage, not a local path: the worker need not share the web process's disk.
    with dataset_storage().open(table.storage_name, "rb") as handle:
        return pd.read_parquet(handle, columns=columns)


def check_frame(table: HarmonisedTable) -> pd.DataFrame:
    """The table without its flag columns, which no check reads."""
    with dataset_storage().open(table.storage_name, "rb") as handle:
        names = pq.read_schema(handle).names
    return table_frame(table, [name for name in names if not name.endswith(FLAG_SUFFIX)])


def schema_variables(review: Review) -> list[catalogue.Variable]:
    return [
        catalogue.Variable(
            name=variable.name,
            role=variable.role,
            type=variable.type,
            unit=variable.unit,
            allowed_values=tuple(variable.allowed_values or ()),
            minimum=variable.minimum,
            maximum=variable.maximum,
        )
        for variable in SchemaVariable.objects.filter(review=review).order_by("position", "name")
    ]


def check_settings(trial: Trial) -> CheckSettings:
    """The trial's settings, or unsaved defaults."""
    return CheckSettings.objects.filter(trial=trial).first() or CheckSettings(trial=trial)


def trial_facts(trial: Trial) -> catalogue.TrialFacts:
    settings = check_settings(trial)
    return catalogue.TrialFacts(
        smd_warning=django_settings.CHECKS_SMD_WARNING,
        smd_fail=django_settings.CHECKS_SMD_FAIL,
        measure=trial.result_measure,
        estimate=trial.result_estimate,
        ci_low=trial.result_ci_low,
        ci_high=trial.result_ci_high,
        n_intervention=trial.result_n_intervention,
        n_control=trial.result_n_control,
        allocation_ratio=settings.allocation_ratio or 1.0,
        recruitment_start=settings.recruitment_start,
        recruitment_end=settings.recruitment_end,
        data_cutoff=settings.data_cutoff,
        ids_sequential=settings.ids_sequential,
        intervention_code=settings.intervention_code,
        control_code=settings.control_code,
        primary_outcome=settings.primary_outcome,
    )


def facts_as_json(facts: catalogue.TrialFacts) -> dict:
    return json_safe(dataclasses.asdict(facts))


# --------------------------------------------------------------------------------------------------- runs


def latest_run(trial: Trial) -> CheckRun | None:
    """The newest run that finished: the one whose findings stand."""
    return (
        CheckRun.objects.filter(trial=trial, state=CheckRun.State.SUCCEEDED)
        .select_related("harmonised_table")
        .order_by("-created_at", "-id")
        .first()
    )


def run_results(run: CheckRun) -> list[CheckResult]:
    return list(run.results.select_related("finding"))


@dataclasses.dataclass(frozen=True)
class DataCheckState:
    """Where the trial's newest harmonised table stands with its checks; `code` is one of the names below."""

    code: str
    message: str
    table: HarmonisedTable | None = None
    run: CheckRun | None = None
    unresolved: tuple[Finding, ...] = ()
    out_of_date: "OutOfDate | None" = None

    @property
    def checked(self) -> bool:
        return self.code == CHECKED


@dataclasses.dataclass(frozen=True)
class OutOfDate:
    """Newer data or rules than the checked table: why, and what to do (`action` names it for the API)."""

    reason: str
    action: str
    mapping: Mapping

    def as_data(self) -> dict:
        return {"reason": self.reason, "action": self.action, "mapping": self.mapping.pk}


REAPPLY = "reapply_mapping"
APPLY_NEWER = "apply_newer_mapping"
MAP_NEWER_VERSION = "map_newer_version"
AWAIT_PARSE = "await_parse"


def _read_again(table: HarmonisedTable, version: DatasetVersion) -> OutOfDate | None:
    """Whether the table's version was read again (with new declarations) after the table was built."""
    mapping = table.mapping
    if version.status != DatasetVersion.Status.PARSED:
        if version.status == DatasetVersion.Status.FAILED:
            reason = (
                f"Version {version.number} of the data was read again with new declarations (missing codes, date "
                f"formats) and the reading failed; parse it again, then apply mapping {mapping.number} again."
            )
        else:
            reason = (
                f"Version {version.number} of the data is being read again with new declarations (missing codes, "
                f"date formats); once it is parsed, apply mapping {mapping.number} again: its new table is then "
                "checked."
            )
        return OutOfDate(reason, AWAIT_PARSE, mapping)
    recorded = table.input_hashes.get("parsed_table")
    # Tables built before their input named the parsed table: read again if parsed after the table was made.
    changed = (
        recorded != version.parquet_name
        if recorded is not None
        else version.parsed_at is not None and version.parsed_at > table.created_at
    )
    if not changed:
        return None
    return OutOfDate(
        f"Version {version.number} of the data was read again with new declarations (missing codes, date formats) "
        f"after the checked table was built. Apply mapping {mapping.number} again: its new table is then checked.",
        REAPPLY,
        mapping,
    )


def out_of_date(trial: Trial, table: HarmonisedTable | None) -> OutOfDate | None:
    """Whether a newer parsed version, the version read again with new declarations, or rules changed after the
    apply, leave the checks behind the data."""
    if table is None:
        return None
    mapping = table.mapping
    version = mapping.source_version
    newer = (
        DatasetVersion.objects.filter(trial=trial, status=DatasetVersion.Status.PARSED, number__gt=version.number)
        .order_by("-number")
        .first()
    )
    newer_mapping = trial.mappings.filter(number__gt=mapping.number, revision__gt=0).order_by("-number").first()
    if newer_mapping is not None:
        return OutOfDate(
            f"Mapping {newer_mapping.number} has rules that were never applied; the checks describe mapping "
            f"{mapping.number}. Apply mapping {newer_mapping.number}: its table is then checked.",
            APPLY_NEWER,
            newer_mapping,
        )
    if newer is not None:
        return OutOfDate(
            f"Version {newer.number} of the data was parsed after the checked table, which comes from version "
            f"{version.number}. Start a mapping of version {newer.number} (copying the rules of mapping "
            f"{mapping.number}) and apply it: its table is then checked.",
            MAP_NEWER_VERSION,
            mapping,
        )
    read_again = _read_again(table, version)
    if read_again is not None:
        return read_again
    if mapping.revision > table.mapping_revision:
        return OutOfDate(
            f"The rules of mapping {mapping.number} changed after it was applied (revision "
            f"{table.mapping_revision}, now {mapping.revision}). Re-apply the mapping: its new table is then checked.",
            REAPPLY,
            mapping,
        )
    return None


NO_TABLE = "no_harmonised_table"
NEVER_CHECKED = "never_checked"
CHECKS_RUNNING = "checks_running"
RUN_FAILED = "check_run_failed"
UNRESOLVED = "unresolved_findings"
CHECKED = "checked"


def _failed_checks_unresolved(count: int, run: CheckRun) -> str:
    if count == 1:
        return f"1 failed check of run #{run.pk} is unresolved"
    return f"{count} failed checks of run #{run.pk} are unresolved"


def data_check_state(trial: Trial) -> DataCheckState:
    """Judge the newest harmonised table by its newest check run: older tables' runs no longer speak for the data."""
    table = latest_table(trial)
    if table is None:
        return DataCheckState(NO_TABLE, "the trial has no harmonised table yet; apply its mapping, then check it.")
    name = f"the newest harmonised table (mapping {table.mapping.number}, revision {table.mapping_revision})"
    behind = out_of_date(trial, table)
    run = table.check_runs.order_by("-created_at", "-id").first()
    if run is None:
        return DataCheckState(
            NEVER_CHECKED, f"{name} has never been checked; run the checks.", table, out_of_date=behind
        )
    if run.state in (CheckRun.State.QUEUED, CheckRun.State.RUNNING):
        return DataCheckState(
            CHECKS_RUNNING,
            f"the checks of {name} are still {run.get_state_display().lower()} (run #{run.pk}); wait for them.",
            table,
            run,
            out_of_date=behind,
        )
    if run.state == CheckRun.State.FAILED:
        reason = run.error or "no reason was recorded"
        return DataCheckState(
            RUN_FAILED,
            f"the check run #{run.pk} of {name} failed ({reason}); run the checks again.",
            table,
            run,
            out_of_date=behind,
        )
    unresolved = tuple(
        Finding.objects.filter(result__run=run, result__status=CheckResult.Status.FAIL)
        .exclude(status__in=CLOSED_FINDING_STATUSES)
        .select_related("result", "result__run")
        .order_by("result__position")
    )
    if unresolved:
        message = f"{_failed_checks_unresolved(len(unresolved), run)}; resolve each with a note."
        return DataCheckState(UNRESOLVED, message, table, run, unresolved, out_of_date=behind)
    message = f"run #{run.pk} on {name} has no unresolved failed check."
    return DataCheckState(CHECKED, message, table, run, out_of_date=behind)


def check_states(trials) -> dict[int, DataCheckState]:
    """Each trial's check state as data_check_state judges it (newest table, its newest run, the unresolved
    failures), for many trials in a constant number of queries; without the out-of-date reasons."""
    newest_table = HarmonisedTable.objects.filter(mapping__trial=OuterRef("mapping__trial")).order_by(
        "-created_at", "-id"
    )
    tables = HarmonisedTable.objects.filter(mapping__trial__in=trials, id=Subquery(newest_table.values("id")[:1]))
    tables = {table.mapping.trial_id: table for table in tables.select_related("mapping")}
    newest_run = CheckRun.objects.filter(harmonised_table=OuterRef("harmonised_table")).order_by("-created_at", "-id")
    runs = CheckRun.objects.filter(harmonised_table__in=list(tables.values()), id=Subquery(newest_run.values("id")[:1]))
    runs = {run.harmonised_table_id: run for run in runs}
    unresolved: dict[int, list[Finding]] = {}
    failing = (
        Finding.objects.filter(result__run__in=list(runs.values()), result__status=CheckResult.Status.FAIL)
        .exclude(status__in=CLOSED_FINDING_STATUSES)
        .select_related("result", "result__run")
        .order_by("result__position")
    )
    for finding in failing:
        unresolved.setdefault(finding.result.run_id, []).append(finding)
    return {trial.pk: _state_of(tables.get(trial.pk), runs, unresolved) for trial in trials}


def _state_of(table: HarmonisedTable | None, runs: dict, unresolved: dict) -> DataCheckState:
    if table is None:
        return DataCheckState(NO_TABLE, "the trial has no harmonised table yet.")
    run = runs.get(table.pk)
    if run is None:
        return DataCheckState(NEVER_CHECKED, "its newest harmonised table has never been checked.", table)
    if run.state in (CheckRun.State.QUEUED, CheckRun.State.RUNNING):
        return DataCheckState(CHECKS_RUNNING, f"the checks of run #{run.pk} are still running.", table, run)
    if run.state == CheckRun.State.FAILED:
        return DataCheckState(RUN_FAILED, f"the check run #{run.pk} failed.", table, run)
    findings = tuple(unresolved.get(run.pk, ()))
    if findings:
        message = f"{_failed_checks_unresolved(len(findings), run)}."
        return DataCheckState(UNRESOLVED, message, table, run, findings)
    return DataCheckState(CHECKED, f"run #{run.pk} has no unresolved failed check.", table, run)


def unresolved_failures(trial: Trial) -> list[Finding]:
    """The unresolved failed checks of the newest table's newest run: they hold back "data checked".

    Raises a 409 ApplicationError saying what is missing when there is no such run to judge by: no harmonised
    table, never checked, checks still queued or running, or the run failed.
    """
    state = data_check_state(trial)
    if state.code in (NO_TABLE, NEVER_CHECKED, CHECKS_RUNNING, RUN_FAILED):
        raise ApplicationError(
            f"to_status: the data cannot be marked checked: {state.message}",
            code=state.code,
            status=409,
            details={"to_status": [state.message]},
        )
    return list(state.unresolved)


def affected_rows(result: CheckResult, *, limit: int | None = PAGE_ROWS) -> pd.DataFrame:
    """The rows of the harmonised table the result concerns (its stored ids), in table order."""
    ids = [int(row_id) for row_id in (result.affected_row_ids[:limit] if limit else result.affected_row_ids)]
    table = result.run.harmonised_table
    with dataset_storage().open(table.storage_name, "rb") as handle:
        names = pq.read_schema(handle).names
    if catalogue.ROW_ID not in names:
        frame = table_frame(table)
        return frame.iloc[np.asarray(ids, dtype=np.int64) - 1]
    # Only the matching rows are materialised, whatever the size of the table.
    with dataset_storage().open(table.storage_name, "rb") as handle:
        return pd.read_parquet(handle, filters=[(catalogue.ROW_ID, "in", ids or [0])])


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: missing values None, timestamps as dates or ISO text."""
    records = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
        records.append({key: _cell(value) for key, value in row.items()})
    return records


def _cell(value):
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return json_safe(value)


# --------------------------------------------------------------------------------------------------- review summary


def review_integrity(review: Review, trials: QuerySet[Trial]) -> dict:
    """The integrity page: trials by checks, the PRISMA-IPD counts, and the re-derivation table."""
    trials = list(trials.filter(review=review).order_by("title", "id"))
    rows, rederived = [], []
    counts = {
        "trials": len(trials),
        "trials_checked": 0,
        "trials_with_issues": 0,
        "issues": 0,
        "issues_resolved": 0,
        "trials_out_of_date": 0,
    }
    for trial in trials:
        state = data_check_state(trial)
        counts["trials_out_of_date"] += state.out_of_date is not None
        run = latest_run(trial)
        if run is None:
            rows.append({"trial": trial, "run": None, "statuses": {}, "state": state})
            continue
        results = list(run.results.select_related("finding"))
        statuses = {result.code: result for result in results}
        findings = [result.finding for result in results if hasattr(result, "finding")]
        counts["trials_checked"] += 1
        counts["trials_with_issues"] += bool(findings)
        counts["issues"] += len(findings)
        counts["issues_resolved"] += sum(finding.is_closed for finding in findings)
        rows.append({"trial": trial, "run": run, "statuses": statuses, "open": _open_count(findings), "state": state})
        primary = statuses.get("primary_result")
        if primary is not None and primary.status != CheckResult.Status.NOT_APPLICABLE:
            rederived.append({"trial": trial, "result": primary, **_rederivation(primary)})
    codes = [
        {
            "code": code,
            "title": title,
            "short": CATALOGUE_SHORT_TITLES.get(code, title),
            "full": CATALOGUE_FULL_TITLES.get(code, title),
        }
        for code, title in catalogue_titles()
    ]
    return {"rows": rows, "codes": codes, "counts": counts, "rederived": rederived}


def _open_count(findings: list[Finding]) -> int:
    return sum(not finding.is_closed for finding in findings)


def _rederivation(result: CheckResult) -> dict:
    figures = result.figures or {}
    return {
        "measure": figures.get("measure"),
        "published": figures.get("published") or {},
        "recomputed": figures.get("recomputed") or {},
        "difference": figures.get("difference"),
        "relative_difference": figures.get("relative_difference"),
        "verdict": figures.get("verdict") or "not computed",
    }


def catalogue_titles() -> list[tuple[str, str]]:
    return list(CATALOGUE_TITLES.items())


CATALOGUE_TITLES = {
    "ids_missing": "Ids present",
    "ids_duplicated": "Ids unique",
    "treatment_codes": "Treatment codes",
    "arm_sizes": "Arm sizes",
    "allocation_ratio": "Allocation ratio",
    "randomisation_period": "Randomisation period",
    "randomisation_order": "Randomisation order",
    "allocation_runs": "Runs of one arm",
    "baseline_balance": "Baseline balance",
    "baseline_missingness": "Baseline missingness",
    "ranges": "Ranges and codes",
    "dates_before_randomisation": "Dates after randomisation",
    "after_data_cutoff": "Data cut-off",
    "event_times": "Event times",
    "follow_up": "Follow-up",
    "outcome_missingness": "Outcome missingness",
    "primary_result": "Primary result",
}


# Column headings of the integrity matrix, short enough for seventeen columns on a laptop's screen; the heading
# carries the full title for those who hover, and the page lists them in full.
CATALOGUE_SHORT_TITLES = {
    "ids_missing": "Ids",
    "ids_duplicated": "Ids unique",
    "treatment_codes": "Arm codes",
    "arm_sizes": "Arm sizes",
    "allocation_ratio": "Ratio",
    "randomisation_period": "Rand. period",
    "randomisation_order": "Rand. order",
    "allocation_runs": "Runs",
    "baseline_balance": "Balance",
    "baseline_missingness": "Baseline missing",
    "ranges": "Ranges",
    "dates_before_randomisation": "Dates",
    "after_data_cutoff": "Cut-off",
    "event_times": "Event times",
    "follow_up": "Follow-up",
    "outcome_missingness": "Outcome missing",
    "primary_result": "Primary result",
}


# Each check's own title, as its result carries it; the matrix's headings name them in full.
CATALOGUE_FULL_TITLES = {
    "ids_missing": "Participant ids present",
    "ids_duplicated": "Participant ids unique",
    "treatment_codes": "Treatment codes",
    "arm_sizes": "Arm sizes against the publication",
    "allocation_ratio": "Allocation ratio",
    "randomisation_period": "Randomisation dates within recruitment",
    "randomisation_order": "Randomisation dates in id order",
    "allocation_runs": "Runs of one arm",
    "baseline_balance": "Baseline balance",
    "baseline_missingness": "Baseline missingness by arm",
    "ranges": "Values within the schema's ranges and codes",
    "dates_before_randomisation": "Events after randomisation",
    "after_data_cutoff": "Follow-up within the data cut-off",
    "event_times": "Event times positive",
    "follow_up": "Follow-up by arm",
    "outcome_missingness": "Outcome missingness by arm",
    "primary_result": "Published primary result re-derived",
}


def integrity_as_data(summary: dict) -> dict:
    """The integrity summary as plain data for the API."""
    return {
        "counts": summary["counts"],
        "trials": [
            {
                "trial": row["trial"].pk,
                "title": str(row["trial"]),
                "run": row["run"].pk if row["run"] else None,
                "statuses": {code: result.status for code, result in row["statuses"].items()},
                "open_findings": row.get("open", 0),
                "check_state": row["state"].code,
                "check_message": row["state"].message,
                "out_of_date": row["state"].out_of_date.as_data() if row["state"].out_of_date else None,
            }
            for row in summary["rows"]
        ],
        "rederivation": [
            {key: value for key, value in row.items() if key not in ("trial", "result")} | {"trial": row["trial"].pk}
            for row in summary["rederived"]
        ],
    }


def check_state_data(state: DataCheckState) -> dict:
    """A trial's check state as plain data for the API."""
    return {
        "check_state": state.code,
        "check_message": state.message,
        "harmonised_table": state.table.pk if state.table else None,
        "run": state.run.pk if state.run else None,
        "unresolved_findings": [finding.pk for finding in state.unresolved],
        "out_of_date": state.out_of_date.as_data() if state.out_of_date else None,
    }


def affected_rows_data(result: CheckResult, *, limit: int) -> dict:
    frame = affected_rows(result, limit=limit)
    return {
        "result": result.pk,
        "affected_count": result.affected_count,
        "shown": len(frame),
        "columns": list(frame.columns),
        "rows": frame_records(frame),
    }
