"""Writes for integrity checks: scheduling and running the catalogue, and working findings through to resolution.

Every state change of a run or a finding writes an audit event in the same transaction.
"""

import time

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.checks import catalogue, selectors
from apps.checks.models import CLOSED_FINDING_STATUSES, CheckResult, CheckRun, CheckSettings, Finding, QueryMessage
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.core.services import assign_fields, audit_record, save_and_audit, snapshot, validate
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.context import JobContext
from apps.jobs.errors import JobInputError
from apps.jobs.models import Job
from apps.jobs.services import job_create, job_run
from apps.trials.models import Trial

CHECK_KIND = "integrity_checks"
CHECK_TASK = "apps.checks.tasks.check_run_task"
CODE_VERSION = "checks-1"
# A result keeps at most this many affected row ids; its count says how many there were in all.
AFFECTED_IDS_STORED = 50_000
# Findings are raised for these statuses; only failures hold a trial back from "data checked".
RAISED = (CheckResult.Status.FAIL, CheckResult.Status.WARNING)
SETTINGS_FIELDS = (
    "recruitment_start",
    "recruitment_end",
    "data_cutoff",
    "ids_sequential",
    "allocation_ratio",
    "intervention_code",
    "control_code",
    "primary_outcome",
)


def check_queue() -> str:
    """A queue to send check jobs to instead of the routed one (`checks`); set to isolate a worker."""
    return settings.CHECKS_QUEUE


