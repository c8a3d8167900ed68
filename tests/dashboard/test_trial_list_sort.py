"""The trial list sorts by its columns through ?sort=, both ways, with ties broken by id, kept across pages and
filters; an unknown sort is ignored and said so."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.trials.lifecycle import Status
from apps.trials.models import ContactAttempt, Trial


@pytest.fixture
def trials(review):
    today = timezone.localdate()
    made = [
        Trial.objects.create(
            review=review, registry_id="NCT3", title="Bravo", year=2019, n_randomised=50, status=Status.INCLUDED
        ),
        Trial.objects.create(
            review=review, registry_id="NCT1", title="Alpha", year=2015, n_randomised=300, status=Status.CONTACTED
        ),
        Trial.objects.create(
            review=review, registry_id="NCT2", title="Charlie", year=None, n_randomised=None, status=Status.IDENTIFIED
        ),
    ]
    ContactAttempt.objects.create(
        trial=made[0],
        date=today - datetime.timedelta(days=3),
        channel="email",
        outcome="no_reply",
        next_follow_up=today + datetime.timedelta(days=4),
    )
    ContactAttempt.objects.create(
        trial=made[1],
        date=today - datetime.timedelta(days=30),
        channel="email",
        outcome="no_reply",
        next_follow_up=today - datetime.timedelta(days=2),
    )
    return made


def _titles(client, review, **params):
    response = client.get(reverse("dashboard:trial-list", args=[review.pk]), params)
    assert response.status_code == 200
    return [trial.title for trial in response.context["page"].object_list], response


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("trial", ["Alpha", "Bravo", "Charlie"]),
        ("-trial", ["Charlie", "Bravo", "Alpha"]),
        ("registry", ["Alpha", "Charlie", "Bravo"]),
        ("year", ["Alpha", "Bravo", "Charlie"]),  # no year: last either way
        ("-year", ["Bravo", "Alpha", "Charlie"]),
        ("participants", ["Bravo", "Alpha", "Charlie"]),
        ("-participants", ["Alpha", "Bravo", "Charlie"]),
        ("status", ["Charlie", "Alpha", "Bravo"]),  # in lifecycle order, not alphabetical
        ("last_contact", ["Alpha", "Bravo", "Charlie"]),
        ("-last_contact", ["Bravo", "Alpha", "Charlie"]),
        ("follow_up", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_sorts_by_each_column(client, reviewer, review, trials, sort, expected):
    titles, _ = _titles(client, review, sort=sort)
    assert titles == expected


def test_the_sorted_header_carries_aria_sort_and_links_the_other_way(client, reviewer, review, trials):
    _, response = _titles(client, review, sort="-year", status=Status.CONTACTED)
    html = response.content.decode()
    assert '<th scope="col" aria-sort="descending"><a href="?status=contacted&amp;sort=year">Year</a>' in html
    assert '<a href="?status=contacted&amp;sort=participants">Randomised</a>' in html
    assert html.count("aria-sort=") == 1
    assert '<input type="hidden" name="sort" value="-year">' in html  # applying the filters keeps the order


def test_an_unknown_sort_is_ignored_and_said(client, reviewer, review, trials):
    titles, response = _titles(client, review, sort="title; drop table")
    assert titles == ["Alpha", "Bravo", "Charlie"]
    assert "cannot be sorted by “title; drop table”" in response.content.decode()


def test_ties_break_by_id_and_pages_keep_the_sort(client, reviewer, review):
    made = [Trial.objects.create(review=review, title=f"T{n:02}", year=2020) for n in range(30)]
    first, response = _titles(client, review, sort="-year")
    second, _ = _titles(client, review, sort="-year", page=2)
    assert first + second == [trial.title for trial in sorted(made, key=lambda t: t.pk, reverse=True)]
    assert 'href="?sort=-year&amp;page=2"' in response.content.decode()
