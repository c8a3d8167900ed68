"""Analyses in Chromium: an analyst defines an analysis, runs it, sees the forest plot with one square per trial
and a diamond, downloads its SVG and opens the sensitivity panel; every page passes axe-core (WCAG 2.1 A, AA)."""

import pytest

from apps.analyses.models import Analysis, AnalysisRun
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLOT_TRACES = """(id) => {
  const plot = document.getElementById(id);
  const squares = plot.data.find((trace) => trace.name === "Trial estimate");
  return {
    squares: squares.x.length,
    diamonds: plot.data.filter((trace) => trace.fill === "toself").length,
    drawn: plot.querySelectorAll(".scatterlayer .trace .points path").length,
  };
}"""


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_an_analyst_defines_runs_and_reads_an_analysis(page, live_server, review, trials, analyst, eager, tmp_path):
    analyst.set_password(PASSWORD)
    analyst.save()
    log_in(page, live_server, analyst.username)
    violations = {}
    page.goto(f"{live_server.url}/reviews/{review.pk}/analyses/")
    violations["list"] = axe_violations(page)
    page.get_by_role("link", name="New analysis").click()
    violations["form"] = axe_violations(page)
    page.get_by_label("Name", exact=True).fill("Death, primary")
    page.get_by_label("Outcome", exact=True).select_option(label="Death (binary, OR)")
    page.get_by_role("button", name="Define the analysis").click()
    page.get_by_text("The analysis is defined").wait_for()
    analysis = Analysis.objects.get(name="Death, primary")
    assert (analysis.approach, analysis.tau2, analysis.outcome_variable.name) == ("two-stage", "REML", "DEATH")

    page.get_by_role("button", name="Run the analysis").click()
    page.locator("#forest-plot[data-drawn=true]").wait_for()
    run = AnalysisRun.objects.get(analysis=analysis)
    assert run.state == AnalysisRun.State.SUCCEEDED
    traces = page.evaluate(PLOT_TRACES, "forest-plot")
    assert traces["squares"] == 4 and traces["diamonds"] == 1
    assert traces["drawn"] >= 4  # the squares are in the drawn SVG, not only in the data
    # In the table under the plot, and in the list of tables the run read.
    assert page.get_by_role("row", name="NCT03000002 STROKE-2").count() == 2
    violations["result"] = axe_violations(page)

    with page.expect_download() as download:
        page.locator("[data-download=forest-plot][data-format=svg]").click()
    saved = tmp_path / "forest.svg"
    download.value.save_as(saved)
    svg = saved.read_text()
    assert svg.startswith("<svg") and "NCT03000001 STROKE-1" in svg
    assert download.value.suggested_filename == f"analysis-run-{run.pk}-forest.svg"

    page.get_by_role("link", name="Sensitivity analyses").click()
    page.get_by_role("button", name="Run the sensitivity analyses").click()
    page.locator("#summary-plot[data-drawn=true]").wait_for()
    page.locator("#loo-plot[data-drawn=true]").wait_for()
    assert page.get_by_role("row", name="fixed effect").count() == 1
    assert page.get_by_role("row", name="leave out NCT03000003 STROKE-3").count() == 1
    violations["sensitivity"] = axe_violations(page)
    assert violations == {name: [] for name in violations}
