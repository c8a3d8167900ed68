"""The check job: scheduled on every harmonised table, run once per delivery, results and findings stored."""

import pandas as pd
import pytest

from apps.checks import selectors, services
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.harmonisation import services as harmonisation
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.models import Job
from apps.trials import services as trial_services
from apps.trials.lifecycle import Status
from tests.checks.conftest import make_table
from tests.checks.data import CHECK_CODES, trial_frame

pytestmark = pytest.mark.django_db


def spoiled_frame() -> pd.DataFrame:
    frame = trial_frame()
    frame.loc[[10, 20], "USUBJID"] = None  # a failure: missing ids
    frame.loc[frame.TRT01P == "intervention", "AVAL"] *= 0.5  # a warning: follow-up differs
    return frame


def run_checks(table, actor, django_capture_on_commit_callbacks) -> CheckRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.check_run_schedule(table=table, actor=actor)
    run.refresh_from_db()
    return run


def test_a_run_stores_every_check_and_raises_findings(trial, analyst, eager, django_capture_on_commit_callbacks):
    run = run_checks(make_table(trial, spoiled_frame()), analyst, django_capture_on_commit_callbacks)
    assert run.state == CheckRun.State.SUCCEEDED, run.error
    assert run.job.state == Job.State.SUCCEEDED and run.job.queue == "" and run.job.kind == services.CHECK_KIND
    assert run.n_rows == 200 and run.engine_version and run.code_version == services.CODE_VERSION
    assert run.settings_used["n_intervention"] == 100
    results = {result.code: result for result in run.results.all()}
    assert list(results) == CHECK_CODES
    missing = results["ids_missing"]
    assert missing.status == CheckResult.Status.FAIL
    assert missing.affected_row_ids == [11, 21] and missing.affected_count == 2
    assert results["follow_up"].status == CheckResult.Status.WARNING
    raised = Finding.objects.filter(result__run=run)
    assert sorted(finding.result.code for finding in raised) == ["follow_up", "ids_missing"]
    assert all(finding.status == Finding.Status.OPEN for finding in raised)
    assert run.job.result["counts"]["fail"] == 1
    actions = list(
        AuditEvent.objects.filter(object_type="checkrun", object_id=str(run.pk)).values_list("action", "after__state")
    )
    assert actions[::-1] == [("create", "queued"), ("transition", "running"), ("transition", "succeeded")]


def test_a_second_delivery_changes_nothing(trial, analyst, eager, django_capture_on_commit_callbacks):
    run = run_checks(make_table(trial), analyst, django_capture_on_commit_callbacks)
    assert services.check_run_execute(run.job.pk) is None
    assert run.results.count() == len(CHECK_CODES)
    assert Job.objects.get(pk=run.job.pk).attempts == 1


def test_automatic_scheduling_is_idempotent_and_on_demand_reruns(
    trial, analyst, eager, django_capture_on_commit_callbacks
):
    table = make_table(trial)
    first = run_checks(table, analyst, django_capture_on_commit_callbacks)
    assert services.check_run_schedule(table=table, actor=analyst).pk == first.pk
    with django_capture_on_commit_callbacks(execute=True):
        again = services.check_run_start(trial=trial, actor=analyst)
    assert again.pk != first.pk and again.trigger == CheckRun.Trigger.ON_DEMAND
    newer = make_table(trial, number=2)
    assert run_checks(newer, analyst, django_capture_on_commit_callbacks).harmonised_table == newer
    assert selectors.latest_run(trial).harmonised_table == newer


def test_on_demand_without_a_table_says_what_to_do(trial, analyst):
    with pytest.raises(ApplicationError) as raised:
        services.check_run_start(trial=trial, actor=analyst)
    assert raised.value.status == 409 and "apply its mapping first" in raised.value.message


def test_an_unreadable_table_fails_at_once_with_a_reason(trial, analyst, eager, django_capture_on_commit_callbacks):
    table = make_table(trial)
    HarmonisedTable.objects.filter(pk=table.pk).update(storage_name="harmonised/missing.parquet")
    run = run_checks(table, analyst, django_capture_on_commit_callbacks)
    assert run.state == CheckRun.State.FAILED
    assert run.job.attempts == 1
    assert "cannot be read" in run.error and "apply the mapping again" in run.error


def test_applying_a_mapping_schedules_the_checks(eager, django_capture_on_commit_callbacks, trial, analyst):
    from tests.harmonisation.conftest import parsed_version

    variables = {variable.name: variable for variable in trial.review.schema_variables.all()}
    source = trial_frame().drop(columns=["source_row"]).rename(columns=str.lower)
    mapping = harmonisation.mapping_create(trial=trial, source_version=parsed_version(trial, source), actor=analyst)
    for name in variables:
        harmonisation.mapping_rule_set(
            mapping=mapping, target=variables[name], actor=analyst, category="direct", source_variables=[name.lower()]
        )
    with django_capture_on_commit_callbacks(execute=True):
        harmonisation.mapping_apply(mapping=mapping, actor=analyst)
    table = HarmonisedTable.objects.get(mapping=mapping)
    run = CheckRun.objects.get(harmonised_table=table)
    assert run.trigger == CheckRun.Trigger.AUTOMATIC
    assert run.state == CheckRun.State.SUCCEEDED, run.error
    statuses = {result.code: result.status for result in run.results.all()}
    assert statuses["ids_duplicated"] == statuses["arm_sizes"] == statuses["ranges"] == CheckResult.Status.PASS


