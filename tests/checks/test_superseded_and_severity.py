"""A later run that passes a check closes that check's open findings of earlier runs on the same table; baseline
imbalance graded, a failure-level one holding the trial back from "data checked"."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.checks import selectors, services
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.trials import services as trial_services
from apps.trials.lifecycle import Status
from tests.checks.conftest import make_table
from tests.checks.data import trial_frame
from tests.checks.test_runs import run_checks

pytestmark = pytest.mark.django_db


def rerun(trial, actor, django_capture_on_commit_callbacks) -> CheckRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.check_run_start(trial=trial, actor=actor)
    run.refresh_from_db()
    assert run.state == CheckRun.State.SUCCEEDED, run.error
    return run


def finding(run, code) -> Finding:
    return Finding.objects.select_related("result").get(result__run=run, result__code=code)


def test_a_check_that_passes_later_on_the_same_table_supersedes_its_open_findings(
    trial, analyst, contributor, eager, django_capture_on_commit_callbacks
):
    # The published arm sizes were typed wrong: the arm sizes check fails on data that are right.
    trial.result_n_intervention = 130
    trial.save()
    table = make_table(trial)
    first = run_checks(table, analyst, django_capture_on_commit_callbacks)
    open_one = finding(first, "arm_sizes")
    assert open_one.result.status == CheckResult.Status.FAIL and open_one.status == Finding.Status.OPEN
    services.finding_reply(finding=open_one, actor=contributor, body="We randomised 100 per arm.", from_trial_team=True)
    second = rerun(trial, analyst, django_capture_on_commit_callbacks)  # still failing: nothing superseded
    open_one.refresh_from_db()
    assert open_one.status == Finding.Status.ANSWERED
    assert finding(second, "arm_sizes").status == Finding.Status.OPEN

    trial.result_n_intervention = 100
    trial.save()
    third = rerun(trial, analyst, django_capture_on_commit_callbacks)
    assert third.harmonised_table == table
    assert third.results.get(code="arm_sizes").status == CheckResult.Status.PASS
    for earlier in (finding(first, "arm_sizes"), finding(second, "arm_sizes")):
        assert earlier.status == Finding.Status.SUPERSEDED
        assert earlier.superseded_by_run == third
        assert (
            earlier.resolution_note == f"Superseded by run {third.pk}: the check passed on the same harmonised table."
        )
        event = AuditEvent.objects.filter(object_type="finding", object_id=str(earlier.pk)).latest("id")
        assert (event.action, event.actor, event.after["status"]) == ("transition", None, "superseded")
        assert event.after["superseded_by_run_id"] == third.pk
    # Closed: no more replies, no resolution to write.
    with pytest.raises(ApplicationError, match="superseded"):
        services.finding_reply(finding=open_one, actor=contributor, body="More?", from_trial_team=True)
    with pytest.raises(ApplicationError, match="superseded"):
        services.finding_resolve(finding=open_one, actor=analyst, note="done")


def test_only_open_findings_of_the_same_data_are_superseded(trial, analyst, eager, django_capture_on_commit_callbacks):
    trial.result_n_intervention = 130
    trial.save()
    first = run_checks(make_table(trial), analyst, django_capture_on_commit_callbacks)
    resolved = finding(first, "arm_sizes")
    services.finding_resolve(finding=resolved, actor=analyst, note="Explained by the trial team.")
    other_data = trial_frame()
    other_data.loc[0, "SBP"] = 121.5
    elsewhere = run_checks(make_table(trial, other_data, number=2), analyst, django_capture_on_commit_callbacks)
    other = finding(elsewhere, "arm_sizes")
    trial.result_n_intervention = 100
    trial.save()
    # A passing run on the first table: the second table's finding is about other data and stays open.
    with django_capture_on_commit_callbacks(execute=True):
        services.check_run_schedule(table=first.harmonised_table, actor=analyst, trigger=CheckRun.Trigger.ON_DEMAND)
    resolved.refresh_from_db()
    other.refresh_from_db()
    assert resolved.status == Finding.Status.RESOLVED and resolved.resolution_note == "Explained by the trial team."
    assert other.status == Finding.Status.OPEN


def test_the_pages_and_the_api_show_a_superseded_finding(trial, analyst, eager, django_capture_on_commit_callbacks):
    trial.result_n_intervention = 130
    trial.save()
    first = run_checks(make_table(trial), analyst, django_capture_on_commit_callbacks)
    earlier = finding(first, "arm_sizes")
    trial.result_n_intervention = 100
    trial.save()
    later = rerun(trial, analyst, django_capture_on_commit_callbacks)
    api = APIClient()
    api.force_authenticate(analyst)
    body = api.get(f"/api/v1/findings/{earlier.pk}/").json()
    assert (body["status"], body["superseded_by_run"]) == ("superseded", later.pk)
    listed = api.get(f"/api/v1/trials/{trial.pk}/findings/?status=superseded").json()["results"]
    assert [item["id"] for item in listed] == [earlier.pk]
    client = Client()
    client.force_login(analyst)
    page = client.get(reverse("checks:result-detail", args=[earlier.result.pk])).content.decode()
    assert f'Superseded by <a href="{reverse("checks:run-detail", args=[later.pk])}">run #{later.pk}</a>' in page
    run_page = client.get(reverse("checks:run-detail", args=[first.pk])).content.decode()
    assert 'Superseded</span> <span class="muted">by run #' in run_page


def imbalanced_frame(shift: float):
    frame = trial_frame()
    frame.loc[frame.TRT01P == "intervention", "AGE"] += shift
    return frame


def test_a_large_imbalance_is_a_failure_that_holds_the_trial_back(
    trial, analyst, reviewer, eager, django_capture_on_commit_callbacks
):
    trial.status = Status.DATA_RECEIVED
    trial.save()
    run = run_checks(make_table(trial, imbalanced_frame(10)), analyst, django_capture_on_commit_callbacks)
    result = run.results.get(code="baseline_balance")
    age = next(row for row in result.figures["covariates"] if row["variable"] == "AGE")
    assert age["standardised_difference"] > 0.5 and age["grade"] == "fail"
    assert result.status == CheckResult.Status.FAIL
    assert [item.result.code for item in selectors.unresolved_failures(trial)] == ["baseline_balance"]
    with pytest.raises(ApplicationError) as refused:
        trial_services.trial_transition(trial=trial, to_status=Status.DATA_CHECKED, actor=reviewer)
    assert refused.value.status == 409 and "Baseline balance" in refused.value.message
    services.finding_resolve(
        finding=finding(run, "baseline_balance"), actor=reviewer, note="Chance imbalance; age adjusted for."
    )
    trial_services.trial_transition(trial=trial, to_status=Status.DATA_CHECKED, actor=reviewer)


def test_a_small_imbalance_is_a_warning_that_does_not(
    trial, analyst, reviewer, eager, django_capture_on_commit_callbacks
):
    trial.status = Status.DATA_RECEIVED
    trial.save()
    run = run_checks(make_table(trial, imbalanced_frame(1)), analyst, django_capture_on_commit_callbacks)
    result = run.results.get(code="baseline_balance")
    assert result.status == CheckResult.Status.WARNING
    assert selectors.unresolved_failures(trial) == []
    trial_services.trial_transition(trial=trial, to_status=Status.DATA_CHECKED, actor=reviewer)


def test_the_thresholds_are_settings(trial, analyst, settings, eager, django_capture_on_commit_callbacks):
    settings.CHECKS_SMD_WARNING, settings.CHECKS_SMD_FAIL = 0.3, 2.0
    run = run_checks(make_table(trial, imbalanced_frame(10)), analyst, django_capture_on_commit_callbacks)
    result = run.results.get(code="baseline_balance")
    assert result.status == CheckResult.Status.WARNING
    assert result.figures["thresholds"] == {"warning": 0.3, "fail": 2.0}
    assert (run.settings_used["smd_warning"], run.settings_used["smd_fail"]) == (0.3, 2.0)


def test_checking_a_newer_table_supersedes_the_open_findings_of_older_ones(
    trial, analyst, eager, django_capture_on_commit_callbacks
):
    first = run_checks(make_table(trial, imbalanced_frame(10)), analyst, django_capture_on_commit_callbacks)
    old = finding(first, "baseline_balance")
    assert old.status == Finding.Status.OPEN
    # The trial team sends corrected data: a newer table, checked, whose baseline is balanced.
    newer = run_checks(make_table(trial, trial_frame(), number=2), analyst, django_capture_on_commit_callbacks)
    old.refresh_from_db()
    assert (old.status, old.superseded_by_run) == (Finding.Status.SUPERSEDED, newer)
    assert old.resolution_note.startswith(f"Superseded by run {newer.pk} on a newer harmonised table")
    event = AuditEvent.objects.filter(object_type="finding", object_id=str(old.pk)).latest("id")
    assert (event.action, event.actor, event.after["status"]) == ("transition", None, "superseded")
    # Checking the older table again afterwards closes nothing of the newer one's.
    still = run_checks(make_table(trial, imbalanced_frame(10), number=3), analyst, django_capture_on_commit_callbacks)
    raised = finding(still, "baseline_balance")
    with django_capture_on_commit_callbacks(execute=True):
        services.check_run_schedule(table=newer.harmonised_table, actor=analyst, trigger=CheckRun.Trigger.ON_DEMAND)
    raised.refresh_from_db()
    assert raised.status == Finding.Status.OPEN


def test_an_answered_finding_of_an_older_table_stays_for_a_person_to_close(
    trial, analyst, contributor, eager, django_capture_on_commit_callbacks
):
    first = run_checks(make_table(trial, imbalanced_frame(10)), analyst, django_capture_on_commit_callbacks)
    answered = finding(first, "baseline_balance")
    services.finding_reply(finding=answered, actor=contributor, body="Older patients were randomised late.",
                           from_trial_team=True)  # fmt: skip
    run_checks(make_table(trial, trial_frame(), number=2), analyst, django_capture_on_commit_callbacks)
    answered.refresh_from_db()
    assert answered.status == Finding.Status.ANSWERED
