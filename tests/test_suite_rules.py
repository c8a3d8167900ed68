"""Rules of the test suite itself: a missing browser fails the run unless it is explicitly skipped, and the
browser tests' allowance of ORM calls beside an event loop reaches no other test and no worker."""

import os
from pathlib import Path
from types import SimpleNamespace

from tests.conftest import ASYNC_UNSAFE_VARIABLE, SKIP_BROWSER_VARIABLE, chromium_missing, pytest_collection_modifyitems

NOWHERE = Path("/nonexistent/chromium")


def test_a_missing_chromium_fails_the_browser_tests():
    action, why = chromium_missing(NOWHERE, environ={})
    assert action == "fail"
    assert str(NOWHERE) in why and f"{SKIP_BROWSER_VARIABLE}=1" in why


def test_only_the_explicit_opt_out_skips_them():
    assert chromium_missing(NOWHERE, environ={SKIP_BROWSER_VARIABLE: "1"})[0] == "skip"
    assert chromium_missing(NOWHERE, environ={SKIP_BROWSER_VARIABLE: "yes"})[0] == "fail"
    assert chromium_missing(NOWHERE, environ={SKIP_BROWSER_VARIABLE: ""})[0] == "fail"


def test_a_present_chromium_runs_them(tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("")
    assert chromium_missing(chromium, environ={}) is None


def test_the_browser_tests_are_run_last_in_their_order():
    items = [
        SimpleNamespace(name="a", fixturenames=["db"]),
        SimpleNamespace(name="b", fixturenames=["page", "chromium_browser"]),
        SimpleNamespace(name="c", fixturenames=[]),
        SimpleNamespace(name="d", fixturenames=["chromium_browser"]),
    ]
    pytest_collection_modifyitems(items)
    assert [item.name for item in items] == ["a", "c", "b", "d"]


def test_django_guards_async_contexts_outside_the_browser_tests():
    assert ASYNC_UNSAFE_VARIABLE not in os.environ


def test_a_worker_is_not_given_the_allowance(monkeypatch):
    from tests.workers import worker_environment

    monkeypatch.setenv(ASYNC_UNSAFE_VARIABLE, "true")
    env = worker_environment()
    assert ASYNC_UNSAFE_VARIABLE not in env
    assert env["DJANGO_SETTINGS_MODULE"] == "ipdreview.settings.test"
