"""Runs in this process: what a run records, that its result is the engine's on the tables it names, that an
unchanged request returns the stored run, and that trials that cannot enter are listed with the reason."""

import math

import numpy as np
import pytest

from apps.analyses import services
from apps.analyses.models import AnalysisRun, RunKind
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.jobs.models import Job
from apps.trials.lifecycle import Status
from ipdstats import __version__ as ENGINE_VERSION
from ipdstats.engine import run_table
from tests.analyses.conftest import add_trial, outcome, trial_frame
from tests.analyses.helpers import assert_same, rebuild

pytestmark = pytest.mark.django_db


def define(review, analyst, name="Death, two-stage", **data):
    return services.analysis_create(
        review=review, actor=analyst, data={"name": name, "outcome": outcome(review, "Death").pk, **data}
    )


def run_now(analysis, actor, kind=RunKind.ANALYSIS) -> AnalysisRun:
    run, created = services.run_request(analysis=analysis, actor=actor, kind=kind)
    assert created
    services.run_execute(run.job_id)
    run.refresh_from_db()
    return run


def test_a_run_records_its_inputs_and_its_result_is_the_engines_on_them(review, trials, analyst, dataset_root):
    analysis = define(review, analyst, adjust=["AGE"])
    run = run_now(analysis, analyst)
    assert run.state == AnalysisRun.State.SUCCEEDED, run.error
    assert run.engine_version == ENGINE_VERSION
    assert run.spec == {
        "outcome": "binary",
        "measure": "OR",
        "approach": "two-stage",
        "columns": {"trial": "trial", "treatment": "TRT01P", "outcome": "DEATH"},
        "adjust": ["AGE"],
        "tau2": "REML",
        "ci": "wald",
    }
    assert [item["trial"] for item in run.inputs] == [trial.pk for trial in trials]
    for item, trial in zip(run.inputs, trials, strict=True):
        assert item["harmonised_table"] == trial.table.pk
        assert item["sha256"] == trial.table.sha256
        assert item["n"] == 240
        assert item["arm_codes"] == {"intervention": "intervention", "control": "control"}
    expected = run_table(run.spec, rebuild(run, dataset_root))
    assert_same(expected, run.result)
    assert run.result["pooled"]["k"] == 4
    assert run.left_out == []
    assert AuditEvent.objects.filter(object_type="analysisrun", object_id=str(run.pk)).count() >= 3


def test_each_trials_arms_and_events_are_recorded(review, trials, analyst):
    run = run_now(define(review, analyst), analyst)
    for trial in trials:
        frame = trial_frame(seed=int(trial.registry_id[-4:]))
        arms = run.summary["arms"][str(trial.pk)]
        for arm, code in (("intervention", "intervention"), ("control", "control")):
            rows = frame[frame.TRT01P == code]
            assert arms[arm] == {"n": len(rows), "events": int(rows.DEATH.sum())}
        assert (arms["rows"], arms["analysed"], arms["rows_missing"]) == (240, 240, 0)
    assert run.summary["trials"][str(trials[0].pk)]["label"] == "NCT03000001 STROKE-1"


def test_an_unchanged_request_returns_the_stored_run(review, trials, analyst):
    analysis = define(review, analyst)
    first = run_now(analysis, analyst)
    again, created = services.run_request(analysis=analysis, actor=analyst)
    assert (again.pk, created) == (first.pk, False)
    assert AnalysisRun.objects.filter(analysis=analysis).count() == 1


def test_a_run_after_the_data_changed_says_what_changed(review, trials, analyst):
    analysis = define(review, analyst)
    first = run_now(analysis, analyst)
    added = add_trial(review, 5)
    second = run_now(analysis, analyst)
    assert second.pk != first.pk
    assert second.changes["previous_run"] == first.pk
    assert second.changes["trials_added"] == ["NCT03000005 STROKE-5"]
    assert second.changes["trials_removed"] == [] and second.changes["spec_changed"] == []
    assert second.changes["pooled_before"] == first.result["pooled"]
    assert second.changes["pooled_after"] == second.result["pooled"]
    assert second.result["pooled"]["k"] == 5
    assert str(added.pk) in second.summary["arms"]


