"""Reporting in Chromium: a reviewer opens the flow diagram from the review overview, follows a box to the trial
list filtered to it (the same count), saves a checklist item, and reads the report; every page passes axe-core
(WCAG 2.1 A, AA)."""

import pytest

from apps.reporting.models import ChecklistEntry
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_reviewer_follows_the_diagram_to_the_trials_and_fills_the_checklist(
    page, live_server, review, flow_trials, reviewer, settings
):
    settings.REPORT_CHROMIUM_PATH = ""  # the report's forest plots are tested with kaleido elsewhere
    reviewer.set_password(PASSWORD)
    reviewer.save()
    log_in(page, live_server, reviewer.username)
    violations = {}
    page.goto(f"{live_server.url}/reviews/{review.pk}/")
    page.get_by_role("link", name="PRISMA-IPD").click()
    page.get_by_role("heading", name="PRISMA-IPD flow diagram").wait_for()
    violations["diagram"] = axe_violations(page)
    # The diagram is drawn: its boxes are on the page with their counts.
    assert page.locator("figure svg text", has_text="Studies excluded, with reasons").is_visible()
    page.locator("figure svg a[href$='?prisma=excluded']").click()
    page.wait_for_url(f"**/reviews/{review.pk}/trials/?prisma=excluded")
    assert page.get_by_role("heading", name="2 trials matching the filters").is_visible()
    assert page.get_by_text("Showing PRISMA-IPD: Studies excluded, with reasons (2)").is_visible()
    violations["trial list"] = axe_violations(page)

    page.get_by_role("link", name="Back to the flow diagram").click()
    page.get_by_role("link", name="Checklist").click()
    violations["checklist"] = axe_violations(page)
    page.get_by_label("Status of item 17").select_option("done")
    page.get_by_label("Where item 17 is reported").fill("Results, Figure 1")
    page.locator("#item-17").get_by_role("button", name="Save").click()
    page.get_by_text("Item 17 saved.").wait_for()
    entry = ChecklistEntry.objects.get(review=review, item="17")
    assert (entry.status, entry.location) == ("done", "Results, Figure 1")

    page.get_by_role("link", name="Report draft").click()
    page.get_by_role("heading", name="Studies identified, sought and obtained").wait_for()
    assert page.get_by_text("The searches identified 15 studies").is_visible()
    violations["report"] = axe_violations(page)
    assert violations == {name: [] for name in violations}
