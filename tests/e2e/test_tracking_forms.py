"""Record-keeping from the pages, in a real Chromium: add a trial, add a contact and an agreement with its
document, a status change the data-checked gate refuses (naming the finding with a link to it), and a reply
recorded on a logged contact attempt; axe-core finds nothing on each page these forms add. `--screenshots` (see
docs/screenshots/) keeps the two pictures."""

import datetime
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import Membership, Role
from apps.checks import services as check_services
from apps.trials.models import Agreement, Contact, ContactAttempt, Trial
from tests.checks.conftest import eager, make_table, review, trial  # noqa: F401  (fixtures: a review with a schema)
from tests.checks.test_runs import spoiled_frame
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe_violations
from tests.harmonisation.conftest import dataset_root  # noqa: F401  (fixture reused)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PDF = b"%PDF-1.4\n% the signed data-sharing agreement\n"


def screenshot(page, name: str) -> None:
    """Kept for the README when IPD_SCREENSHOTS=1, so a test run does not rewrite the pictures."""
    if os.environ.get("IPD_SCREENSHOTS") == "1":
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_add_a_trial_from_the_trial_list(page, live_server, log_in, tracked_trial):
    log_in()
    page.goto(f"{live_server.url}/reviews/{tracked_trial.review_id}/trials/")
    page.get_by_role("link", name="Add a trial").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a trial")
    assert axe_violations(page) == []

    page.get_by_label("Registry id").fill("NCT05000005")
    page.get_by_label("Title").fill("CORE-STRENGTH: core strengthening for back pain")
    page.get_by_label("Year").fill("2021")
    page.get_by_label("Identified via").select_option(label="Other sources (including contact with researchers)")
    page.get_by_role("button", name="Add the trial").click()

    expect(page.get_by_role("status")).to_contain_text("Trial 'CORE-STRENGTH: core strengthening for back pain' added.")
    expect(page.get_by_role("heading", level=1)).to_have_text("CORE-STRENGTH: core strengthening for back pain")
    added = Trial.objects.get(registry_id="NCT05000005")
    assert (added.status, added.identified_via, added.year) == ("identified", "other", 2021)

    # Its fields, the PRISMA-IPD facts among them, are edited on their own page, which fits the window.
    page.get_by_role("link", name="Edit the trial").click()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.get_by_label("Duplicate record of another trial").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Trial saved.")
    added.refresh_from_db()
    assert added.is_duplicate is True


def test_add_a_contact_and_an_agreement_with_its_document(page, live_server, log_in, tracked_trial, tmp_path):
    log_in()
    page.goto(f"{live_server.url}/trials/{tracked_trial.pk}/")

    contacts = page.locator("#contacts")
    contacts.get_by_text("Add a contact").click()
    contacts.get_by_label("Name").fill("Dr Ben Ito")
    contacts.get_by_label("Role").select_option(label="Trial statistician")
    contacts.get_by_label("Email").fill("ben@example.org")
    contacts.get_by_role("button", name="Add the contact").click()
    expect(page.get_by_role("status")).to_contain_text("Contact added.")
    expect(page.locator("#contacts")).to_contain_text("Dr Ben Ito")

    document = tmp_path / "signed-agreement.pdf"
    document.write_bytes(PDF)
    agreements = page.locator("#agreements")
    expect(agreements).to_contain_text("No agreement yet.")
    agreements.get_by_text("Add an agreement").click()
    agreements.get_by_label("Status").select_option(label="Signed")
    agreements.get_by_label("Signed on").fill("2026-03-01")
    agreements.get_by_label("Expires on").fill("2028-03-01")
    agreements.get_by_label("Document").set_input_files(str(document))
    agreements.get_by_label("Conditions").fill("No linkage to other data.")
    page.locator("#contacts details").evaluate("element => element.open = true")
    page.locator("#approvals details").evaluate("element => element.open = true")
    assert axe_violations(page) == []
    screenshot(page, "trial-forms.png")
    agreements.get_by_role("button", name="Add the agreement").click()

    expect(page.get_by_role("status")).to_contain_text("Agreement added.")
    # exact: the edit link next to it is named "Edit the agreement Data-sharing agreement".
    link = page.locator("#agreements").get_by_role("link", name="Data-sharing agreement", exact=True)
    expect(link).to_be_visible()
    agreement = Agreement.objects.get(trial=tracked_trial)
    assert agreement.status == "signed" and agreement.document.read() == PDF
    assert Contact.objects.filter(trial=tracked_trial, name="Dr Ben Ito", role="statistician").exists()
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == PDF


@pytest.fixture
def unresolved_finding(trial, eager):  # noqa: F811
    """The checks' trial with data received and a failed check not yet resolved; "maria" reviews it."""
    user = get_user_model().objects.create_user(username="maria", password=PASSWORD, first_name="Maria")
    Membership.objects.create(review=trial.review, user=user, role=Role.REVIEWER)
    check_services.check_run_schedule(table=make_table(trial, spoiled_frame()), actor=user)
    trial.status = "data_received"
    trial.save()
    return trial