def test_data_checked_is_refused_while_a_failed_check_is_unresolved(
    trial, analyst, reviewer, contributor, eager, django_capture_on_commit_callbacks
):
    trial.status = Status.DATA_RECEIVED
    trial.save()
    run = run_checks(make_table(trial, spoiled_frame()), analyst, django_capture_on_commit_callbacks)
    failed = Finding.objects.get(result__run=run, result__code="ids_missing")
    with pytest.raises(ApplicationError) as raised:
        trial_services.trial_transition(trial=trial, to_status=Status.DATA_CHECKED, actor=reviewer)
    assert raised.value.code == "unresolved_findings" and raised.value.status == 409
    assert "Participant ids present" in raised.value.message and f"#{failed.pk}" in raised.value.message
    trial.refresh_from_db()
    assert trial.status == Status.DATA_RECEIVED

    services.finding_reply(
        finding=failed, actor=contributor, body="Two ids were re-used by site 3.", from_trial_team=True
    )
    failed.refresh_from_db()
    assert failed.status == Finding.Status.ANSWERED
    with pytest.raises(ApplicationError) as no_note:
        services.finding_resolve(finding=failed, actor=reviewer, note="  ")
    assert "note" in no_note.value.details
    services.finding_resolve(finding=failed, actor=reviewer, note="Confirmed with the trial team: distinct people.")
    # The warning (follow-up) does not hold the trial back.
    trial_services.trial_transition(trial=trial, to_status=Status.DATA_CHECKED, actor=reviewer)
    trial.refresh_from_db()
    assert trial.status == Status.DATA_CHECKED
    transitions = AuditEvent.objects.filter(object_type="finding", object_id=str(failed.pk)).values_list(
        "after__status", flat=True
    )
    assert sorted(transitions) == ["answered", "resolved"]


def test_replies_move_the_thread_and_a_resolved_one_is_closed(
    trial, analyst, contributor, eager, django_capture_on_commit_callbacks
):
    run = run_checks(make_table(trial, spoiled_frame()), analyst, django_capture_on_commit_callbacks)
    finding = Finding.objects.get(result__run=run, result__code="follow_up")
    services.finding_reply(
        finding=finding, actor=contributor, body="Our follow-up visits differed.", from_trial_team=True
    )
    services.finding_reply(finding=finding, actor=analyst, body="By how many months?", from_trial_team=False)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.OPEN
    assert [message.author for message in finding.messages.all()] == [contributor, analyst]
    services.finding_resolve(finding=finding, actor=analyst, note="Explained by the visit schedule.")
    with pytest.raises(ApplicationError) as raised:
        services.finding_reply(finding=finding, actor=contributor, body="More", from_trial_team=True)
    assert raised.value.status == 409


def test_integrity_summary_counts_for_prisma_ipd(
    trial, other_trial, analyst, eager, django_capture_on_commit_callbacks
):
    run = run_checks(make_table(trial, spoiled_frame()), analyst, django_capture_on_commit_callbacks)
    run_checks(make_table(other_trial), analyst, django_capture_on_commit_callbacks)
    finding = Finding.objects.get(result__run=run, result__code="ids_missing")
    services.finding_resolve(finding=finding, actor=analyst, note="Explained.")
    summary = selectors.review_integrity(trial.review, trial.review.trials.all())
    assert summary["counts"] == {
        "trials": 2,
        "trials_checked": 2,
        "trials_with_issues": 1,
        "issues": 2,
        "issues_resolved": 1,
        "trials_out_of_date": 0,
    }
    assert [code["code"] for code in summary["codes"]] == CHECK_CODES


def test_check_settings_are_validated_and_audited(trial, reviewer):
    settings = services.check_settings_update(
        trial=trial,
        actor=reviewer,
        data={"recruitment_start": pd.Timestamp("2018-06-01").date(), "allocation_ratio": 2.0},
    )
    assert settings.allocation_ratio == 2.0 and settings.ids_sequential
    assert AuditEvent.objects.filter(object_type="checksettings", object_id=str(settings.pk)).exists()
    with pytest.raises(ApplicationError) as raised:
        services.check_settings_update(
            trial=trial, actor=reviewer, data={"recruitment_end": pd.Timestamp("2018-01-01").date()}
        )
    assert "recruitment_end" in raised.value.details
    with pytest.raises(ApplicationError):
        services.check_settings_update(trial=trial, actor=reviewer, data={"intervention_code": "A"})


def test_a_rerun_on_the_same_data_keeps_resolutions_and_new_data_asks_again(
    trial, analyst, eager, django_capture_on_commit_callbacks
):
    first = run_checks(make_table(trial, spoiled_frame()), analyst, django_capture_on_commit_callbacks)
    resolved = Finding.objects.get(result__run=first, result__code="ids_missing")
    services.finding_resolve(finding=resolved, actor=analyst, note="Two withdrawals without ids.")
    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.check_run_start(trial=trial, actor=analyst)
    carried = Finding.objects.get(result__run=rerun, result__code="ids_missing")
    assert carried.status == Finding.Status.RESOLVED and carried.resolved_by == analyst
    assert f"finding #{resolved.pk}" in carried.resolution_note and "Two withdrawals" in carried.resolution_note
    assert Finding.objects.get(result__run=rerun, result__code="follow_up").status == Finding.Status.OPEN
    assert selectors.unresolved_failures(trial) == []
    changed = spoiled_frame()
    changed.loc[30, "USUBJID"] = None  # a third id missing: a new question
    newer = run_checks(make_table(trial, changed, number=2), analyst, django_capture_on_commit_callbacks)
    assert Finding.objects.get(result__run=newer, result__code="ids_missing").status == Finding.Status.OPEN
    assert [finding.result.code for finding in selectors.unresolved_failures(trial)] == ["ids_missing"]
