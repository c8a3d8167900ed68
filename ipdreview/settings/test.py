"""Test settings: PostgreSQL and Redis as in production, locmem e-mail, a fast password hasher."""

import os

import dj_database_url

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from .base import *  # noqa: E402,F403
from .base import BASE_DIR, env  # noqa: E402

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
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # On disk, so that a worker process started by a test reads the files the test uploaded.
    "datasets": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("DATASET_STORAGE_ROOT", str(MEDIA_ROOT / "datasets"))},
    },
}
# One process: counts in memory; rates high enough for the suite's own logins (throttle tests lower them).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_TOKEN_THROTTLE_RATE = "1000/min"
LOGIN_THROTTLE_RATE = "1000/min"
# Serve static files from the app directories, so tests need no collectstatic.
WHITENOISE_AUTOREFRESH = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
