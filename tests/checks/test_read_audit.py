"""Reads of participant data are recorded (who, when, what, from where): downloads of harmonised tables and
of affected rows, and every listing of rows, in the API and the pages. Refused reads record nothing."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.core.models import DataAccessEvent
from tests.checks.conftest import make_table
from tests.checks.test_runs import run_checks, spoiled_frame

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient(REMOTE_ADDR="192.0.2.10")
    client.force_authenticate(user)
    return client


@pytest.fixture
def checked(trial, analyst, eager, django_capture_on_commit_callbacks):
    table = make_table(trial, spoiled_frame())
    run = run_checks(table, analyst, django_capture_on_commit_callbacks)
    result = run.results.filter(affected_count__gt=0).order_by("pk").first()
    assert result is not None
    return table, result


def _events():
    return list(DataAccessEvent.objects.order_by("id"))


def test_api_row_listings_and_downloads_are_recorded(checked, analyst, trial):
    table, result = checked
    api = client_for(analyst)
    assert api.get(f"/api/v1/check-results/{result.pk}/rows/?limit=3").status_code == 200
    assert api.get(f"/api/v1/check-results/{result.pk}/rows.csv").status_code == 200
    parquet = api.get(f"/api/v1/harmonised-tables/{table.pk}/table.parquet")
    assert parquet.status_code == 200
    assert api.get(f"/api/v1/harmonised-tables/{table.pk}/table.csv").status_code == 200
    events = _events()
    assert [(event.action, event.object_type) for event in events] == [
        ("view", "checkresult"),
        ("download", "checkresult"),
        ("download", "harmonisedtable"),
        ("download", "harmonisedtable"),
    ]
    assert all(event.actor == analyst and event.trial == trial and event.review == trial.review for event in events)
    assert all(event.client_ip == "192.0.2.10" for event in events)
    assert events[0].detail["rows"] == min(3, result.affected_count)
    assert events[1].detail["rows"] == result.affected_count
    assert [event.detail.get("format") for event in events[2:]] == ["parquet", "csv"]
    assert events[0].object_id == str(result.pk) and events[0].detail["path"].endswith("/rows/")


def test_page_row_listings_and_downloads_are_recorded(checked, analyst):
    _, result = checked
    client = Client()
    client.force_login(analyst)
    assert client.get(f"/check-results/{result.pk}/").status_code == 200
    assert client.get(f"/check-results/{result.pk}/rows.csv").status_code == 200
    assert [(event.action, event.actor) for event in _events()] == [("view", analyst), ("download", analyst)]


def test_refused_reads_record_nothing(checked, outsider):
    table, result = checked
    api = client_for(outsider)
    assert api.get(f"/api/v1/check-results/{result.pk}/rows/").status_code == 404
    assert api.get(f"/api/v1/harmonised-tables/{table.pk}/table.csv").status_code == 404
    assert _events() == []


def test_the_review_s_coordinators_read_the_access_log(checked, analyst, coordinator, trial):
    _, result = checked
    client_for(analyst).get(f"/api/v1/check-results/{result.pk}/rows.csv")
    log = client_for(coordinator).get(f"/api/v1/reviews/{trial.review_id}/access-log/")
    assert log.status_code == 200
    rows = log.json()["results"]
    assert [(row["actor"], row["action"], row["object_type"]) for row in rows] == [
        (analyst.username, "download", "checkresult")
    ]
    assert client_for(analyst).get(f"/api/v1/reviews/{trial.review_id}/access-log/").status_code == 403
