"""The admin's trial page fits a laptop screen: its related records are stacked, not a table of every field."""

import datetime

import pytest

from apps.trials import services
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, ContactAttempt
from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_trial_page_is_no_wider_than_the_window(page, live_server, tracked_trial):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(username="root", password=PASSWORD, email="root@example.org")
    contact = tracked_trial.contacts.get()
    ContactAttempt.objects.create(
        trial=tracked_trial, contact=contact, date=datetime.date(2026, 3, 2), channel="email", outcome="no_reply"
    )
    Agreement.objects.create(trial=tracked_trial, title="Data-sharing agreement", conditions="Analysis on site.")
    # Its history too: an audited change and a status move, with long texts.
    long_note = "The sponsor asked for the statistical analysis plan and the ethics approval first. " * 3
    services.trial_update(trial=tracked_trial, actor=None, data={"citation": long_note})
    services.trial_transition(trial=tracked_trial, to_status=Status.RESPONDED, actor=None, note=long_note)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/trials/trial/{tracked_trial.pk}/change/")
    assert page.get_by_role("heading", level=2).first.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide in a 1280 px window"