def test_a_changed_spec_is_named_in_the_changes(review, trials, analyst):
    analysis = define(review, analyst)
    run_now(analysis, analyst)
    services.analysis_update(analysis=analysis, actor=analyst, data={"ci": "hksj"})
    second = run_now(analysis, analyst)
    assert second.changes["spec_changed"] == ["ci"]
    assert second.result["pooled"]["df"] == 3


def test_trials_that_cannot_enter_are_listed_with_the_reason(review, trials, analyst):
    no_table = add_trial(review, 7, table=False)
    frame = trial_frame(seed=8).drop(columns=["AGE"])
    no_age = add_trial(review, 8, frame=frame)
    add_trial(review, 9, status=Status.DATA_CHECKED)  # not at "included": not meant to enter by default
    run = run_now(define(review, analyst, adjust=["AGE"]), analyst)
    reasons = {item["trial"]: item["reason"] for item in run.left_out}
    assert set(reasons) == {no_table.pk, no_age.pk}
    assert "no harmonised table yet" in reasons[no_table.pk]
    assert "has no AGE" in reasons[no_age.pk]
    assert run.result["pooled"]["k"] == 4


def test_data_checked_trials_enter_when_asked(review, trials, analyst):
    checked = add_trial(review, 9, status=Status.DATA_CHECKED)
    run = run_now(define(review, analyst, trials="checked"), analyst)
    assert checked.pk in [item["trial"] for item in run.inputs]


def test_a_trial_with_no_complete_row_is_left_out_at_run_time(review, trials, analyst):
    frame = trial_frame(seed=6)
    frame["DEATH"] = None
    empty = add_trial(review, 6, frame=frame)
    run = run_now(define(review, analyst), analyst)
    assert run.state == AnalysisRun.State.SUCCEEDED
    assert [item["trial"] for item in run.left_out] == [empty.pk]
    assert "no participant has a value for each of" in run.left_out[0]["reason"]


def test_no_trial_to_enter_is_refused_with_the_reasons(review, analyst):
    add_trial(review, 1, table=False)
    analysis = define(review, analyst)
    with pytest.raises(ApplicationError) as caught:
        services.run_request(analysis=analysis, actor=analyst)
    assert caught.value.status == 400 and caught.value.code == "no_trials"
    assert "NCT03000001 STROKE-1: it has no harmonised table yet" in caught.value.message
    assert not AnalysisRun.objects.exists() and not Job.objects.exists()


def test_an_analysis_the_engine_cannot_run_fails_with_the_engines_sentence(review, analyst):
    for number in (1, 2):
        frame = trial_frame(seed=number)
        frame["DEATH"] = 0
        add_trial(review, number, frame=frame)
    run = run_now(define(review, analyst), analyst)
    assert run.state == AnalysisRun.State.FAILED
    assert run.error.startswith("No trial can be pooled for the treatment effect: every trial was excluded")
    assert "Traceback" not in run.error
    assert run.job.state == Job.State.FAILED and run.job.attempts == 1
    assert run.result is None


