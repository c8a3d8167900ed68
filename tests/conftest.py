"""Fixtures shared by the whole suite."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts.models import Role
from tests.factories import MembershipFactory, ReviewFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def cache_clear() -> None:
    """Remove this run's cache keys (rate-limit counts) and nothing else: the Redis database is the broker's too."""
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def cache_left_clean():
    """Each test starts with no rate-limit counts and no cached page of an earlier test: both live in Redis,
    which outlives a test's rolled-back database."""
    cache_clear()
    yield
    cache_clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """An API client authenticated as the given user (through the token endpoint's table)."""

    def login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return login


# Set to 1 to run the suite without the browser tests on a machine without Chromium; without it, a missing
# Chromium fails them, so that a green run always includes the pages in a real browser.
SKIP_BROWSER_VARIABLE = "IPDREVIEW_SKIP_BROWSER_TESTS"
ASYNC_UNSAFE_VARIABLE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def chromium_missing(chromium: Path = CHROMIUM, environ=os.environ) -> tuple[str, str] | None:
    """What to do when Chromium is missing: ("skip", why) when the opt-out is set, ("fail", why) otherwise."""
    if chromium.exists():
        return None
    if environ.get(SKIP_BROWSER_VARIABLE) == "1":
        return "skip", f"{SKIP_BROWSER_VARIABLE}=1 and no Chromium at {chromium}"
    return "fail", (
        f"the browser tests need Debian's Chromium at {chromium} (apt-get install chromium); "
        f"set {SKIP_BROWSER_VARIABLE}=1 to run the suite without them"
    )


def pytest_collection_modifyitems(items):
    """The browser tests run last: while Playwright's session is open its event loop makes Django refuse ORM calls
    from this thread unless DJANGO_ALLOW_ASYNC_UNSAFE is set, and that must not hold for any other test."""
    in_browser = [item for item in items if "chromium_browser" in getattr(item, "fixturenames", ())]
    items[:] = [item for item in items if item not in in_browser] + in_browser


@pytest.fixture(scope="session")
def chromium_browser():
    """One Debian Chromium, driven by Playwright, for every browser test: Playwright's sync API allows one
    session at a time in a thread."""
    missing = chromium_missing()
    if missing:
        action, why = missing
        if action == "skip":
            pytest.skip(why)
        pytest.fail(why, pytrace=False)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's guard against database calls from
    # async contexts would then refuse the tests' own (synchronous) ORM calls. Allowed for the browser tests
    # only (they run last), and taken back when the browser closes.
    previous = os.environ.get(ASYNC_UNSAFE_VARIABLE)
    os.environ[ASYNC_UNSAFE_VARIABLE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE_VARIABLE, None)
        else:
            os.environ[ASYNC_UNSAFE_VARIABLE] = previous


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def add_member(review, role, trials=()):
    """A new user with `role` in `review` (a contributor assigned to `trials`)."""
    user = UserFactory(username=f"{role}-{review.pk}-{len(trials)}")
    MembershipFactory(review=review, user=user, role=role, trials=list(trials))
    return user


# One user per role in the package's `review` (each test package defines `review` and `trial`).
@pytest.fixture
def coordinator(review):
    return add_member(review, Role.COORDINATOR)


@pytest.fixture
def analyst(review):
    return add_member(review, Role.ANALYST)


@pytest.fixture
def reviewer(review):
    return add_member(review, Role.REVIEWER)


@pytest.fixture
def contributor(review, trial):
    """A contributor assigned to `trial` only."""
    return add_member(review, Role.CONTRIBUTOR, trials=[trial])


@pytest.fixture
def outsider(db):
    """A coordinator of another review."""
    return add_member(ReviewFactory(title="Another review"), Role.COORDINATOR)
