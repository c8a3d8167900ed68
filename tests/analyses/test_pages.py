"""The analyses pages: the list per outcome, the form, the result page with its plot, table and methods, the
sensitivity panel and the downloads; each role sees what it may, and a refused form saves nothing."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from apps.analyses import services
from apps.analyses.models import Analysis, AnalysisRun, RunKind
from apps.core.page_cache import TOKEN
from tests.analyses.conftest import outcome
from tests.analyses.test_runs import define, run_now

pytestmark = pytest.mark.django_db


def without_tokens(page) -> str:
    """The page without its forms' CSRF tokens, which differ on each request."""
    return TOKEN.sub("", page.content.decode())


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ran(review, trials, analyst):
    analysis = define(review, analyst, interaction="AGE")
    return analysis, run_now(analysis, analyst)


def test_the_list_shows_each_outcome_with_its_analyses_newest_result(ran, reviewer, review):
    analysis, run = ran
    page = client_for(reviewer).get(reverse("analyses:list", args=[review.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Death" in content and "Time to stroke" in content and "No analysis of this outcome yet" in content
    group = next(group for group in page.context["outcomes"] if group["outcome"].name == "Death")
    headline = group["analyses"][0]["headline"]
    assert headline["k"] == 4 and headline["participants"] == 960
    assert f"OR {headline['text']}" in content
    assert "New analysis" not in content  # reviewers read only


def test_the_result_page_has_the_plot_its_table_and_the_methods(ran, reviewer):
    analysis, run = ran
    page = client_for(reviewer).get(reverse("analyses:detail", args=[analysis.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    figure = page.context["figure"]
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert 'id="forest-json"' in content and "vendor/plotly.min.js" in content
    assert content.count("NCT0300000") >= 8  # each trial in the table and the inputs
    assert "A two-stage IPD meta-analysis of Death (odds ratio; DEATH, arms from TRT01P)" in page.context["methods"]
    assert "Interaction of treatment with AGE" in content
    assert "a subgroup p-value alone is not evidence of effect modification" in content.lower()
    assert 'id="interaction-json"' in content
    assert reverse("analyses:run-table", args=[run.pk]) in content
    assert "Run the analysis" not in content


def test_sorting_reorders_the_table(ran, reviewer):
    analysis, _ = ran
    page = client_for(reviewer).get(reverse("analyses:detail", args=[analysis.pk]) + "?sort=weight")
    weights = [row.weight for row in page.context["forest"].rows]
    assert weights == sorted(weights, reverse=True)
    assert page.context["sort"] == "weight"
    odd = client_for(reviewer).get(reverse("analyses:detail", args=[analysis.pk]) + "?sort=height")
    assert odd.status_code == 200 and odd.context["sort"] == "trial"
    assert client_for(reviewer).get(reverse("analyses:detail", args=[analysis.pk]) + "?sort=%00").status_code == 400


def test_an_analyst_defines_an_analysis_with_the_form(review, trials, analyst):
    url = reverse("analyses:new", args=[review.pk])
    assert "REML: recommended for random effects" in client_for(analyst).get(url).content.decode()
    data = {
        "name": "SBP",
        "outcome": outcome(review, "Systolic blood pressure").pk,
        "approach": "one-stage",
        "tau2": "REML",
        "ci": "wald",
        "quadrature": "3",
        "trials": "included",
        "adjust": ["AGE"],
    }
    response = client_for(analyst).post(url, data)
    analysis = Analysis.objects.get(name="SBP")
    assert response.status_code == 302 and response["Location"] == reverse("analyses:detail", args=[analysis.pk])
    # The two-stage fields and the quadrature do not apply to a one-stage continuous analysis: left out.
    assert (analysis.approach, analysis.tau2, analysis.ci, analysis.quadrature) == ("one-stage", "", "", None)
    assert analysis.outcome_variable.name == "SBP"


def test_a_refused_form_names_the_field_and_saves_nothing(review, trials, analyst):
    data = {
        "name": "Bad",
        "outcome": outcome(review, "Death").pk,
        "approach": "one-stage",
        "tau2": "REML",
        "ci": "wald",
        "trials": "included",
        "aggregate": "on",
    }
    response = client_for(analyst).post(reverse("analyses:new", args=[review.pk]), data)
    assert response.status_code == 400
    assert "two-stage" in " ".join(response.context["form"].errors["aggregate"])
    assert not Analysis.objects.exists()


def test_running_from_the_page_and_the_unchanged_message(ran, analyst, eager, django_capture_on_commit_callbacks):
    analysis, run = ran
    response = client_for(analyst).post(reverse("analyses:run-start", args=[analysis.pk]), follow=True)
    assert "Nothing changed since this run" in response.content.decode()
    services.analysis_update(analysis=analysis, actor=analyst, data={"ci": "hksj"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(analyst).post(reverse("analyses:run-start", args=[analysis.pk]))
    newest = AnalysisRun.objects.filter(analysis=analysis).order_by("-id").first()
    assert response["Location"] == reverse("analyses:run", args=[newest.pk])
    page = client_for(analyst).get(response["Location"]).content.decode()
    assert f"Since run #{run.pk}" in page and "settings changed: ci" in page


def test_the_sensitivity_page(ran, analyst, reviewer):
    analysis, _ = ran
    page = client_for(reviewer).get(reverse("analyses:sensitivity", args=[analysis.pk]))
    assert page.status_code == 200 and "Not run yet" in page.content.decode()
    run_now(analysis, analyst, RunKind.SENSITIVITY)
    content = client_for(reviewer).get(reverse("analyses:sensitivity", args=[analysis.pk])).content.decode()
    assert 'id="summary-json"' in content and 'id="loo-json"' in content
    assert "Trials with IPD and trials without" in content and "leave out NCT03000004 STROKE-4" in content


def test_downloads_of_a_run(ran, reviewer):
    _, run = ran
    client = client_for(reviewer)
    table = client.get(reverse("analyses:run-table", args=[run.pk]))
    assert table.status_code == 200 and table.content.decode().startswith("trial_id,registry_id,trial,")
    record = client.get(reverse("analyses:run-json", args=[run.pk]))
    assert record["Content-Disposition"] == f'attachment; filename="analysis-run-{run.pk}.json"'
    body = json.loads(record.content)
    assert body["result"] == run.result and body["inputs"] == run.inputs and body["spec"] == run.spec


def test_contributors_get_403_and_outsiders_404_on_every_page(ran, contributor, outsider, review):
    analysis, run = ran
    gets = [
        reverse("analyses:list", args=[review.pk]),
        reverse("analyses:new", args=[review.pk]),
        reverse("analyses:detail", args=[analysis.pk]),
        reverse("analyses:edit", args=[analysis.pk]),
        reverse("analyses:sensitivity", args=[analysis.pk]),
        reverse("analyses:run", args=[run.pk]),
        reverse("analyses:run-table", args=[run.pk]),
        reverse("analyses:run-json", args=[run.pk]),
    ]
    posts = [reverse("analyses:run-start", args=[analysis.pk]), reverse("analyses:delete", args=[analysis.pk])]
    for user, code in ((contributor, 403), (outsider, 404)):
        client = client_for(user)
        for url in gets:
            assert client.get(url).status_code == code, url
        for url in posts:
            assert client.post(url).status_code == code, url
    assert Analysis.objects.filter(pk=analysis.pk).exists() and AnalysisRun.objects.count() == 1


def test_reviewers_cannot_post_the_forms(ran, reviewer):
    analysis, _ = ran
    client = client_for(reviewer)
    assert client.post(reverse("analyses:delete", args=[analysis.pk])).status_code == 403
    assert client.post(reverse("analyses:edit", args=[analysis.pk]), {"name": "X"}).status_code == 403
    assert Analysis.objects.get(pk=analysis.pk).name == "Death, two-stage"


def test_the_review_overview_links_analyses_for_the_review_team_only(review, trials, reviewer, contributor):
    url = reverse("dashboard:review-overview", args=[review.pk])
    link = reverse("analyses:list", args=[review.pk])
    assert link in client_for(reviewer).get(url).content.decode()
    assert link not in client_for(contributor).get(url).content.decode()


def test_result_and_list_pages_are_served_from_the_cache_until_a_run_is_added_or_finishes(ran, reviewer, analyst):
    """A stored result never changes, so its page is kept; a new run makes a new page, and while a run is under way
    the page is rendered on every request (its progress moves)."""
    analysis, run = ran
    reader = client_for(reviewer)
    for url in (reverse("analyses:detail", args=[analysis.pk]), reverse("analyses:list", args=[analysis.review_id])):
        first, second = reader.get(url), reader.get(url)
        assert first.context is not None and second.context is None  # the second was not rendered
        assert without_tokens(second) == without_tokens(first)
    services.analysis_update(analysis=analysis, actor=analyst, data={"ci": "hksj"})
    queued, created = services.run_request(analysis=analysis, actor=analyst)
    assert created and queued.state == AnalysisRun.State.QUEUED
    detail = reverse("analyses:detail", args=[analysis.pk])
    while_queued = [reader.get(detail) for _ in range(2)]
    assert all(page.context is not None for page in while_queued)
    assert "Queued" in while_queued[1].content.decode()
    services.run_execute(queued.job_id)
    finished = reader.get(detail)
    assert finished.context is not None and finished.context["run"].pk == queued.pk
    assert reader.get(detail).context is None
