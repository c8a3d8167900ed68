"""Test settings: PostgreSQL, Redis and file storage as in production, locmem e-mail, a fast password hasher."""

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import dj_database_url

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-key-ipd-review-abcdefghijklmnopqrstuvwxyz-0123456789"
DATABASES = {
    "default": dj_database_url.parse(env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview")),
}
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Files go to disk, as in production, in a folder of this test run. The worker processes a test starts inherit
# the variable, so they read and write the same folder; the process that made the folder removes it at exit.
if "IPDREVIEW_TEST_FILES" not in os.environ:
    os.environ["IPDREVIEW_TEST_FILES"] = tempfile.mkdtemp(prefix="ipdreview-test-")
    atexit.register(shutil.rmtree, os.environ["IPDREVIEW_TEST_FILES"], ignore_errors=True)
TEST_FILES_ROOT = Path(os.environ["IPDREVIEW_TEST_FILES"])
MEDIA_ROOT = TEST_FILES_ROOT / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "datasets": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("DATASET_STORAGE_ROOT", str(TEST_FILES_ROOT / "datasets"))},
    },
}
# Rate-limit counts in Redis, as in production, so that every process of the run shares them. The keys carry a
# prefix of this run (inherited by the processes it starts) and are removed by prefix, never by flushing the
# database the Celery broker uses (tests/conftest.py: cache_clear). TEST_CACHE_URL puts them in a Redis
# database of their own.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("TEST_CACHE_URL", REDIS_URL),
        "KEY_PREFIX": os.environ.setdefault("IPDREVIEW_TEST_CACHE_PREFIX", f"ipdreview-test-{uuid.uuid4().hex}"),
    }
}
# Rates high enough for the suite's own logins (the throttle tests lower them).
API_TOKEN_THROTTLE_RATE = "1000/min"
LOGIN_THROTTLE_RATE = "1000/min"
# Serve static files from the app directories, so tests need no collectstatic.
WHITENOISE_AUTOREFRESH = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
