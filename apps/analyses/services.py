"""Writes for analyses: their definitions (audited like the tracking records), and their runs on the `analysis`
queue, from the request (the plan, and the stored run when nothing changed) to the stored result."""

from django.conf import settings
from django.db import transaction

from apps.analyses import engine, planning, rows, sensitivity, summaries
from apps.analyses.definitions import Definition, check_definition, current_values, stored_definition_problem
from apps.analyses.models import Analysis, AnalysisCovariate, AnalysisRun, RunKind, RunState
from apps.core.errors import ApplicationError, NotFound
from apps.core.models import AuditEvent
from apps.core.services import audit_record, locked_copy, snapshot
from apps.jobs.context import JobContext
from apps.jobs.errors import JobInputError
from apps.jobs.models import Job
from apps.jobs.services import job_create, job_run
from apps.reviews.models import Review
from apps.trials.models import Trial

RUN_KIND = "analysis_run"
RUN_TASK = "apps.analyses.tasks.analysis_run_task"


def analysis_queue() -> str:
    """A queue to send analysis jobs to instead of the routed one (`analysis`); set to isolate a worker."""
    return settings.ANALYSIS_QUEUE


def _person(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --------------------------------------------------------------------------------------------------- definitions


def analysis_snapshot(analysis: Analysis) -> dict:
    """The audited values: the row's fields and the covariates it adjusts for, by name."""
    return snapshot(analysis) | {"adjust": [variable.name for variable in analysis.adjust_variables]}


def _store(analysis: Analysis, definition: Definition, actor) -> None:
    for name, value in definition.values.items():
        setattr(analysis, name, value)
    if analysis.is_primary:
        # One primary analysis per outcome: marking this one moves the mark (the change is audited below).
        for other in (
            Analysis.objects.select_for_update()
            .filter(outcome=analysis.outcome, is_primary=True)
            .exclude(pk=analysis.pk)
        ):
            before = analysis_snapshot(other)
            other.is_primary = False
            other.save(update_fields=["is_primary", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                instance=other,
                before=before,
                after=analysis_snapshot(other),
                review=other.review,
            )
    analysis.save()
    analysis.covariates.all().delete()
    AnalysisCovariate.objects.bulk_create(
        [
            AnalysisCovariate(analysis=analysis, variable=variable, position=i)
            for i, variable in enumerate(definition.adjust)
        ]
    )


def _name_taken(review: Review, name: str, exclude: int | None = None) -> None:
    if Analysis.objects.filter(review=review, name=name).exclude(pk=exclude).exists():
        raise ApplicationError(
            f"name: the review already has an analysis named {name!r}.",
            details={"name": [f"The review already has an analysis named {name!r}."]},
        )


def _lock_definitions(review_id: int) -> None:
    """Definitions of one review change one at a time: names and the primary mark are checked, then written, with
    no other request in between (the review's row is the lock)."""
    Review.objects.select_for_update().filter(pk=review_id).first()


def _locked(analysis: Analysis) -> Analysis:
    """The analysis read again under a lock; gone meanwhile (deleted by another request), a 404."""
    try:
        return locked_copy(analysis)
    except Analysis.DoesNotExist:
        raise NotFound("Analysis not found; it was deleted.")


@transaction.atomic
def analysis_create(*, review: Review, actor, data: dict) -> Analysis:
    _lock_definitions(review.pk)
    definition = check_definition(review=review, data=data)
    _name_taken(review, definition.values["name"])
    analysis = Analysis(review=review, created_by=_person(actor))
    _store(analysis, definition, actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=analysis,
        after=analysis_snapshot(analysis),
        review=review,
    )
    return analysis


@transaction.atomic
def analysis_update(*, analysis: Analysis, actor, data: dict) -> Analysis:
    _lock_definitions(analysis.review_id)
    analysis = _locked(analysis)
    stored = current_values(analysis)
    definition = check_definition(review=analysis.review, data=data, stored=stored)
    _name_taken(analysis.review, definition.values["name"], exclude=analysis.pk)
    before = analysis_snapshot(analysis)
    _store(analysis, definition, actor)
    after = analysis_snapshot(analysis)
    if after != before:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=analysis,
            before=before,
            after=after,
            review=analysis.review,
        )
    return analysis


@transaction.atomic
def analysis_delete(*, analysis: Analysis, actor) -> None:
    """Delete the analysis and its runs; the audit event keeps its definition."""
    analysis = _locked(analysis)
    if analysis.runs.filter(state__in=(RunState.QUEUED, RunState.RUNNING)).exists():
        raise ApplicationError(
            "The analysis is running; wait for its run to finish before deleting it.", code="running", status=409
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        instance=analysis,
        before=analysis_snapshot(analysis),
        review=analysis.review,
    )
    analysis.delete()


# --------------------------------------------------------------------------------------------------- requests


def _nothing_to_run(plan: planning.Plan) -> ApplicationError:
    reasons = [f"{item['label']}: {item['reason']}" for item in plan.left_out]
    message = "No trial can enter the analysis"
    message += ": " + " ".join(reasons) if reasons else ": no trial is at the statuses the analysis takes."
    return ApplicationError(message, code="no_trials", details={"trials": reasons or [message]})


def _integrity_now(plan: planning.Plan) -> dict:
    return summaries.integrity([plan.trials[item["trial"]] for item in plan.inputs])


@transaction.atomic
def run_request(*, analysis: Analysis, actor, kind: str = RunKind.ANALYSIS) -> tuple[AnalysisRun, bool]:
    """Queue a run of the analysis (or of its sensitivity family), unless the newest run of that kind has the
    same spec and inputs: then that run is returned (False), as a second computation would give the same."""
    analysis = _locked(analysis)  # two requests at once: the second finds the first's run
    problem = stored_definition_problem(analysis)
    if problem is not None:
        raise problem
    plan = planning.plan(analysis, with_aggregate=True if kind == RunKind.SENSITIVITY else None)
    if not plan.inputs:
        raise _nothing_to_run(plan)
    summary = {}
    fingerprint = plan.input_sha256
    if kind == RunKind.SENSITIVITY:
        # The family leaves out the trials with unresolved failures: their state is one of its inputs.
        summary["integrity_at_request"] = _integrity_now(plan)
        fingerprint = planning.digest({"plan": fingerprint, "integrity": _failing(summary["integrity_at_request"])})
    newest = analysis.runs.filter(kind=kind).exclude(state=RunState.FAILED).order_by("-created_at", "-id").first()
    if newest is not None and newest.input_sha256 == fingerprint:
        return newest, False
    run = AnalysisRun.objects.create(
        analysis=analysis,
        review=analysis.review,
        kind=kind,
        spec=plan.spec,
        inputs=plan.inputs,
        left_out=plan.left_out,
        aggregate_rows=plan.aggregate_rows,
        input_sha256=fingerprint,
        summary=summary
        | {"aggregate_left_out": plan.aggregate_left_out, "trials": _trial_facts(plan), "analysis": _facts(analysis)},
        created_by=_person(actor),
    )
    run.job = job_create(
        kind=RUN_KIND, task=RUN_TASK, target=run, actor=actor, review=analysis.review, queue=analysis_queue()
    )
    run.save(update_fields=["job"])
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, instance=run, after=run_audit_values(run), review=analysis.review
    )
    return run, True


