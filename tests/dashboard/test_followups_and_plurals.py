"""Follow-ups say whether they are overdue (and by how long), due today or to come; counts agree with their nouns."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.trials import services
from apps.trials.templatetags.trials import follow_up_state


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-10, ("danger", "overdue by 10 days")),
        (-1, ("danger", "overdue by 1 day")),
        (0, ("warning", "due today")),
        (1, ("active", "due in 1 day")),
        (7, ("active", "due in 7 days")),
    ],
)
def test_follow_up_state(offset, expected):
    today = datetime.date(2026, 3, 10)
    assert follow_up_state(today + datetime.timedelta(days=offset), today) == expected


def test_the_overview_says_a_past_follow_up_is_overdue(client, reviewer, review, trial):
    today = timezone.localdate()
    services.contact_attempt_create(
        trial=trial,
        actor=reviewer,
        date=today - datetime.timedelta(days=20),
        channel="email",
        outcome="no_reply",
        next_follow_up=today - datetime.timedelta(days=3),
        owner=reviewer,
    )
    html = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()
    assert '<span class="badge badge--danger">overdue by 3 days</span>' in html
    assert ">due " not in html
    listing = client.get(reverse("dashboard:trial-list", args=[review.pk])).content.decode()
    assert "overdue by 3 days" in listing


def test_counts_agree_with_their_nouns(client, reviewer, review, trial, settings):
    settings.IPD_EXPIRY_WARNING_DAYS = 1
    trial.n_randomised = 1
    trial.save()
    overview = client.get(reverse("dashboard:review-overview", args=[review.pk])).content.decode()
    assert "Expiring within 1 day<" in overview
    assert "in the next 1 day." in overview
    assert "<small>trials · 0 participants</small>" in overview
    page = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert f"1 participant, {trial.arms} arm{'s' if trial.arms != 1 else ''}" in page
