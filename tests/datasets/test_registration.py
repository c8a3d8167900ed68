"""The parse task is known to a web process that never imports it, so an upload without a broker gets parsed.

The checks run in a fresh interpreter: this package's conftest imports the task, which would hide the fault.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SETTINGS = """
from ipdreview.settings.test import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    **STORAGES,
    "datasets": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": %r}},
}
"""

SCRIPT = """
import sys

import django

django.setup()

from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from apps.datasets import services

registered = services.PARSE_TASK in current_app.tasks
print("registered", registered)
if "apps.datasets.tasks" in sys.modules and not registered:
    sys.exit("the task module was imported but its task is not registered")

call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.reviews.models import Review
from apps.trials.models import Agreement, Trial

review = Review.objects.create(title="Exercise for back pain")
trial = Trial.objects.create(review=review, title="BACK-FIT")
Agreement.objects.create(trial=trial, status=Agreement.Status.SIGNED, signed_on=timezone.localdate())
user = get_user_model().objects.create_user(username="analyst", password="x")
upload = SimpleUploadedFile("trial.csv", b"id,arm\\n1,1\\n2,2\\n")
version, _ = services.dataset_upload(trial=trial, actor=user, file=upload)
version.refresh_from_db()
print("status", version.status)
"""


def run_fresh_process(tmp_path) -> str:
    (tmp_path / "eager_settings.py").write_text(SETTINGS % str(tmp_path / "datasets"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "eager_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(BASE_DIR)]),
    }
    code = textwrap.dedent(SCRIPT)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_parse_task_is_registered_and_an_upload_without_a_broker_ends_parsed(tmp_path):
    output = run_fresh_process(tmp_path)

    assert "registered True" in output
    assert "status parsed" in output
