"""The parts of the Docker set-up that can run without a Docker engine: the compose file's shape, the
commands its services run, and the image's build step (collectstatic under production settings)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[1]
SERVICES = {"web", "worker", "beat", "db", "redis"}


def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_compose_runs_every_service_with_a_health_check():
    services = compose()["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert service["healthcheck"]["test"], f"{name} has no health check"


def test_app_services_wait_for_healthy_database_and_redis_and_share_media():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379")
        assert "media:/app/media" in service["volumes"]


def test_worker_consumes_every_named_queue():
    from ipdreview.celery import QUEUES

    command = compose()["services"]["worker"]["command"]
    queues = command.split("--queues", 1)[1].split()[0].split(",")
    assert set(queues) == set(QUEUES) == {"default", "ingest", "checks", "analysis"}


@pytest.mark.django_db
def test_web_serves_the_wsgi_application_and_its_health_check_path_answers(client):
    command = compose()["services"]["web"]["command"]
    assert "gunicorn ipdreview.wsgi:application" in command
    assert "migrate --noinput" in command
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_image_build_step_collects_static_files_under_production_settings(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="ipdreview.settings.production",
        DJANGO_SECRET_KEY="collectstatic-only",
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "css" / "app.css").is_file()
    assert (tmp_path / "admin" / "css" / "base.css").is_file()