def _person(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --------------------------------------------------------------------------------------------------- runs


@transaction.atomic
def check_run_schedule(*, table: HarmonisedTable, actor=None, trigger: str = CheckRun.Trigger.AUTOMATIC) -> CheckRun:
    """Queue the catalogue on a harmonised table.

    Automatic scheduling is idempotent: a table already checked, or being checked, is not queued again.
    On demand always queues a new run (the trial's settings may have changed since).
    """
    # The table row is locked first, so two schedulers cannot both find no run and both insert one.
    HarmonisedTable.objects.select_for_update().filter(pk=table.pk).first()
    table = HarmonisedTable.objects.select_related("mapping__trial__review").get(pk=table.pk)
    trial = table.mapping.trial
    if trigger == CheckRun.Trigger.AUTOMATIC:
        existing = CheckRun.objects.filter(harmonised_table=table).exclude(state=CheckRun.State.FAILED).first()
        if existing is not None:
            return existing
    run = CheckRun.objects.create(
        review=trial.review,
        trial=trial,
        harmonised_table=table,
        trigger=trigger,
        code_version=CODE_VERSION,
        created_by=_person(actor),
    )
    run.job = job_create(
        kind=CHECK_KIND,
        task=CHECK_TASK,
        target=run,
        actor=actor,
        review=trial.review,
        trial=trial,
        queue=check_queue(),
    )
    run.save(update_fields=["job"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=run,
        after=snapshot(run),
        review=trial.review,
        trial=trial,
    )
    return run


def check_run_start(*, trial: Trial, actor) -> CheckRun:
    """Check the trial's newest harmonised table now."""
    table = selectors.latest_table(trial)
    if table is None:
        raise ApplicationError(
            "This trial has no harmonised table yet; apply its mapping first, then run the checks.",
            code="no_harmonised_table",
            status=409,
        )
    return check_run_schedule(table=table, actor=actor, trigger=CheckRun.Trigger.ON_DEMAND)


def schedule_after_harmonisation(table_id: int) -> None:
    """Called once a harmonised table is committed: check it."""
    table = HarmonisedTable.objects.filter(pk=table_id).first()
    if table is not None:
        check_run_schedule(table=table, actor=table.created_by)


def check_run_follow_job(job: Job) -> None:
    """Keep the run's state in step with its job's (called inside the job's transaction)."""
    run = CheckRun.objects.select_for_update().filter(job=job).first()
    if run is None or run.state == job.state:
        return
    before = snapshot(run)
    run.state = job.state
    run.error = job.error
    if job.state == Job.State.RUNNING:
        run.started_at = job.started_at
    if job.is_finished:
        run.finished_at = job.finished_at
    save_and_audit(
        run,
        actor=None,
        action=AuditEvent.Action.TRANSITION,
        before=before,
        review=run.review,
        trial=run.trial,
        fields=["state", "error", "started_at", "finished_at"],
    )


def check_run_execute(job_id: int) -> Job | None:
    """The check job's body, run by the Celery task; a second delivery of the same job does nothing."""
    return job_run(job_id, _check_work)


def _check_work(context: JobContext) -> dict:
    run = (
        CheckRun.objects.select_related("trial", "review", "harmonised_table").filter(pk=context.job.target_id).first()
    )
    if run is None:
        raise JobInputError("The check run this job was for no longer exists.")
    started = time.monotonic()
    context.progress(2, "Reading the harmonised table")
    try:
        frame = selectors.check_frame(run.harmonised_table)
    except (OSError, ValueError) as error:
        raise JobInputError(f"The harmonised table's file cannot be read ({error}); apply the mapping again.")
    data = catalogue.CheckInput(frame, selectors.schema_variables(run.review), selectors.trial_facts(run.trial))
    total = len(catalogue.CATALOGUE)

    def progress(done: int, title: str) -> None:
        context.progress(5 + int(90 * done / total), f"Checked: {title}")

    outcomes = catalogue.run_catalogue(data, progress)
    context.progress(96, "Storing the results")
    stored = _store_results(
        run, context.job, outcomes, facts=selectors.facts_as_json(data.facts), rows=len(frame), started=started
    )
    return {"check_run": run.pk, "rows": len(frame), **stored}


@transaction.atomic
def _store_results(run: CheckRun, job: Job, outcomes, *, facts: dict, rows: int, started: float) -> dict:
    # Only the attempt that still holds the job writes; a retried attempt replaces what an earlier one left.
    if not Job.objects.select_for_update().filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts).exists():
        return {}
    run.results.all().delete()
    results = CheckResult.objects.bulk_create(
        [_result(run, position, outcome) for position, outcome in enumerate(outcomes)]
    )
    settled = _resolved_on_same_data(run)
    Finding.objects.bulk_create(
        [
            _finding(run, result, settled.get((result.code, result.sentence)))
            for result in results
            if result.status in RAISED
        ]
    )
    _supersede_passed(run, [result for result in results if result.status == CheckResult.Status.PASS])
    _supersede_older_tables(run)
    run.engine_version = catalogue.engine.ENGINE_VERSION
    run.settings_used = facts
    run.n_rows = rows
    run.seconds = round(time.monotonic() - started, 3)
    run.save(update_fields=["engine_version", "settings_used", "n_rows", "seconds"])
    counts = {status: sum(1 for result in results if result.status == status) for status in CheckResult.Status.values}
    return {"counts": counts}


def _supersede_passed(run: CheckRun, passed: list[CheckResult]) -> None:
    """Close the open findings of earlier runs on the same table content for the checks that now pass, each
    as superseded by this run, with an audit event (no person acted)."""
    if not passed:
        return
    earlier = (
        Finding.objects.select_for_update()
        .filter(
            trial=run.trial,
            result__code__in=[result.code for result in passed],
            result__run__harmonised_table__sha256=run.harmonised_table.sha256,
            result__run__pk__lt=run.pk,
        )
        .exclude(status__in=CLOSED_FINDING_STATUSES)
        .select_related("trial__review", "result")
    )
    _supersede(earlier, run, f"Superseded by run {run.pk}: the check passed on the same harmonised table.")


def _supersede_older_tables(run: CheckRun) -> None:
    """Close the open findings of the trial's older harmonised tables once its newest table has been checked: the
    trial is judged by that table now (apps.checks.selectors.data_check_state), and what the new data still show
    is raised again by this run. A finding the trial team has answered stays, for a person to close."""
    table = run.harmonised_table
    if selectors.latest_table(run.trial) != table:
        return  # a run on an older table speaks for nothing newer
    older = (
        Finding.objects.select_for_update()
        .filter(trial=run.trial)
        .exclude(result__run__harmonised_table__sha256=table.sha256)
        .filter(result__run__harmonised_table__created_at__lt=table.created_at, status=Finding.Status.OPEN)
        .select_related("trial__review", "result")
    )
    note = (
        f"Superseded by run {run.pk} on a newer harmonised table (#{table.pk}): the trial is judged by that table "
        "now, and what its data still show is raised there."
    )
    _supersede(older, run, note)


def _supersede(findings, run: CheckRun, note: str) -> None:
    """Mark each finding superseded by `run`, with an audit event (no person acted)."""
    now = timezone.now()
    for finding in findings:
        before = snapshot(finding)
        finding.status = Finding.Status.SUPERSEDED
        finding.superseded_by_run = run
        finding.resolved_at = now
        finding.resolution_note = note
        save_and_audit(
            finding,
            actor=None,
            action=AuditEvent.Action.TRANSITION,
            before=before,
            review=finding.trial.review,
            trial=finding.trial,
            fields=["status", "superseded_by_run", "resolved_at", "resolution_note", "updated_at"],
        )


def _resolved_on_same_data(run: CheckRun) -> dict[tuple[str, str], Finding]:
    """Resolved findings of earlier runs on the same table content, by (check, sentence): a rerun that finds
    exactly the same thing keeps its resolution rather than asking the same question again."""
    earlier = (
        Finding.objects.filter(
            trial=run.trial,
            status=Finding.Status.RESOLVED,
            result__run__harmonised_table__sha256=run.harmonised_table.sha256,
        )
        .exclude(result__run=run)
        .select_related("result", "resolved_by")
        .order_by("resolved_at")
    )
    return {(finding.result.code, finding.result.sentence): finding for finding in earlier}


def _finding(run: CheckRun, result: CheckResult, settled: Finding | None) -> Finding:
    if settled is None:
        return Finding(result=result, trial=run.trial)
    return Finding(
        result=result,
        trial=run.trial,
        status=Finding.Status.RESOLVED,
        resolution_note=(
            f"As resolved in finding #{settled.pk} (run #{settled.result.run_id}): {settled.resolution_note}"
        ),
        resolved_by=settled.resolved_by,
        resolved_at=settled.resolved_at,
    )


def _result(run: CheckRun, position: int, outcome: catalogue.CheckOutcome) -> CheckResult:
    affected = np.asarray(outcome.affected, dtype=np.int64)
    return CheckResult(
        run=run,
        position=position,
        code=outcome.code,
        title=outcome.title,
        status=outcome.status,
        sentence=outcome.sentence,
        figures=selectors.json_safe(outcome.figures),
        affected_row_ids=affected[:AFFECTED_IDS_STORED].tolist(),
        affected_count=int(len(affected)),
    )


# --------------------------------------------------------------------------------------------------- settings


@transaction.atomic
def check_settings_update(*, trial: Trial, actor, data: dict) -> CheckSettings:
    current, created = CheckSettings.objects.select_for_update().get_or_create(trial=trial)
    before = None if created else snapshot(current)
    changed = assign_fields(instance=current, data=data, allowed=SETTINGS_FIELDS)
    validate(current)
    if current.recruitment_start and current.recruitment_end and current.recruitment_start > current.recruitment_end:
        raise ApplicationError(
            "recruitment_end: The recruitment period ends before it starts.",
            details={"recruitment_end": ["The recruitment period ends before it starts."]},
        )
    if current.allocation_ratio is not None and current.allocation_ratio <= 0:
        raise ApplicationError(
            "allocation_ratio: The allocation ratio must be above zero.",
            details={"allocation_ratio": ["The allocation ratio must be above zero."]},
        )
    if (current.intervention_code == "") != (current.control_code == ""):
        raise ApplicationError(
            "control_code: Give both arm codes, or neither to read them from the schema.",
            details={"control_code": ["Give both arm codes, or neither."]},
        )
    if changed or created:
        save_and_audit(
            current,
            actor=actor,
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            before=before,
            review=trial.review,
            trial=trial,
        )
    return current


# --------------------------------------------------------------------------------------------------- findings


def _set_status(finding: Finding, status: str, *, actor, **fields) -> None:
    before = snapshot(finding)
    finding.status = status
    for name, value in fields.items():
        setattr(finding, name, value)
    save_and_audit(
        finding,
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        before=before,
        review=finding.trial.review,
        trial=finding.trial,
    )


@transaction.atomic
def finding_reply(*, finding: Finding, actor, body: str, from_trial_team: bool) -> QueryMessage:
    """Add a message to the thread: the trial team's reply marks it answered, the review team's reopens it."""
    finding = Finding.objects.select_for_update().select_related("trial__review").get(pk=finding.pk)
    body = (body or "").strip()
    if not body:
        raise ApplicationError("body: Write a message.", details={"body": ["Write a message."]})
    if finding.status in CLOSED_FINDING_STATUSES:
        raise ApplicationError(
            f"This finding is {finding.get_status_display().lower()}; a new check run raises a new one if the data "
            "still fail.",
            code="finding_resolved",
            status=409,
        )
    message = QueryMessage.objects.create(finding=finding, author=_person(actor), body=body)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=message,
        after=snapshot(message),
        review=finding.trial.review,
        trial=finding.trial,
    )
    status = Finding.Status.ANSWERED if from_trial_team else Finding.Status.OPEN
    if status != finding.status:
        _set_status(finding, status, actor=actor)
    return message


@transaction.atomic
def finding_resolve(*, finding: Finding, actor, note: str) -> Finding:
    """Close the thread; the note says how the finding was settled (explained, corrected, accepted)."""
    finding = Finding.objects.select_for_update().select_related("trial__review").get(pk=finding.pk)
    note = (note or "").strip()
    if not note:
        raise ApplicationError(
            "note: Say how the finding was resolved.", details={"note": ["Say how the finding was resolved."]}
        )
    if finding.status in CLOSED_FINDING_STATUSES:
        raise ApplicationError(
            f"This finding is already {finding.get_status_display().lower()}.", code="finding_resolved", status=409
        )
    _set_status(
        finding,
        Finding.Status.RESOLVED,
        actor=actor,
        resolution_note=note,
        resolved_by=_person(actor),
        resolved_at=timezone.now(),
    )
    return finding
