"""Cached pages: each request gets its own CSRF token, each user their own page, messages are shown, and a
write in the review shows at the next request."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from apps.accounts.models import Role
from benchmarks.generated_review import generate_review

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def scene():
    cache.clear()
    review, users = generate_review(20)
    trial = review.trials.order_by("pk").first()
    return review, users, trial


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_form_posted_from_a_cached_page_passes_the_csrf_check(scene):
    _, users, trial = scene
    client = _client(users[Role.REVIEWER])
    first = client.get(f"/trials/{trial.pk}/").content.decode()
    cached = client.get(f"/trials/{trial.pk}/").content.decode()
    assert "__csrf__" not in cached
    tokens = TOKEN.findall(cached)
    assert tokens and set(tokens).isdisjoint(TOKEN.findall(first))
    response = client.post(
        f"/trials/{trial.pk}/contact-attempts/",
        {"csrfmiddlewaretoken": tokens[-1], "date": "2026-11-30", "channel": "email", "outcome": "no_reply"},
    )
    assert response.status_code == 302, response.content[:300]
    # The write shows at once, and so does its message (a page with messages is never served from the cache).
    page = client.get(f"/trials/{trial.pk}/").content.decode()
    assert "Contact attempt logged." in page and "30 Nov 2026" in page


def test_each_user_gets_their_own_page(scene):
    review, users, trial = scene
    reviewer = _client(users[Role.REVIEWER]).get(f"/trials/{trial.pk}/").content.decode()
    analyst = _client(users[Role.ANALYST]).get(f"/trials/{trial.pk}/").content.decode()
    assert "Move the status" in reviewer and "Move the status" not in analyst
    first = _client(users[Role.REVIEWER]).get(f"/reviews/{review.pk}/").content.decode()
    second = _client(users[Role.CONTRIBUTOR]).get(f"/reviews/{review.pk}/").content.decode()
    assert "Your role: Reviewer" in first and "Your role: Contributor" in second