def run_audit_values(run: AnalysisRun) -> dict:
    """What the audit keeps of a run: its identity, state and the digest of its inputs. The inputs, spec and
    result themselves live on the run, which nothing changes once it has finished."""
    return {
        "id": run.pk,
        "analysis_id": run.analysis_id,
        "kind": run.kind,
        "state": run.state,
        "error": run.error,
        "input_sha256": run.input_sha256,
        "trials": [item["trial"] for item in run.inputs],
        "job_id": run.job_id,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def _facts(analysis: Analysis) -> dict:
    """What the run's pages and methods say of its analysis, as it stands now (it may be edited later)."""
    return {
        "name": analysis.name,
        "outcome": analysis.outcome.name,
        "prespecified": analysis.prespecified,
        "higher_is_better": analysis.outcome.higher_is_better,
    }


def _failing(integrity: dict) -> list[str]:
    return sorted(trial for trial, state in integrity.items() if state["unresolved"])


def _trial_facts(plan: planning.Plan) -> dict:
    """What plots and tables say of each trial, as it stood when the run was asked for."""
    ids = {item["trial"] for item in plan.inputs} | {item["trial"] for item in plan.left_out}
    ids |= {item["trial"] for item in plan.aggregate_rows} | {item["trial"] for item in plan.aggregate_left_out}
    return {
        str(trial.pk): {
            "label": planning.trial_label(trial),
            "registry_id": trial.registry_id,
            "title": trial.title,
            "year": trial.year,
            "sponsor_type": trial.sponsor_type,
            "n_randomised": trial.n_randomised,
        }
        for trial in Trial.objects.filter(pk__in=ids)
    }


# --------------------------------------------------------------------------------------------------- execution


def run_follow_job(job: Job) -> None:
    """Keep the run's state in step with its job's (called inside the job's transaction)."""
    bulky = ("result", "summary", "aggregate_rows", "changes", "left_out", "spec")
    run = AnalysisRun.objects.select_for_update().filter(job=job).defer(*bulky).first()
    if run is None or run.state == job.state:
        return
    before = run_audit_values(run)
    run.state = job.state
    run.error = job.error
    if job.state == Job.State.RUNNING:
        run.started_at = job.started_at
    if job.is_finished:
        run.finished_at = job.finished_at
    run.save(update_fields=["state", "error", "started_at", "finished_at"])
    audit_record(
        actor=None,
        action=AuditEvent.Action.TRANSITION,
        instance=run,
        before=before,
        after=run_audit_values(run),
        review=run.review,
    )


def run_execute(job_id: int) -> Job | None:
    """The analysis job's body, run by the Celery task; a second delivery of the same job does nothing."""
    return job_run(job_id, _run_work)


def _run_work(context: JobContext) -> dict:
    run = AnalysisRun.objects.select_related("analysis", "review").filter(pk=context.job.target_id).first()
    if run is None:
        raise JobInputError("The analysis run this job was for no longer exists.")
    frame, arms, left_out = _read_rows(run, context)
    context.step_done("read")
    if run.kind == RunKind.SENSITIVITY:
        outcome = _sensitivity(run, frame, context)
    else:
        outcome = _analysis(run, frame, arms, context)
    context.step_done("engine")
    outcome["summary"] = {**run.summary, **outcome.get("summary", {}), "arms": arms}
    outcome["left_out"] = run.left_out + left_out
    context.progress(95, "Storing the result")
    _store_result(run, context.job, outcome)
    if "error" in outcome:
        raise JobInputError(outcome["error"])
    return {"analysis_run": run.pk, "engine_seconds": outcome.get("engine_seconds")}


def _read_rows(run: AnalysisRun, context: JobContext):
    """Every input trial's rows, checked against its SHA-256, with its arms. A trial without a complete row is
    listed as left out, with why (the engine drops such a trial without a word); its rows stay in the input, so
    that the input rebuilt from the run's record is the one the engine was given."""
    columns = rows.engine_columns(run.spec)
    pieces, arms, left_out = [], {}, []
    total = len(run.inputs)
    stored = rows.storage_names(run.inputs)
    for done, item in enumerate(run.inputs, start=1):
        piece = rows.trial_rows(item, run.spec, columns, stored)
        figures = summaries.arms(piece, run.spec, columns)
        arms[str(item["trial"])] = figures
        if figures["analysed"] == 0:
            left_out.append(
                {
                    "trial": item["trial"],
                    "label": _label(run, item["trial"]),
                    "reason": _no_complete_row(piece, item, run.spec, columns),
                }
            )
        pieces.append(piece)
        if done == total or done % max(1, total // 10) == 0:  # about ten reports, not one write per trial
            context.progress(2 + int(38 * done / total), f"Read trial {done} of {total}")
    if len(left_out) == len(pieces):
        raise JobInputError("No trial has a participant with every value the analysis uses; see the trials left out.")
    return rows.concatenated(pieces, run.spec), arms, left_out


def _no_complete_row(piece: rows.TrialRows, item: dict, spec: dict, columns: list[str]) -> str:
    treatment = spec["columns"]["treatment"]
    if piece.other_codes and piece.other_codes == piece.table.num_rows:
        codes = item["arm_codes"]
        return (
            f"no row has the intervention or control code ({codes['intervention']!r}, {codes['control']!r}) in "
            f"{treatment}; set the codes in the trial's check settings."
        )
    return f"no participant has a value for each of {', '.join(columns)}."


def _label(run: AnalysisRun, trial) -> str:
    return run.summary.get("trials", {}).get(str(trial), {}).get("label", f"Trial {trial}")


def _labels(run: AnalysisRun) -> dict[str, str]:
    return {trial: facts["label"] for trial, facts in run.summary.get("trials", {}).items()}


def two_stage_twin(spec: dict) -> dict:
    """The two-stage spec on the same rows (REML, Wald, no aggregate): stage-one estimates for a one-stage run."""
    # Without the interaction: these rows show each trial's treatment effect, and a trial whose interaction
    # cannot be estimated must not take the whole twin with it.
    twin = {key: value for key, value in spec.items() if key not in ("quadrature", "aggregate", "interaction")}
    return twin | {"approach": "two-stage", "tau2": "REML", "ci": "wald"}


def _analysis(run: AnalysisRun, frame, arms: dict, context: JobContext) -> dict:
    context.progress(45, "Running the engine")
    result, seconds = engine.run_spec_on_rows(run.spec, frame)
    if "error" in result:
        return {"error": result["error"], "engine_seconds": seconds}
    summary = {"integrity": summaries.integrity(_input_trials(run))}
    if run.spec["approach"] == "one-stage":
        context.progress(75, "Estimating each trial's effect for the plot")
        twin = two_stage_twin(run.spec)
        stage_one, _ = engine.run_spec_on_rows(twin, frame)
        summary["stage_one"] = {"spec": twin, "result": stage_one}
    if run.spec.get("aggregate"):
        summary["groups"] = _group_pools(result, run.spec)
    return {"result": result, "engine_seconds": seconds, "summary": summary}


def _input_trials(run: AnalysisRun) -> list[Trial]:
    return list(Trial.objects.filter(pk__in=[item["trial"] for item in run.inputs]))


def _group_pools(result: dict, spec: dict) -> dict:
    """The IPD trials and the aggregate-data trials pooled apart, for a diamond per group."""
    groups = {}
    for source in ("ipd", "aggregate"):
        chosen = [row for row in result.get("per_trial") or [] if row.get("source") == source]
        groups[source] = engine.pool_rows(chosen, tau2=spec["tau2"], ci=spec["ci"])
    return groups


def _sensitivity(run: AnalysisRun, frame, context: JobContext) -> dict:
    context.progress(45, "Running the analysis as specified")
    base, seconds = engine.run_spec_on_rows(run.spec, frame)
    if "error" in base:
        return {"error": base["error"], "engine_seconds": seconds}
    stage_one = base
    if run.spec["approach"] == "one-stage":
        stage_one, _ = engine.run_spec_on_rows(two_stage_twin(run.spec), frame)
    integrity = run.summary.get("integrity_at_request", {})
    context.progress(60, "Running the variants")
    labels = _labels(run)
    family = sensitivity.family(
        spec=run.spec,
        base=base,
        stage_one=stage_one,
        rows=frame,
        aggregate=run.aggregate_rows,
        integrity=integrity,
        labels=labels,
    )
    family["comparison"] = _comparison(run, family["stage_two"]["tau2"])
    return {"result": family, "engine_seconds": seconds}


def _comparison(run: AnalysisRun, tau2: str) -> dict:
    analysis = run.analysis
    with_ipd = _input_trials(run)
    without = planning.aggregate_candidates(analysis)
    effects, unusable = {}, []
    for trial, has_ipd in [*((trial, True) for trial in with_ipd), *((trial, False) for trial in without)]:
        effect = planning.usable_published_effect(analysis, trial, has_ipd=has_ipd)
        if isinstance(effect, dict):
            effects[trial.pk] = effect
        else:
            unusable.append({"trial": trial.pk, "label": planning.trial_label(trial), "reason": effect})
    comparison = sensitivity.with_and_without_ipd(with_ipd=with_ipd, without_ipd=without, effects=effects, tau2=tau2)
    return comparison | {"published_not_used": unusable}


@transaction.atomic
def _store_result(run: AnalysisRun, job: Job, outcome: dict) -> None:
    # Only the attempt that still holds the job writes; a retried attempt replaces what an earlier one left.
    if not Job.objects.select_for_update().filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts).exists():
        return
    run = AnalysisRun.objects.select_for_update().get(pk=run.pk)
    run.summary = outcome["summary"]
    run.left_out = outcome["left_out"]
    run.engine_seconds = outcome.get("engine_seconds")
    run.engine_version = engine.ENGINE_VERSION
    run.result = outcome.get("result")
    run.changes = changes_since_previous(run) if run.result is not None else {}
    run.save(update_fields=["summary", "left_out", "engine_seconds", "engine_version", "result", "changes"])


def changes_since_previous(run: AnalysisRun) -> dict:
    """What differs from the previous succeeded run of the same kind: trials added or removed, tables that
    changed, spec keys that changed, and the pooled estimate before and after."""
    previous = (
        AnalysisRun.objects.filter(
            analysis=run.analysis, kind=run.kind, state=RunState.SUCCEEDED, created_at__lte=run.created_at
        )
        .exclude(pk=run.pk)
        .order_by("-created_at", "-id")
        .first()
    )
    if previous is None:
        return {}
    before = {str(item["trial"]): item for item in previous.inputs}
    now = {str(item["trial"]): item for item in run.inputs}
    names = {**_labels(previous), **_labels(run)}
    return {
        "previous_run": previous.pk,
        "trials_added": [names.get(trial, trial) for trial in sorted(set(now) - set(before))],
        "trials_removed": [names.get(trial, trial) for trial in sorted(set(before) - set(now))],
        "tables_changed": [
            names.get(trial, trial)
            for trial in sorted(set(now) & set(before))
            if now[trial]["sha256"] != before[trial]["sha256"]
        ],
        "spec_changed": sorted(
            key for key in set(run.spec) | set(previous.spec) if run.spec.get(key) != previous.spec.get(key)
        ),
        "aggregate_changed": run.aggregate_rows != previous.aggregate_rows,
        "pooled_before": pooled_of(previous),
        "pooled_after": pooled_of(run),
    }


def pooled_of(run: AnalysisRun) -> dict | None:
    """The pooled estimate a run stands for: its result's, or the "as specified" row of a sensitivity family."""
    result = run.result or {}
    if run.kind == RunKind.SENSITIVITY:
        analyses = result.get("analyses") or [{}]
        return analyses[0].get("pooled")
    return result.get("pooled")
