"""The "data checked" gate: a succeeded run on the trial's newest harmonised table with no unresolved failure."""

import pytest

from apps.checks import selectors, services
from apps.checks.models import CheckRun, Finding
from apps.core.errors import ApplicationError
from apps.trials import services as trial_services
from apps.trials.lifecycle import Status
from tests.checks.conftest import make_table
from tests.checks.test_runs import run_checks, spoiled_frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(trial):
    trial.status = Status.DATA_RECEIVED
    trial.save()
    return trial


def refusal(trial, actor) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        trial_services.trial_transition(trial=trial, to_status=Status.DATA_CHECKED, actor=actor)
    trial.refresh_from_db()
    assert trial.status == Status.DATA_RECEIVED
    assert raised.value.status == 409
    return raised.value


def test_refused_without_a_harmonised_table(received, reviewer):
    error = refusal(received, reviewer)
    assert error.code == "no_harmonised_table" and "no harmonised table" in error.message


def test_refused_when_the_newest_table_was_never_checked(received, reviewer):
    make_table(received)
    error = refusal(received, reviewer)
    assert error.code == "never_checked" and "never been checked" in error.message


def test_refused_while_the_checks_are_queued(received, analyst, reviewer):
    run = services.check_run_schedule(table=make_table(received), actor=analyst)  # not run: no commit here
    error = refusal(received, reviewer)
    assert error.code == "checks_running" and f"run #{run.pk}" in error.message and "queued" in error.message


def test_an_older_tables_success_does_not_speak_for_a_newer_table(
    received, analyst, reviewer, eager, django_capture_on_commit_callbacks
):
    older = run_checks(make_table(received), analyst, django_capture_on_commit_callbacks)
    assert older.state == CheckRun.State.SUCCEEDED
    newer = services.check_run_schedule(table=make_table(received, number=2), actor=analyst)
    CheckRun.objects.filter(pk=newer.pk).update(state=CheckRun.State.FAILED, error="The worker was lost.")
    error = refusal(received, reviewer)
    assert error.code == "check_run_failed" and "The worker was lost." in error.message
    assert "run the checks again" in error.message


def test_a_newer_tables_unresolved_failure_holds_the_trial_back(
    received, analyst, reviewer, eager, django_capture_on_commit_callbacks
):
    run_checks(make_table(received), analyst, django_capture_on_commit_callbacks)
    newer = run_checks(make_table(received, spoiled_frame(), number=2), analyst, django_capture_on_commit_callbacks)
    assert refusal(received, reviewer).code == "unresolved_findings"
    failed = Finding.objects.get(result__run=newer, result__code="ids_missing")
    services.finding_resolve(finding=failed, actor=reviewer, note="Two withdrawals without ids.")
    assert selectors.data_check_state(received).checked
    trial_services.trial_transition(trial=received, to_status=Status.DATA_CHECKED, actor=reviewer)
    received.refresh_from_db()
    assert received.status == Status.DATA_CHECKED