def test_a_refused_move_names_the_finding_with_a_link_to_it(page, live_server, log_in, unresolved_finding):
    log_in()
    page.goto(f"{live_server.url}/trials/{unresolved_finding.pk}/")
    form = page.locator("#move-status form")
    form.get_by_label("New status").select_option(label="Data checked")
    form.get_by_role("button", name="Change status").click()

    page.wait_for_url(f"{live_server.url}/trials/{unresolved_finding.pk}/#move-status")
    refusal = page.locator("#transition-refusal")
    expect(refusal).to_contain_text("The data cannot be marked checked while failed checks are unresolved")
    expect(refusal).not_to_contain_text("Please correct the fields")
    assert axe_violations(page) == []
    screenshot(page, "transition-refused.png")

    # A reload shows the trial page again: nothing is posted twice.
    page.reload()
    expect(page.locator("#transition-refusal")).to_have_count(0)
    page.go_back()

    page.goto(f"{live_server.url}/trials/{unresolved_finding.pk}/")
    form.get_by_label("New status").select_option(label="Data checked")
    form.get_by_role("button", name="Change status").click()
    page.locator("#transition-refusal").get_by_role("link", name="Participant ids present").click()
    expect(page.get_by_role("heading", name="Query thread")).to_be_visible()
    unresolved_finding.refresh_from_db()
    assert unresolved_finding.status == "data_received"


def test_the_exit_reason_is_required_while_an_exit_is_chosen(page, live_server, log_in, tracked_trial):
    log_in()
    page.goto(f"{live_server.url}/trials/{tracked_trial.pk}/")
    form = page.locator("#move-status form")
    reason = form.locator("#transition_reason")
    form.get_by_label("New status").select_option(label="Declined")
    expect(reason).to_have_attribute("aria-required", "true")
    form.get_by_label("New status").select_option(label="Responded")
    expect(reason).to_have_attribute("aria-required", "false")


def test_the_members_and_outcomes_pages_have_no_accessibility_violations(page, live_server, log_in, tracked_trial):
    review_id = tracked_trial.review_id
    Membership.objects.filter(review_id=review_id).update(role=Role.COORDINATOR)
    log_in()
    page.goto(f"{live_server.url}/reviews/{review_id}/members/")
    page.get_by_label("Username or e-mail address").fill("")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#invite_invitee_errors")).to_contain_text("This field is required.")
    assert axe_violations(page) == []
    # The only coordinator's own membership: a move to reviewer is refused on the page, which stays clean.
    page.goto(f"{live_server.url}/reviews/{review_id}/members/")
    page.get_by_role("link", name="Change the role or trials of Maria").click()
    page.get_by_label("Role", exact=True).select_option(label="Reviewer")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field__errors, [role=alert]").first).to_be_visible()
    assert axe_violations(page) == []
    assert Membership.objects.get(review_id=review_id).role == Role.COORDINATOR
    page.goto(f"{live_server.url}/reviews/{review_id}/outcomes/")
    page.get_by_label("Name").fill("Pain at 12 months")
    page.get_by_label("Type").select_option(label="Continuous")
    page.get_by_label("Effect measure").select_option(label="Hazard ratio")
    page.get_by_role("button", name="Add the outcome").click()
    expect(page.locator("#outcome_measure_errors")).to_contain_text("Use one of MD for a continuous outcome.")
    assert axe_violations(page) == []


def test_an_agreement_added_as_a_draft_is_marked_signed_from_its_edit_page(page, live_server, log_in, tracked_trial):
    draft = Agreement.objects.create(trial=tracked_trial, title="Data-sharing agreement", status="draft")
    log_in()
    page.goto(f"{live_server.url}/trials/{tracked_trial.pk}/")
    agreements = page.locator("#agreements")
    expect(agreements).to_contain_text("Draft")
    agreements.get_by_role("link", name="Edit the agreement Data-sharing agreement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the agreement")
    expect(page.get_by_label("Status")).to_have_value("draft")
    assert axe_violations(page) == []

    # Signed without its date: refused next to the field, the page still axe-clean, nothing saved.
    page.get_by_label("Status").select_option(label="Signed")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#agreement_signed_on_errors")).to_contain_text("A signed agreement needs the date")
    assert axe_violations(page) == []

    page.get_by_label("Signed on").fill("2026-03-01")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Agreement saved.")
    agreements = page.locator("#agreements")
    expect(agreements).to_contain_text("signed 1 Mar 2026")
    expect(agreements.locator(".badge")).to_have_text("Signed")
    draft.refresh_from_db()
    assert (draft.status, draft.signed_on.isoformat()) == ("signed", "2026-03-01")


def test_a_reply_is_recorded_on_a_logged_attempt_from_the_timeline(page, live_server, log_in, tracked_trial):
    sent = timezone.localdate() - datetime.timedelta(days=10)
    ContactAttempt.objects.create(
        trial=tracked_trial, date=sent, next_follow_up=sent + datetime.timedelta(days=7), note="Asked for the IPD"
    )
    log_in()
    page.goto(f"{live_server.url}/trials/{tracked_trial.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("E-mail: No reply yet")
    timeline.get_by_role("link", name="Edit the contact attempt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the contact attempt")
    assert axe_violations(page) == []

    page.get_by_label("Outcome").select_option(label="Replied")
    page.get_by_label("Next follow-up").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Contact attempt saved.")
    expect(page.locator("#timeline")).to_contain_text("E-mail: Replied")
    attempt = ContactAttempt.objects.get()
    assert (attempt.outcome, attempt.next_follow_up) == ("replied", None)
