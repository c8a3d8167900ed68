"""The beat entry every stale-job recovery depends on: the reaper, sent every minute to a queue a worker reads, by
a task name the workers know."""

import datetime

import pytest
from celery.beat import ScheduleEntry
from django.utils import timezone

from apps.jobs.models import Job
from ipdreview.celery import app as celery_app

REAPER_TASK = "apps.jobs.tasks.jobs_reap_stale_task"


@pytest.fixture
def worker_tasks():
    """The tasks a worker knows: it imports the apps' task modules (autodiscovery) as it starts."""
    celery_app.loader.import_default_modules()
    return celery_app.tasks


def reaper_entries() -> list[tuple[str, dict]]:
    return [(name, entry) for name, entry in celery_app.conf.beat_schedule.items() if entry["task"] == REAPER_TASK]


def test_beat_has_one_reaper_entry_every_minute():
    [(name, entry)] = reaper_entries()
    schedule = ScheduleEntry(name=name, app=celery_app, **entry).schedule
    assert schedule.run_every == datetime.timedelta(seconds=60)
    now = schedule.now()
    assert schedule.is_due(now - datetime.timedelta(seconds=61)).is_due
    assert not schedule.is_due(now - datetime.timedelta(seconds=30)).is_due


def test_the_reaper_task_is_registered_and_sent_to_the_default_queue(worker_tasks):
    assert REAPER_TASK in worker_tasks
    assert celery_app.amqp.router.route({}, REAPER_TASK)["queue"].name == "default"
    assert "default" in {queue.name for queue in celery_app.conf.task_queues}


@pytest.mark.django_db
def test_the_task_beat_sends_reaps_a_silent_job(settings, worker_tasks):
    silent = timezone.now() - datetime.timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS + 60)
    job = Job.objects.create(
        kind="test", task_name="tests.jobs.not_a_task", state=Job.State.RUNNING, attempts=3, max_attempts=3
    )
    Job.objects.filter(pk=job.pk).update(heartbeat_at=silent)
    beating = Job.objects.create(
        kind="test", task_name="tests.jobs.not_a_task", state=Job.State.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    [(_, entry)] = reaper_entries()
    assert worker_tasks[entry["task"]].apply().get() == 1
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error.startswith("The worker running this job stopped responding")
    assert Job.objects.get(pk=beating.pk).state == Job.State.RUNNING
