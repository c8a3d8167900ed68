"""The project's Celery app with its beat schedule sped up for a test: every periodic task sent every second
to the test's own queue (TEST_BEAT_QUEUE), under its own name and task, so a test can run two beats at once."""

import os

from ipdreview.celery import app

QUEUE = os.environ["TEST_BEAT_QUEUE"]
app.conf.beat_schedule = {
    name: {**entry, "schedule": 1.0, "options": {"queue": QUEUE}} for name, entry in app.conf.beat_schedule.items()
}
