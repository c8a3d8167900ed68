"""The defaults a process gets when it starts with no settings module of its own (wsgi, asgi, celery all fall
back to ipdreview.settings.base): debug is off, and participant files live outside MEDIA_ROOT where no URL
serves them, even when debug is turned on."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
from django.conf import settings
from django.urls import Resolver404, resolve

django.setup()
try:
    resolve(settings.MEDIA_URL + "datasets/uploads/ab/" + "ab" * 32)
    media_served = True
except Resolver404:
    media_served = False
print(json.dumps({
    "debug": settings.DEBUG,
    "media_root": str(settings.MEDIA_ROOT),
    "datasets_root": str(settings.STORAGES["datasets"]["OPTIONS"]["location"]),
    "media_served": media_served,
}))
"""


def _probe(**env_overrides) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATASET_"))}
    env.pop("DATABASE_URL", None)
    env.update({"DJANGO_SETTINGS_MODULE": "ipdreview.settings.base", **env_overrides})
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_base_settings_start_with_debug_off():
    assert _probe()["debug"] is False


def test_debug_is_on_only_when_asked_for():
    assert _probe(DJANGO_DEBUG="1")["debug"] is True


def test_dataset_storage_defaults_to_a_directory_outside_media_root():
    probe = _probe()
    media_root, datasets_root = Path(probe["media_root"]), Path(probe["datasets_root"])
    assert datasets_root == BASE_DIR / "var" / "datasets"
    assert not datasets_root.is_relative_to(media_root)


def test_dataset_storage_root_can_still_be_set_from_the_environment(tmp_path):
    assert _probe(DATASET_STORAGE_ROOT=str(tmp_path))["datasets_root"] == str(tmp_path)


def test_no_url_serves_media_files_even_with_debug_on():
    probe = _probe(DJANGO_DEBUG="1")
    assert probe["debug"] is True
    assert probe["media_served"] is False
