"""The analyses API: definitions, runs (202 then 200 when unchanged), a run's forest figure and table, the
sensitivity family; analysts and coordinators define and run, reviewers read, contributors get 403 and people
outside the review 404, and a refused request changes nothing."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from apps.analyses.models import Analysis, AnalysisRun
from apps.core.models import AuditEvent
from tests.analyses.conftest import outcome

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def analysis(review, trials, analyst):
    response = client_for(analyst).post(
        f"/api/v1/reviews/{review.pk}/analyses/",
        {"name": "Death", "outcome": outcome(review, "Death").pk, "adjust": ["AGE"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Analysis.objects.get(pk=response.json()["id"])


@pytest.fixture
def run(analysis, analyst, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(analyst).post(f"/api/v1/analyses/{analysis.pk}/runs/")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    return AnalysisRun.objects.get(pk=response.json()["id"])


def test_an_analysis_is_defined_and_read_with_variables_by_name(analysis, reviewer):
    body = client_for(reviewer).get(f"/api/v1/analyses/{analysis.pk}/").json()
    assert body["treatment"] == "TRT01P" and body["outcome_variable"] == "DEATH"
    assert body["adjust"] == ["AGE"] and body["interaction"] is None
    assert (body["measure"], body["approach"], body["tau2"], body["ci"]) == ("OR", "two-stage", "REML", "wald")
    assert body["newest_run"] is None
    listed = client_for(reviewer).get(f"/api/v1/reviews/{analysis.review_id}/analyses/").json()
    assert [item["id"] for item in listed["results"]] == [analysis.pk]


def test_a_bad_definition_is_a_400_naming_the_field_and_changes_nothing(review, analyst):
    api = client_for(analyst)
    cases = [
        ({"name": "A", "outcome": outcome(review, "Death").pk, "interaction": "UNKNOWN"}, "interaction"),
        ({"name": "A", "outcome": outcome(review, "Death").pk, "measure": "HR"}, "measure"),
        ({"name": "A", "outcome": outcome(review, "Death").pk, "approach": "one-stage", "ci": "hksj"}, "ci"),
        ({"name": "A", "outcome": outcome(review, "Death").pk, "quadrature": 3}, "quadrature"),
        ({"name": "A", "outcome": 999999}, "outcome"),
        ({"name": "A", "outcome": outcome(review, "Death").pk, "adjust": "AGE"}, "adjust"),
    ]
    for body, field in cases:
        response = api.post(f"/api/v1/reviews/{review.pk}/analyses/", body, format="json")
        assert response.status_code == 400, (body, response.json())
        error = response.json()["error"]
        assert error["code"] == "invalid" and field in error["details"], error
    assert not Analysis.objects.exists() and not AuditEvent.objects.filter(object_type="analysis").exists()


def test_a_run_is_queued_then_returned_unchanged_with_200(run, analysis, analyst, reviewer):
    body = client_for(reviewer).get(f"/api/v1/analysis-runs/{run.pk}/").json()
    assert body["status"] == "succeeded" and body["progress"] == 100 and body["error"] == ""
    assert body["spec"]["columns"] == {"trial": "trial", "treatment": "TRT01P", "outcome": "DEATH"}
    assert "data" not in body["spec"]
    assert body["engine_version"] and body["result"]["pooled"]["k"] == 4
    assert set(body["inputs"][0]) >= {"trial", "harmonised_table", "sha256", "n"}
    assert body["left_out"] == []
    again = client_for(analyst).post(f"/api/v1/analyses/{analysis.pk}/runs/")
    assert again.status_code == 200 and again.json()["id"] == run.pk
    runs = client_for(reviewer).get(f"/api/v1/analyses/{analysis.pk}/runs/").json()["results"]
    assert [item["id"] for item in runs] == [run.pk]
    assert runs[0]["headline"]["k"] == 4


def test_the_forest_figure_and_its_table(run, reviewer, trials):
    api = client_for(reviewer)
    figure = api.get(f"/api/v1/analysis-runs/{run.pk}/forest/").json()
    assert set(figure) == {"data", "layout"}
    assert figure["layout"]["xaxis"]["type"] == "log"
    squares = next(trace for trace in figure["data"] if trace.get("name") == "Trial estimate")
    assert len(squares["x"]) == 4
    diamonds = [trace for trace in figure["data"] if trace.get("fill") == "toself"]
    assert len(diamonds) == 1
    assert api.get(f"/api/v1/analysis-runs/{run.pk}/forest/?plot=interaction").status_code == 404
    response = api.get(f"/api/v1/analysis-runs/{run.pk}/table.csv?sort=weight")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    weights = [float(row["weight_percent"]) for row in rows[:4]]
    assert weights == sorted(weights, reverse=True)
    assert {row["registry_id"] for row in rows[:4]} == {trial.registry_id for trial in trials}
    assert rows[4]["trial"].startswith("Pooled (two-stage) (k = 4)")
    total = sum(float(row["weight_percent"]) for row in rows[:4])
    assert abs(total - 100) < 1e-9


def test_the_sensitivity_family_through_the_api(analysis, analyst, reviewer, eager, django_capture_on_commit_callbacks):
    api = client_for(reviewer)
    assert api.get(f"/api/v1/analyses/{analysis.pk}/sensitivity/").json()["status"] == "never_run"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(analyst).post(f"/api/v1/analyses/{analysis.pk}/sensitivity/")
    assert response.status_code == 202
    body = api.get(f"/api/v1/analyses/{analysis.pk}/sensitivity/").json()
    assert body["status"] == "succeeded"
    labels = [entry["label"] for entry in body["analyses"]]
    assert labels[:4] == ["as specified", "fixed effect", "HKSJ", "one-stage"]
    assert all(set(entry) >= {"label", "k", "pooled", "heterogeneity", "error"} for entry in body["analyses"])
    assert len(body["leave_one_out"]) == 4 and body["leave_one_out"][0]["label"].startswith("leave out NCT")
    assert body["left_out"] == [] and body["aggregate_left_out"] == []
    again = client_for(analyst).post(f"/api/v1/analyses/{analysis.pk}/sensitivity/")
    assert again.status_code == 200 and again.json()["run"] == body["run"]
    figure = api.get(f"/api/v1/analysis-runs/{body['run']}/forest/?plot=leave-one-out").json()
    assert figure["layout"]["xaxis"]["type"] == "log"


def test_reviewers_read_but_do_not_define_change_or_run(analysis, reviewer):
    api = client_for(reviewer)
    before = (Analysis.objects.get(pk=analysis.pk).name, AnalysisRun.objects.count(), AuditEvent.objects.count())
    attempts = [
        api.post(f"/api/v1/reviews/{analysis.review_id}/analyses/", {"name": "X", "outcome": analysis.outcome_id}),
        api.patch(f"/api/v1/analyses/{analysis.pk}/", {"name": "Renamed"}, format="json"),
        api.delete(f"/api/v1/analyses/{analysis.pk}/"),
        api.post(f"/api/v1/analyses/{analysis.pk}/runs/"),
        api.post(f"/api/v1/analyses/{analysis.pk}/sensitivity/"),
    ]
    for response in attempts:
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    after = (Analysis.objects.get(pk=analysis.pk).name, AnalysisRun.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_contributors_get_403_and_outsiders_404(run, analysis, contributor, outsider):
    urls = [
        f"/api/v1/reviews/{analysis.review_id}/analyses/",
        f"/api/v1/analyses/{analysis.pk}/",
        f"/api/v1/analyses/{analysis.pk}/runs/",
        f"/api/v1/analyses/{analysis.pk}/sensitivity/",
        f"/api/v1/analysis-runs/{run.pk}/",
        f"/api/v1/analysis-runs/{run.pk}/forest/",
        f"/api/v1/analysis-runs/{run.pk}/table.csv",
    ]
    for user, code, name in ((contributor, 403, "permission_denied"), (outsider, 404, "not_found")):
        api = client_for(user)
        for url in urls:
            response = api.get(url)
            assert response.status_code == code, (url, response.status_code)
            assert response.json()["error"]["code"] == name
        assert api.post(f"/api/v1/analyses/{analysis.pk}/runs/").status_code == code
        assert api.patch(f"/api/v1/analyses/{analysis.pk}/", {"name": "X"}, format="json").status_code == code
        assert api.delete(f"/api/v1/analyses/{analysis.pk}/").status_code == code
    assert Analysis.objects.get(pk=analysis.pk).name == "Death"
    assert AnalysisRun.objects.count() == 1


def test_a_malformed_id_is_a_404_not_a_500(reviewer, analysis):
    api = client_for(reviewer)
    assert api.get("/api/v1/analysis-runs/99999999/").status_code == 404
    assert api.get(f"/api/v1/analyses/{analysis.pk}/sensitivity/").status_code == 200


def test_patch_changes_and_delete_removes(analysis, analyst):
    api = client_for(analyst)
    response = api.patch(f"/api/v1/analyses/{analysis.pk}/", {"approach": "one-stage"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["approach"], response.json()["tau2"], response.json()["quadrature"]) == ("one-stage", "", 1)
    assert api.delete(f"/api/v1/analyses/{analysis.pk}/").status_code == 204
    assert not Analysis.objects.exists()
