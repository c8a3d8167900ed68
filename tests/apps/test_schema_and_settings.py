"""The OpenAPI schema generates without warnings; production settings refuse to start without their secrets
and pass `check --deploy` when they have them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parents[2]
LONG_SECRET = "x8#Kq2!vLm9@Zt4$Wp7&Rb1*Nc6^Hd3%Fg5(Js0)Yu-Ea=Ti+Oo~Ss"


def test_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/v1/trials/{id}/", "/api/v1/trials/{trial_id}/transition/", "/api/v1/auth/token/"):
        assert f"  {path}:" in schema
    assert "PaginatedTrialList" in schema


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_cdn(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar" in html or "/static/" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


@pytest.mark.django_db
def test_the_docs_page_leads_back_to_the_app(client):
    html = client.get("/api/docs/").content.decode()
    assert '<a href="/" id="back-to-app"' in html and "Back to IPD Review" in html
    assert 'id="swagger-ui"' in html  # drf-spectacular's page is kept whole below the link


def _run_production(args: list[str], **env_overrides) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env.update({"DJANGO_SETTINGS_MODULE": "ipdreview.settings.production", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("missing", "present"),
    [
        ("DJANGO_SECRET_KEY", {"DJANGO_ALLOWED_HOSTS": "ipd.example.org"}),
        ("DJANGO_ALLOWED_HOSTS", {"DJANGO_SECRET_KEY": LONG_SECRET}),
    ],
)
def test_production_refuses_to_start_without_its_secrets(missing, present):
    result = _run_production(["check"], **present)
    assert result.returncode != 0
    assert f"{missing} must be set for production settings" in result.stderr


def test_production_check_deploy_is_clean():
    result = _run_production(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SECRET_KEY=LONG_SECRET,
        DJANGO_ALLOWED_HOSTS="ipd.example.org",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in output
