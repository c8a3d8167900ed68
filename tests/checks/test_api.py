"""The checks API: runs, results, affected rows (JSON and CSV), findings and threads, within each role's rights."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from apps.checks.models import CheckRun, Finding
from apps.trials.lifecycle import Status
from tests.checks.conftest import make_table
from tests.checks.test_runs import run_checks, spoiled_frame

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://example.org")'


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def checked(trial, other_trial, analyst, eager, django_capture_on_commit_callbacks):
    """Both trials checked: `trial` with a failure (missing ids) and a warning, `other_trial` with a duplicate."""
    run = run_checks(make_table(trial, spoiled_frame()), analyst, django_capture_on_commit_callbacks)
    frame = spoiled_frame()
    frame["USUBJID"] = frame["USUBJID"].astype(object)
    frame.loc[[10, 20], "USUBJID"] = FORMULA
    other = run_checks(make_table(other_trial, frame), analyst, django_capture_on_commit_callbacks)
    return run, other


def test_a_contributor_sees_only_their_trials_findings(checked, contributor, trial):
    run, other = checked
    api = client_for(contributor)
    listed = api.get(f"/api/v1/reviews/{trial.review_id}/findings/").json()["results"]
    assert {finding["trial"] for finding in listed} == {trial.pk}
    assert {finding["code"] for finding in listed} == {"ids_missing", "follow_up"}
    hidden = Finding.objects.filter(trial=other.trial).first()
    assert api.get(f"/api/v1/findings/{hidden.pk}/").status_code == 404
    assert api.get(f"/api/v1/check-runs/{other.pk}/").status_code == 404
    other_result = other.results.get(code="ids_duplicated")
    assert api.get(f"/api/v1/check-results/{other_result.pk}/rows/").status_code == 404
    assert api.get(f"/api/v1/check-results/{other_result.pk}/rows.csv").status_code == 404
    assert api.get(f"/api/v1/trials/{other.trial_id}/findings/").status_code == 404
    integrity = api.get(f"/api/v1/reviews/{trial.review_id}/integrity/").json()
    assert [row["trial"] for row in integrity["trials"]] == [trial.pk]
    assert api.get(f"/api/v1/check-runs/{run.pk}/").status_code == 200


def test_outsiders_get_404_everywhere(checked, outsider, trial):
    run, _ = checked
    api = client_for(outsider)
    finding = Finding.objects.filter(trial=trial).first()
    for url in (
        f"/api/v1/trials/{trial.pk}/check-runs/",
        f"/api/v1/check-runs/{run.pk}/",
        f"/api/v1/check-results/{finding.result_id}/",
        f"/api/v1/findings/{finding.pk}/",
        f"/api/v1/reviews/{trial.review_id}/integrity/",
        f"/api/v1/trials/{trial.pk}/check-settings/",
    ):
        assert api.get(url).status_code == 404, url
    assert api.post(f"/api/v1/findings/{finding.pk}/messages/", {"body": "hello"}).status_code == 404


def test_run_list_detail_and_on_demand_start(checked, trial, analyst, reviewer, contributor):
    run, _ = checked
    api = client_for(analyst)
    listed = api.get(f"/api/v1/trials/{trial.pk}/check-runs/").json()["results"]
    assert [item["id"] for item in listed] == [run.pk]
    detail = api.get(f"/api/v1/check-runs/{run.pk}/").json()
    assert detail["state"] == "succeeded" and detail["progress"] == 100
    assert [result["code"] for result in detail["results"]][:2] == ["ids_missing", "ids_duplicated"]
    assert detail["results"][0]["status"] == "fail" and detail["results"][0]["finding"] is not None
    started = api.post(f"/api/v1/trials/{trial.pk}/check-runs/")
    assert started.status_code == 202
    assert CheckRun.objects.get(pk=started.json()["id"]).trigger == CheckRun.Trigger.ON_DEMAND
    for user in (reviewer, contributor):
        refused = client_for(user).post(f"/api/v1/trials/{trial.pk}/check-runs/")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "permission_denied"


def test_affected_rows_as_json_and_escaped_csv(checked, analyst):
    _, other = checked
    result = other.results.get(code="ids_duplicated")
    api = client_for(analyst)
    rows = api.get(f"/api/v1/check-results/{result.pk}/rows/").json()
    assert rows["affected_count"] == 2 and rows["shown"] == 2
    assert [row["source_row"] for row in rows["rows"]] == [11, 21]
    assert rows["rows"][0]["USUBJID"] == FORMULA
    assert rows["rows"][0]["RANDDT"] == "2019-01-12"
    download = api.get(f"/api/v1/check-results/{result.pk}/rows.csv")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [row["source_row"] for row in table] == ["11", "21"]
    assert table[0]["USUBJID"] == "'" + FORMULA


def test_working_a_finding_through_its_thread(checked, trial, contributor, reviewer):
    finding = Finding.objects.get(trial=trial, result__code="ids_missing")
    as_contributor, as_reviewer = client_for(contributor), client_for(reviewer)
    posted = as_contributor.post(f"/api/v1/findings/{finding.pk}/messages/", {"body": "Site 4 lost two ids."})
    assert posted.status_code == 201 and posted.json()["author"] == contributor.username
    assert as_contributor.get(f"/api/v1/findings/{finding.pk}/").json()["status"] == "answered"
    assert as_contributor.post(f"/api/v1/findings/{finding.pk}/resolve/", {"note": "fine"}).status_code == 403
    empty = as_reviewer.post(f"/api/v1/findings/{finding.pk}/resolve/", {"note": ""})
    assert empty.status_code == 400 and "note" in empty.json()["error"]["details"]
    resolved = as_reviewer.post(f"/api/v1/findings/{finding.pk}/resolve/", {"note": "Ids recovered from site logs."})
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["status"] == "resolved" and body["resolved_by"] == reviewer.username
    assert [message["body"] for message in body["messages"]] == ["Site 4 lost two ids."]
    assert as_reviewer.get(f"/api/v1/trials/{trial.pk}/findings/?status=resolved").json()["count"] == 1


def test_data_checked_is_refused_through_the_api_while_unresolved(checked, trial, reviewer):
    trial.status = Status.DATA_RECEIVED
    trial.save()
    api = client_for(reviewer)
    refused = api.post(f"/api/v1/trials/{trial.pk}/transition/", {"to_status": "data_checked"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "unresolved_findings" and "Participant ids present" in error["message"]
    finding = Finding.objects.get(trial=trial, result__code="ids_missing")
    assert error["details"]["unresolved_findings"] == [finding.pk]
    api.post(f"/api/v1/findings/{finding.pk}/resolve/", {"note": "Explained."})
    moved = api.post(f"/api/v1/trials/{trial.pk}/transition/", {"to_status": "data_checked"})
    assert moved.status_code == 201
    assert moved.json()["status"] == "data_checked"
    trial.refresh_from_db()
    assert trial.status == Status.DATA_CHECKED
    assert trial.transitions.get().to_status == Status.DATA_CHECKED


def test_check_settings_read_and_changed_by_the_review_team(trial, reviewer, contributor):
    url = f"/api/v1/trials/{trial.pk}/check-settings/"
    assert client_for(contributor).get(url).json()["ids_sequential"] is True
    assert client_for(contributor).patch(url, {"data_cutoff": "2022-01-01"}).status_code == 403
    changed = client_for(reviewer).patch(url, {"data_cutoff": "2022-01-01", "allocation_ratio": 2})
    assert changed.status_code == 200 and changed.json()["data_cutoff"] == "2022-01-01"
    bad = client_for(reviewer).patch(url, {"recruitment_end": "2010-01-01"})
    assert bad.status_code == 400 and "recruitment_end" in bad.json()["error"]["details"]


def test_integrity_summary_for_the_review_team(checked, trial, other_trial, analyst):
    body = client_for(analyst).get(f"/api/v1/reviews/{trial.review_id}/integrity/").json()
    assert body["counts"] == {
        "trials": 2,
        "trials_checked": 2,
        "trials_with_issues": 2,
        "issues": 4,
        "issues_resolved": 0,
        "trials_out_of_date": 0,
    }
    statuses = {row["trial"]: row["statuses"] for row in body["trials"]}
    assert statuses[trial.pk]["ids_missing"] == "fail" and statuses[other_trial.pk]["ids_duplicated"] == "fail"
