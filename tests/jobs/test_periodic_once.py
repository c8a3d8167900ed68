"""Periodic work happens once per period, however many schedulers send it."""

import datetime
import importlib
import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from apps.core.models import AuditEvent
from apps.jobs.models import PeriodicRun
from apps.jobs.periodic import period_slot, run_once
from apps.trials.tasks import agreements_mark_expired_task
from ipdreview.celery import app as celery_app
from tests.factories import AgreementFactory, ContactAttemptFactory, MembershipFactory, TrialFactory, UserFactory
from tests.workers import BASE_DIR, start_worker, stop_worker, wait_for

DAILY = ("followups-notify-due", "agreements-mark-expired")


def test_period_slots():
    moment = datetime.datetime(2026, 12, 7, 17, 5, 30, tzinfo=datetime.UTC)
    assert period_slot("minute", moment) == "2026-12-07T17:05"
    assert period_slot("hour", moment) == "2026-12-07T17"
    assert period_slot("day", moment) == "2026-12-07"
    assert period_slot("week", moment) == "2026-W50"
    assert period_slot(60.0, moment) == f"60s-{int(moment.timestamp() // 60)}"
    assert period_slot(2, moment) != period_slot(2, moment + datetime.timedelta(seconds=2))
    with pytest.raises(ValueError):
        period_slot("fortnight", moment)


@pytest.mark.django_db
def test_a_second_run_for_the_same_period_does_nothing_and_a_failed_run_can_be_tried_again():
    calls = []
    assert run_once("demo", "2026-12-07", lambda: calls.append(1) or 3) == 3
    assert run_once("demo", "2026-12-07", lambda: calls.append(1) or 3) is None
    assert calls == [1]
    assert run_once("demo", "2026-12-08", lambda: 4) == 4

    def fails():
        raise RuntimeError("mail server down")

    with pytest.raises(RuntimeError):
        run_once("demo", "2026-12-09", fails)
    assert run_once("demo", "2026-12-09", lambda: 5) == 5
    assert PeriodicRun.objects.get(name="demo", slot="2026-12-09").result == 5


@pytest.mark.django_db
def test_the_daily_tasks_apply_an_expiry_once_per_day():
    AgreementFactory(status="signed", signed_on=datetime.date(2025, 1, 1), expires_on=datetime.date(2026, 6, 1))
    assert agreements_mark_expired_task.apply(args=["2026-06-15"]).get() == 1
    assert agreements_mark_expired_task.apply(args=["2026-06-15"]).get() is None
    assert PeriodicRun.objects.filter(name="agreements-mark-expired").count() == 1


@pytest.mark.django_db
def test_every_periodic_task_in_the_schedule_runs_once_per_period():
    """A schedule entry whose task did not claim its period would run twice under two beats."""
    for entry in celery_app.conf.beat_schedule.values():
        importlib.import_module(entry["task"].rsplit(".", 1)[0])
        task = celery_app.tasks[entry["task"]]
        first, second = task.apply().get(), task.apply().get()
        assert first is not None and second is None, entry["task"]
    assert PeriodicRun.objects.count() == len(celery_app.conf.beat_schedule)


def _start_beat(queue: str, schedule_file) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "TEST_BEAT_QUEUE": queue,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.beat_app",
        "beat",
        "--loglevel=INFO",
        "-s",
        str(schedule_file),
    ]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_beats_running_send_each_reminder_and_apply_each_expiry_once(tmp_path):
    today = datetime.date.today()
    owner = UserFactory(username="owner")
    trial = TrialFactory(status="contacted")
    MembershipFactory(review=trial.review, user=owner, role="reviewer")
    attempt = ContactAttemptFactory(
        trial=trial, date=today - datetime.timedelta(days=14), next_follow_up=today, owner=owner
    )
    agreement = AgreementFactory(
        status="signed", signed_on=datetime.date(2025, 1, 1), expires_on=today - datetime.timedelta(days=1)
    )
    queue = f"test-beats-{os.getpid()}"
    worker = start_worker(queue)
    beats = [_start_beat(queue, tmp_path / f"beat-{n}") for n in (1, 2)]
    try:
        # Both beats send every periodic task every second: wait for several deliveries of each daily task.
        wait_for(lambda: PeriodicRun.objects.filter(name__in=DAILY).count() == 2, timeout=60, what="the daily runs")
        time.sleep(6)
    finally:
        beat_output = "".join(stop_worker(beat) for beat in beats)
        output = stop_worker(worker)
    sent = beat_output.count("Scheduler: Sending due task followups-notify-due")
    assert sent >= 4, beat_output[-2000:]
    assert output.count("followups_notify_due_task[") >= 4
    for name in DAILY:
        assert PeriodicRun.objects.filter(name=name).count() == 1, name
    # One reminder, one expiry: each written (and audited) once.
    attempt.refresh_from_db()
    agreement.refresh_from_db()
    assert attempt.notified_at is not None and agreement.status == "expired"
    reminders = AuditEvent.objects.filter(object_type="contactattempt", object_id=str(attempt.pk), action="update")
    expiries = AuditEvent.objects.filter(object_type="agreement", object_id=str(agreement.pk), action="update")
    assert reminders.count() == 1 and expiries.count() == 1
    # The per-minute reaper ran at most once per minute.
    slots = list(PeriodicRun.objects.filter(name="jobs-reap-stale").values_list("slot", flat=True))
    assert slots and len(slots) == len(set(slots))
    assert "already ran: skipped" in output
