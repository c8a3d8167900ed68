"""Who can open which page: anonymous users log in, members see their review, everyone else gets 404."""

import pytest
from django.http import Http404
from django.urls import reverse

from apps.accounts.models import Role
from apps.core.views import get_or_404
from apps.trials.access import trial_get_for_user

pytestmark = pytest.mark.django_db


def _page_urls(review, trial):
    return [
        reverse("dashboard:review-list"),
        reverse("dashboard:review-overview", args=[review.pk]),
        reverse("dashboard:trial-list", args=[review.pk]),
        reverse("dashboard:trial-detail", args=[trial.pk]),
    ]


def test_anonymous_user_is_sent_to_the_login_page(client, review, trial):
    for url in _page_urls(review, trial):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"


def test_anonymous_post_changes_nothing(client, trial):
    response = client.post(reverse("dashboard:trial-transition", args=[trial.pk]), {"to_status": "responded"})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.status == "contacted"


def test_login_page_renders_a_labelled_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html


def test_logging_in_leads_to_the_review_list(client, make_user, review):
    make_user("ada")
    response = client.post(reverse("login"), {"username": "ada", "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert response.url == "/"


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ANALYST, Role.REVIEWER])
def test_member_opens_every_page_of_their_review(client, member, review, trial, role):
    member(client, role)
    for url in _page_urls(review, trial):
        assert client.get(url).status_code == 200


def test_other_reviews_pages_answer_404(client, reviewer, other_review, other_trial):
    assert client.get(reverse("dashboard:review-overview", args=[other_review.pk])).status_code == 404
    assert client.get(reverse("dashboard:trial-list", args=[other_review.pk])).status_code == 404
    assert client.get(reverse("dashboard:trial-detail", args=[other_trial.pk])).status_code == 404


def test_missing_objects_answer_404(client, reviewer):
    assert client.get(reverse("dashboard:review-overview", args=[987654])).status_code == 404
    assert client.get(reverse("dashboard:trial-detail", args=[987654])).status_code == 404


def test_writes_to_another_reviews_trial_answer_404_and_change_nothing(client, reviewer, other_trial):
    attempt_url = reverse("dashboard:contact-attempt-create", args=[other_trial.pk])
    response = client.post(attempt_url, {"date": "2026-01-10", "channel": "email", "outcome": "no_reply"})
    assert response.status_code == 404
    response = client.post(reverse("dashboard:trial-transition", args=[other_trial.pk]), {"to_status": "responded"})
    assert response.status_code == 404
    other_trial.refresh_from_db()
    assert other_trial.status == "contacted"
    assert other_trial.contact_attempts.count() == 0


def test_contributor_sees_only_assigned_trials(client, member, review, trial, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    assert client.get(reverse("dashboard:trial-detail", args=[trial.pk])).status_code == 200
    assert client.get(reverse("dashboard:trial-detail", args=[second_trial.pk])).status_code == 404
    listing = client.get(reverse("dashboard:trial-list", args=[review.pk])).content.decode()
    assert trial.title in listing
    assert second_trial.title not in listing


def test_write_endpoints_accept_only_post(client, reviewer, trial):
    assert client.get(reverse("dashboard:contact-attempt-create", args=[trial.pk])).status_code == 405
    assert client.get(reverse("dashboard:trial-transition", args=[trial.pk])).status_code == 405


def test_a_malformed_or_unknown_id_answers_the_sites_404_page(client, reviewer):
    with pytest.raises(Http404, match="Trial not found."):
        get_or_404(trial_get_for_user, reviewer, "not-a-number")
    assert client.get(reverse("dashboard:trial-detail", args=[987654])).status_code == 404
