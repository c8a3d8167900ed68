"""The busiest pages cost a fixed number of queries whatever the review's size: measured uncached (the cache is
cleared first) on a review of 200 trials, and checked to be the same on one of 20."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import Role
from benchmarks.generated_review import generate_review

pytestmark = pytest.mark.django_db

# Queries for one uncached request, with the session's own reads and writes.
# The overview also reads the PRISMA-IPD checklist's completion (one query), and its recent activity asks each
# app for its events (status moves, uploads, queries opened, queries resolved, analysis runs: one query each).
LIMITS = {"review overview": 21, "trial list API": 8, "trial page": 18}


def _pages(review, users):
    trial = review.trials.order_by("pk")[review.trials.count() // 2]
    return {
        "review overview": ("session", f"/reviews/{review.pk}/"),
        "trial list API": ("token", f"/api/v1/reviews/{review.pk}/trials/"),
        "trial page": ("session", f"/trials/{trial.pk}/"),
    }


def _count(client, path) -> int:
    client.get(path)  # the session's once-a-minute renewal out of the way
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries)


def _clients(users, client):
    client.force_login(users[Role.REVIEWER])
    api = APIClient()
    api.force_authenticate(users[Role.REVIEWER])
    return {"session": client, "token": api}


@pytest.fixture
def reviews():
    return generate_review(20, title="Small"), generate_review(200, title="Large")


@pytest.mark.parametrize("page", sorted(LIMITS))
def test_queries_per_page_do_not_grow_with_the_trials(reviews, client, page, django_assert_max_num_queries):
    (small, small_users), (large, large_users) = reviews
    kind, small_path = _pages(small, small_users)[page]
    small_count = _count(_clients(small_users, client)[kind], small_path)
    kind, large_path = _pages(large, large_users)[page]
    clients = _clients(large_users, client)
    with django_assert_max_num_queries(LIMITS[page]):
        cache.clear()
        assert clients[kind].get(large_path).status_code == 200  # the first, with the session's renewal
    assert _count(clients[kind], large_path) == small_count


def test_a_cached_page_costs_a_few_queries_and_a_write_makes_it_fresh(reviews, client):
    from apps.trials import lifecycle
    from apps.trials.services import trial_transition

    (_, _), (review, users) = reviews
    client.force_login(users[Role.REVIEWER])
    path = f"/reviews/{review.pk}/"
    trial = next(trial for trial in review.trials.order_by("pk") if lifecycle.allowed_next(trial.status))
    to_status = lifecycle.allowed_next(trial.status)[0]
    move = f"Status moved from {lifecycle.label(trial.status)} to {lifecycle.label(to_status)}"
    cache.clear()
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        before = client.get(path).content.decode().count(move)
    assert len(queries) <= 4
    trial_transition(trial=trial, to_status=to_status, actor=users[Role.COORDINATOR])
    assert client.get(path).content.decode().count(move) == before + 1