def test_published_results_of_trials_without_ipd_are_pooled_beside_them(review, trials, analyst):
    usable = add_trial(
        review,
        20,
        status=Status.NO_RESPONSE,
        table=False,
        aggregate_available=True,
        result_measure="OR",
        result_estimate=0.7,
        result_ci_low=0.5,
        result_ci_high=0.98,
    )
    other_measure = add_trial(
        review,
        21,
        status=Status.DECLINED,
        table=False,
        aggregate_available=True,
        result_measure="RR",
        result_estimate=0.8,
        result_ci_low=0.6,
        result_ci_high=1.1,
    )
    no_aggregate = add_trial(review, 22, status=Status.DECLINED, table=False, aggregate_available=False)
    add_trial(
        review,
        23,
        status=Status.NOT_ELIGIBLE,
        table=False,
        aggregate_available=True,
        result_measure="OR",
        result_estimate=0.5,
        result_ci_low=0.3,
        result_ci_high=0.9,
    )
    run = run_now(define(review, analyst, aggregate=True), analyst)
    se = (math.log(0.98) - math.log(0.5)) / (2 * 1.959964)
    assert run.spec["aggregate"] == [{"trial": str(usable.pk), "estimate": math.log(0.7), "se": se}]
    assert run.aggregate_rows == [
        {"trial": usable.pk, "label": "NCT03000020 STROKE-20", "estimate": math.log(0.7), "se": se}
    ]
    reasons = {item["trial"]: item["reason"] for item in run.summary["aggregate_left_out"]}
    assert reasons == {
        other_measure.pk: "its published primary result is RR, not OR.",
        no_aggregate.pk: "its record says no aggregate data are available.",
    }
    sources = [row["source"] for row in run.result["per_trial"]]
    assert sources == ["ipd"] * 4 + ["aggregate"]
    assert run.result["pooled"]["k"] == 5
    assert run.summary["groups"]["ipd"]["k"] == 4 and run.summary["groups"]["aggregate"]["k"] == 1


def test_published_results_stand_for_the_primary_outcome_only(review, trials, analyst):
    add_trial(
        review,
        20,
        status=Status.NO_RESPONSE,
        table=False,
        aggregate_available=True,
        result_measure="MD",
        result_estimate=-4.0,
        result_ci_low=-8.0,
        result_ci_high=0.0,
    )
    analysis = services.analysis_create(
        review=review,
        actor=analyst,
        data={"name": "SBP", "outcome": outcome(review, "Systolic blood pressure").pk, "aggregate": True},
    )
    run = run_now(analysis, analyst)
    assert "aggregate" not in run.spec
    assert (
        "for the review's primary outcome, not 'Systolic blood pressure'"
        in run.summary["aggregate_left_out"][0]["reason"]
    )


def test_a_one_stage_run_keeps_the_trials_own_estimates_for_its_plot(review, trials, analyst, dataset_root):
    run = run_now(define(review, analyst, approach="one-stage"), analyst)
    assert run.state == AnalysisRun.State.SUCCEEDED, run.error
    assert run.result["per_trial"] is None
    twin = run.summary["stage_one"]
    assert twin["spec"]["approach"] == "two-stage" and "quadrature" not in twin["spec"]
    assert_same(run_table(twin["spec"], rebuild(run, dataset_root)), twin["result"])
    assert_same(run_table(run.spec, rebuild(run, dataset_root)), run.result)


def test_each_trials_integrity_state_at_run_time_is_recorded(review, trials, analyst):
    failing = trials[1]
    check = CheckRun.objects.create(
        review=review, trial=failing, harmonised_table=failing.table, state=CheckRun.State.SUCCEEDED
    )
    result = CheckResult.objects.create(
        run=check, code="ids_duplicated", title="Duplicated ids", status="fail", sentence="Two rows share an id."
    )
    finding = Finding.objects.create(result=result, trial=failing)
    run = run_now(define(review, analyst), analyst)
    state = run.summary["integrity"][str(failing.pk)]
    assert state["state"] == "unresolved_findings"
    assert state["unresolved"] == [{"finding": finding.pk, "code": "ids_duplicated", "title": "Duplicated ids"}]
    assert run.summary["integrity"][str(trials[0].pk)] == {"state": "never_checked", "run": None, "unresolved": []}


def test_the_trial_codes_of_a_numeric_treatment_are_read_as_the_checks_read_them(review, analyst, dataset_root):
    from apps.harmonisation.models import SchemaVariable

    SchemaVariable.objects.filter(review=review, name="TRT01P").update(type="integer", allowed_values=[0, 1])
    for number in (1, 2, 3):
        frame = trial_frame(seed=number)
        frame["TRT01P"] = np.where(frame["TRT01P"] == "intervention", 1, 0)
        add_trial(review, number, frame=frame)
    run = run_now(define(review, analyst), analyst)
    assert run.inputs[0]["arm_codes"] == {"intervention": "1", "control": "0"}
    assert_same(run_table(run.spec, rebuild(run, dataset_root)), run.result)
