"""The review team's main path through the dashboard, in a real Chromium: log in, open a review, open a trial,
log a contact attempt and move the status, and see both on the trial's timeline."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.trials.lifecycle import Status
from apps.trials.models import ContactAttempt, StatusTransition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_a_contact_attempt_and_move_the_status(page, log_in, tracked_trial):
    log_in()

    page.get_by_role("link", name="Exercise therapy for chronic low back pain").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exercise therapy for chronic low back pain")
    expect(page.get_by_role("heading", name="Pipeline")).to_be_visible()

    page.get_by_role("link", name="All trials").first.click()
    page.get_by_role("link", name="BACK-FIT: supervised exercise versus usual care").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("BACK-FIT: supervised exercise versus usual care")

    # Log a contact attempt.
    attempt_day = timezone.localdate() - datetime.timedelta(days=2)
    form = page.locator("form", has=page.get_by_role("button", name="Log attempt"))
    form.get_by_label("Date").fill(attempt_day.isoformat())
    form.get_by_label("Channel").select_option(label="Telephone")
    form.get_by_label("Contact").select_option(label="Dr Ada Okafor")
    form.get_by_label("Outcome").select_option(label="Replied")
    form.get_by_label("Note").fill("Happy to share; sending the agreement template.")
    form.get_by_role("button", name="Log attempt").click()

    expect(page.get_by_role("status")).to_contain_text("Contact attempt logged.")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Telephone with Dr Ada Okafor: Replied")
    expect(timeline).to_contain_text("Happy to share; sending the agreement template.")
    assert ContactAttempt.objects.filter(trial=tracked_trial, channel="phone", date=attempt_day).count() == 1

    # An exit without a reason is refused next to the field, keeping what was typed.
    form = page.locator("form", has=page.get_by_role("button", name="Change status"))
    form.get_by_label("New status").select_option(label="Declined")
    form.get_by_label("Note").fill("Sponsor refuses.")
    form.get_by_role("button", name="Change status").click()
    expect(page.locator("#transition_reason_errors")).to_have_text("Give a reason for moving the trial to Declined.")
    expect(page.locator("#transition_note")).to_have_value("Sponsor refuses.")
    assert StatusTransition.objects.count() == 0

    # A move along the path.
    form = page.locator("form", has=page.get_by_role("button", name="Change status"))
    form.get_by_label("New status").select_option(label="Responded")
    form.get_by_label("Note").fill("")
    form.get_by_role("button", name="Change status").click()

    expect(page.get_by_role("status")).to_contain_text("Status changed to Responded.")
    expect(page.locator("#timeline")).to_contain_text("Contacted → Responded")
    expect(page.locator(".page-head .badge")).to_have_text("Responded")
    # The next moves now start from Responded.
    options = page.locator("#transition_to_status option").all_inner_texts()
    assert "Agreement in progress" in options and "Responded" not in options
    tracked_trial.refresh_from_db()
    assert tracked_trial.status == Status.RESPONDED
