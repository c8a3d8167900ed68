"""The Celery app: named queues, routes by app module, and the beat schedule."""

import os

from celery import Celery, signals
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipdreview.settings.base")

app = Celery("ipdreview")
app.config_from_object("django.conf:settings", namespace="CELERY")

QUEUES = ("default", "ingest", "checks", "analysis")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_default_queue = "default"
# Uploads and parsing, integrity checks and analyses each get their own queue, so a long analysis
# never holds up a reminder e-mail.
app.conf.task_routes = {
    "apps.datasets.*": {"queue": "ingest"},
    "apps.harmonisation.*": {"queue": "ingest"},
    "apps.checks.*": {"queue": "checks"},
    "apps.analyses.*": {"queue": "analysis"},
    "*": {"queue": "default"},
}
app.conf.beat_schedule = {
    "followups-notify-due": {
        "task": "apps.trials.tasks.followups_notify_due_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "agreements-mark-expired": {
        "task": "apps.trials.tasks.agreements_mark_expired_task",
        "schedule": crontab(hour=1, minute=0),
    },
    "jobs-reap-stale": {
        "task": "apps.jobs.tasks.jobs_reap_stale_task",
        "schedule": float(os.environ.get("JOBS_REAP_EVERY_SECONDS", "60")),
    },
    "storage-verify": {
        "task": "apps.jobs.tasks.storage_verify_task",
        "schedule": crontab(day_of_week="sun", hour=3, minute=0),
    },
    "datasets-remove-stale-partials": {
        "task": "apps.datasets.tasks.partials_remove_stale_task",
        "schedule": crontab(minute=30),
    },
}
app.autodiscover_tasks()


@signals.worker_init.connect
def worker_memory_setup(**_):
    """Before the pool starts, so that its processes and the parse's forkserver inherit the setting."""
    from django.conf import settings

    from apps.jobs.memory import huge_pages_off

    if not settings.JOBS_TRANSPARENT_HUGE_PAGES:
        huge_pages_off()
