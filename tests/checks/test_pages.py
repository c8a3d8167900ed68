"""The integrity pages: the review's table and counts, a run, a result with its rows and thread, the forms."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.checks.models import CheckResult, CheckRun, Finding
from tests.checks.conftest import make_table
from tests.checks.test_api import FORMULA
from tests.checks.test_runs import run_checks, spoiled_frame

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def checked(trial, other_trial, analyst, eager, django_capture_on_commit_callbacks):
    trial.result_measure, trial.result_estimate, trial.result_ci_low, trial.result_ci_high = "RR", 1.0, 0.5, 2.0
    trial.save()
    run = run_checks(make_table(trial, spoiled_frame()), analyst, django_capture_on_commit_callbacks)
    frame = spoiled_frame()
    frame["USUBJID"] = frame["USUBJID"].astype(object)
    frame.loc[[10, 20], "USUBJID"] = FORMULA
    other = run_checks(make_table(other_trial, frame), analyst, django_capture_on_commit_callbacks)
    return run, other


def test_the_review_integrity_page_for_the_review_team(checked, trial, analyst):
    page = client_for(analyst).get(reverse("checks:review-integrity", args=[trial.review_id]))
    assert page.status_code == 200
    content = page.content.decode()
    assert page.context["counts"]["trials_checked"] == 2 and page.context["counts"]["issues"] == 4
    assert "Trials with issues" in content and "NCT02000002" in content
    rederived = page.context["rederived"]
    assert [row["trial"] for row in rederived] == [trial]
    assert rederived[0]["verdict"] == "reproduced"
    assert "1.000 (0.500 to 2.000)" in content


def test_a_contributor_sees_only_their_trial_on_the_pages(checked, trial, contributor):
    run, other = checked
    client = client_for(contributor)
    page = client.get(reverse("checks:review-integrity", args=[trial.review_id]))
    assert [row["trial"] for row in page.context["rows"]] == [trial]
    assert "NCT02000002" not in page.content.decode()
    other_result = other.results.get(code="ids_duplicated")
    for url in (
        reverse("checks:run-detail", args=[other.pk]),
        reverse("checks:result-detail", args=[other_result.pk]),
        reverse("checks:result-rows-csv", args=[other_result.pk]),
        reverse("checks:trial-checks", args=[other.trial_id]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("checks:run-detail", args=[run.pk])).status_code == 200


def test_a_result_page_shows_its_rows_and_downloads_them_escaped(checked, analyst):
    _, other = checked
    result = other.results.get(code="ids_duplicated")
    client = client_for(analyst)
    page = client.get(reverse("checks:result-detail", args=[result.pk]))
    assert page.status_code == 200
    assert [row["source_row"] for row in page.context["rows"]["rows"]] == [11, 21]
    assert reverse("checks:result-rows-csv", args=[result.pk]) in page.content.decode()
    download = client.get(reverse("checks:result-rows-csv", args=[result.pk]))
    assert download["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK" in download.content.decode()


def test_the_thread_forms(checked, trial, contributor, reviewer):
    finding = Finding.objects.get(trial=trial, result__code="ids_missing")
    contributor_client, reviewer_client = client_for(contributor), client_for(reviewer)
    reply = contributor_client.post(reverse("checks:finding-reply", args=[finding.pk]), {"body": "Two ids were lost."})
    assert reply.status_code == 302
    finding.refresh_from_db()
    assert finding.status == Finding.Status.ANSWERED
    page = contributor_client.get(reverse("checks:result-detail", args=[finding.result_id])).content.decode()
    assert "Two ids were lost." in page and "Resolve" not in page
    assert (
        contributor_client.post(reverse("checks:finding-resolve", args=[finding.pk]), {"note": "x"}).status_code == 403
    )
    empty = reviewer_client.post(reverse("checks:finding-resolve", args=[finding.pk]), {"note": ""})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    done = reviewer_client.post(
        reverse("checks:finding-resolve", args=[finding.pk]), {"note": "Recovered from the logs."}
    )
    assert done.status_code == 302
    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED and finding.resolution_note == "Recovered from the logs."
    page = reviewer_client.get(reverse("checks:result-detail", args=[finding.result_id])).content.decode()
    assert "Recovered from the logs." in page


def test_the_trial_page_lists_each_unresolved_failed_check_with_its_link(checked, trial, analyst):
    url = reverse("checks:trial-checks", args=[trial.pk])
    failing = list(Finding.objects.filter(trial=trial, result__status="fail").select_related("result"))
    assert len(failing) == 1
    page = client_for(analyst).get(url).content.decode()
    assert "1 failed check of run #" in page and "is unresolved" in page and "check(s)" not in page
    # A warning turned failure makes two.
    warned = Finding.objects.filter(trial=trial, result__status="warning").select_related("result").first()
    CheckResult.objects.filter(pk=warned.result_id).update(status="fail")
    page = client_for(analyst).get(url).content.decode()
    assert "2 failed checks of run #" in page and "are unresolved" in page
    listing = page.split('id="unresolved-findings"')[1].split("</ul>")[0]
    for finding in [*failing, warned]:
        assert reverse("checks:result-detail", args=[finding.result_id]) + "#thread" in listing
        assert finding.result.title in listing and f"finding #{finding.pk}" in listing


def test_the_run_button(checked, trial, analyst, reviewer, django_capture_on_commit_callbacks):
    url = reverse("checks:run-start", args=[trial.pk])
    assert client_for(reviewer).post(url).status_code == 403
    page = client_for(analyst).get(reverse("checks:trial-checks", args=[trial.pk]))
    assert url in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        started = client_for(analyst).post(url)
    run = CheckRun.objects.filter(trial=trial).latest("id")
    assert started.status_code == 302 and started["Location"] == reverse("checks:run-detail", args=[run.pk])
    assert run.trigger == CheckRun.Trigger.ON_DEMAND and run.state == CheckRun.State.SUCCEEDED
    detail = client_for(analyst).get(started["Location"])
    assert "Published primary result re-derived" in detail.content.decode()


def test_the_settings_form(trial, reviewer, contributor):
    url = reverse("checks:settings-update", args=[trial.pk])
    data = {
        "data_cutoff": "2022-06-30",
        "allocation_ratio": "2",
        "ids_sequential": "on",
        "recruitment_start": "2019-01-01",
    }
    assert client_for(contributor).post(url, data).status_code == 403
    assert (
        "Save the settings"
        not in client_for(contributor).get(reverse("checks:trial-checks", args=[trial.pk])).content.decode()
    )
    saved = client_for(reviewer).post(url, data)
    assert saved.status_code == 302
    settings = trial.check_settings
    settings.refresh_from_db()
    assert str(settings.data_cutoff) == "2022-06-30" and settings.allocation_ratio == 2.0
    assert settings.recruitment_end is None  # left empty in the form
    refused = client_for(reviewer).post(url, {**data, "recruitment_end": "2018-01-01", "allocation_ratio": "1"})
    assert refused.status_code == 400 and "ends before it starts" in refused.content.decode()


def test_a_queued_run_shows_its_progress_and_reloads(trial, analyst, monkeypatch):
    from apps.checks import services
    from apps.jobs import services as jobs

    monkeypatch.setattr(jobs, "_enqueue", lambda job: None)  # no worker: the run stays queued
    run = services.check_run_schedule(table=make_table(trial), actor=analyst)
    page = client_for(analyst).get(reverse("checks:run-detail", args=[run.pk])).content.decode()
    assert 'data-refresh-seconds="3"' in page and "checks/refresh.js" in page
    assert '<progress id="run-progress" max="100" value="0">' in page
    assert "No results yet: the checks are running" in page


def test_the_trial_page_refuses_data_checked_naming_the_unresolved_findings(checked, trial, reviewer):
    trial.status = "data_received"
    trial.save()
    client = client_for(reviewer)
    response = client.post(reverse("dashboard:trial-transition", args=[trial.pk]), {"to_status": "data_checked"})
    assert response.status_code == 302  # back to the trial page, where the refusal shows once
    page = client.get(response.url).content.decode()
    assert "The data cannot be marked checked while failed checks are unresolved: Participant ids present" in page
    finding = Finding.objects.get(result__run=checked[0], result__title="Participant ids present")
    link = reverse("checks:result-detail", args=[finding.result_id])
    assert f'<a href="{link}">Participant ids present (finding #{finding.pk})</a>' in page
    trial.refresh_from_db()
    assert trial.status == "data_received"


def test_a_results_figures_are_a_list_of_labels_and_values(checked, analyst):
    _, other = checked
    result = other.results.get(code="ids_duplicated")
    page = client_for(analyst).get(reverse("checks:result-detail", args=[result.pk])).content.decode()
    figures = page.split('id="figures"')[1].split("</dl>")[0]
    assert "<dt>Duplicated rows</dt><dd>2</dd>" in figures and "<dt>Rows</dt><dd>200</dd>" in figures
    assert "{" not in figures and "duplicated_rows" not in figures


def test_figures_in_words():
    from apps.checks.templatetags.checks import figure_rows

    rows = figure_rows(
        {"published": {"estimate": 1.0, "ci_low": 0.5}, "codes": ["A", "B"], "missing": None, "n": 1200, "ok": True}
    )
    assert rows == [
        ("Published", "estimate: 1; ci low: 0.5"),
        ("Codes", "A, B"),
        ("Missing", "–"),
        ("N", "1,200"),
        ("Ok", "yes"),
    ]


def test_a_trials_short_name_in_the_matrix():
    from apps.checks.templatetags.checks import short_title

    assert short_title("CAP-STEROID: dexamethasone in community-acquired pneumonia") == "CAP-STEROID"
    assert short_title("BP-LOW") == "BP-LOW"
    assert short_title("A trial with a long title and no acronym at all") == "A trial with a long title and n…"
