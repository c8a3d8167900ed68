"""The integrity pages in Chromium: a finding worked through to resolution, and every page checked by axe-core
against WCAG 2.1 A and AA."""

import pytest

from apps.checks import services
from apps.checks.models import Finding
from tests.checks.conftest import make_table
from tests.checks.test_runs import spoiled_frame
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checked_run(trial, reviewer, sent_nowhere):
    reviewer.set_password(PASSWORD)
    reviewer.save()
    trial.result_measure, trial.result_estimate, trial.result_ci_low, trial.result_ci_high = "RR", 1.0, 0.5, 2.0
    trial.save()
    run = services.check_run_schedule(table=make_table(trial, spoiled_frame()), actor=reviewer)
    services.check_run_execute(run.job_id)
    run.refresh_from_db()
    return run


@pytest.fixture
def sent_nowhere(monkeypatch):
    """This test runs the job itself; nothing goes to the broker."""
    from apps.jobs import services as jobs

    monkeypatch.setattr(jobs, "_enqueue", lambda job: None)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_finding_is_resolved_in_the_browser_and_the_pages_pass_axe(page, live_server, checked_run, reviewer):
    log_in(page, live_server, reviewer.username)
    finding = Finding.objects.get(result__run=checked_run, result__code="ids_missing")
    found = {}
    for name, path in {
        "integrity": f"/reviews/{checked_run.review_id}/integrity/",
        "trial checks": f"/trials/{checked_run.trial_id}/checks/",
        "run": f"/check-runs/{checked_run.pk}/",
        "result": f"/check-results/{finding.result_id}/",
    }.items():
        page.goto(f"{live_server.url}{path}")
        found[name] = axe_violations(page)
    assert found == {name: [] for name in found}

    page.goto(f"{live_server.url}/reviews/{checked_run.review_id}/integrity/")
    assert page.get_by_role("row", name="NCT02000001").count() == 2  # the checks table and the re-derivation table
    page.get_by_role("link", name="Fail").first.click()
    page.get_by_label("Resolution note").fill("The two ids were recovered from the site logs.")
    page.get_by_role("button", name="Resolve").click()
    page.get_by_text("The finding is resolved.").wait_for()
    assert page.get_by_text("The two ids were recovered from the site logs.").count() == 1
    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED


def test_the_integrity_matrix_fits_a_laptop_screen_with_the_trial_in_view(page, live_server, checked_run, reviewer):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/reviews/{checked_run.review_id}/integrity/")
    matrix = page.locator("#integrity-matrix")
    wrap = page.get_by_role("region", name="Table of trials by checks")
    trial = matrix.get_by_role("rowheader").first
    # The trial is named by its short name and its registry id.
    assert "BP-LOW" in trial.inner_text() and "NCT02000001" in trial.inner_text()
    # All seventeen checks fit a laptop's window: nothing to scroll.
    assert len(matrix.locator("thead th").all()) == 3 + 17
    assert wrap.evaluate("element => element.scrollWidth <= element.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # The key columns come first: open findings and whether the checks are up to date.
    headings = matrix.locator("thead th").all_inner_texts()
    assert headings[:3] == ["Trial", "Open", "Up to date"]
    assert matrix.locator("thead abbr[title='Participant ids present']").count() == 1
    # Each status is a sign on screen and a word to screen readers (and the name of its link).
    assert matrix.get_by_role("link", name="Pass").count() > 0
    assert axe_violations(page) == []

    # In a narrow window the table scrolls from the keyboard inside the page, and the trial column stays in view.
    page.set_viewport_size({"width": 800, "height": 900})
    viewport = page.evaluate("document.documentElement.clientWidth")
    box = wrap.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport
    wrap.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("element => element.scrollLeft > 0", arg=wrap.element_handle())
    wrap.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
    page.wait_for_timeout(100)
    trial_box = trial.bounding_box()
    assert box["x"] <= trial_box["x"] and trial_box["x"] + trial_box["width"] <= box["x"] + box["width"]
    last = matrix.locator("thead th").last
    assert last.bounding_box()["x"] + last.bounding_box()["width"] <= viewport + 1
