import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's guard against database calls from async
# contexts would then refuse the test's own ORM calls. The calls are synchronous, so the guard is lifted here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long and private passphrase"


@pytest.fixture(scope="session")
def chromium_browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def tracked_trial(transactional_db):
    """A reviewer, "maria", in a review with one contacted trial and its corresponding author."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role
    from apps.reviews.models import Review
    from apps.trials.lifecycle import Status
    from apps.trials.models import Contact, Trial

    user = get_user_model().objects.create_user(username="maria", password=PASSWORD, first_name="Maria")
    review = Review.objects.create(title="Exercise therapy for chronic low back pain", status=Review.Status.ACQUIRING)
    Membership.objects.create(review=review, user=user, role=Role.REVIEWER)
    trial = Trial.objects.create(
        review=review,
        registry_id="NCT01000001",
        title="BACK-FIT: supervised exercise versus usual care",
        n_randomised=240,
        status=Status.CONTACTED,
    )
    Contact.objects.create(trial=trial, name="Dr Ada Okafor", email="ada@example.org")
    return trial


@pytest.fixture
def log_in(page, live_server):
    def log_in_as(username: str = "maria", password: str = PASSWORD):
        page.goto(f"{live_server.url}/")
        # Anonymous visitors land on the login page.
        page.wait_for_url(re.compile(r"/accounts/login/"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")

    return log_in_as
