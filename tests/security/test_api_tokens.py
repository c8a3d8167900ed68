"""API tokens expire, are stored hashed, and are revoked on logout, on a password change and on removal from a
review; page sessions end after an idle time and when the browser closes."""

import datetime
import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.accounts.models import Role
from tests.factories import MembershipFactory, ReviewFactory, UserFactory

PASSWORD = "right-password-123"


def _login(username="ada", password=PASSWORD):
    response = APIClient().post(reverse("api-token"), {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def _client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _works(token) -> bool:
    return _client(token).get(reverse("api-review-list")).status_code == 200


@pytest.mark.django_db
def test_each_login_returns_a_new_token_with_its_expiry():
    UserFactory(username="ada", password=PASSWORD)
    first, second = _login(), _login()
    assert first["token"] != second["token"]
    expiry = datetime.datetime.fromisoformat(first["expiry"])
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert abs((expiry - timezone.now()) - ttl) < datetime.timedelta(minutes=1)
    assert _works(first["token"]) and _works(second["token"])
    # Stored as a hash: the token itself is nowhere in the table.
    stored = list(AuthToken.objects.values_list("digest", "token_key"))
    assert all(first["token"] not in (digest, key) for digest, key in stored)


@pytest.mark.django_db
def test_an_expired_token_is_refused():
    UserFactory(username="ada", password=PASSWORD)
    token = _login()["token"]
    AuthToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    response = _client(token).get(reverse("api-review-list"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"authentication_failed", "not_authenticated"}


@pytest.mark.django_db
def test_logout_revokes_the_token_in_use_only():
    UserFactory(username="ada", password=PASSWORD)
    kept, revoked = _login()["token"], _login()["token"]
    assert _client(revoked).post(reverse("api-logout")).status_code == 204
    assert not _works(revoked)
    assert _works(kept)
    assert APIClient().post(reverse("api-logout")).status_code == 401


@pytest.mark.django_db
def test_a_password_change_revokes_every_token():
    user = UserFactory(username="ada", password=PASSWORD)
    token = _login()["token"]
    user.set_password("another-password-456")
    user.save()
    assert not _works(token)
    assert _works(_login(password="another-password-456")["token"])


@pytest.mark.django_db
def test_the_password_change_page_revokes_every_token(client):
    UserFactory(username="ada", password=PASSWORD)
    token = _login()["token"]
    client.login(username="ada", password=PASSWORD)
    data = {"old_password": PASSWORD, "new_password1": "Another-Pass-456!", "new_password2": "Another-Pass-456!"}
    response = client.post(reverse("password_change"), data)
    assert response.status_code == 302
    assert not _works(token)


@pytest.mark.django_db
def test_removing_a_member_revokes_their_tokens():
    review = ReviewFactory()
    coordinator = UserFactory(username="cora", password=PASSWORD)
    MembershipFactory(review=review, user=coordinator, role=Role.COORDINATOR)
    member = UserFactory(username="ada", password=PASSWORD)
    membership = MembershipFactory(review=review, user=member, role=Role.REVIEWER)
    token = _login()["token"]
    coordinator_token = _login("cora")["token"]
    response = _client(coordinator_token).delete(reverse("api-member-detail", args=[membership.pk]))
    assert response.status_code == 204
    assert not _works(token)
    assert _works(coordinator_token)
    assert not AuthToken.objects.filter(user=member).exists()
    assert account_services  # the service is the one the API called


def _idle(*, hours: float) -> None:
    """As if the last request had come `hours` ago: the stored expiry and the renewal stamp moved back."""
    session = Session.objects.get()
    data = session.get_decoded()
    data["_seen"] = int(time.time() - hours * 3600)
    Session.objects.filter(pk=session.pk).update(
        session_data=SessionStore().encode(data),
        expire_date=timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - hours * 3600),
    )


@pytest.mark.django_db
def test_a_page_session_ends_at_browser_close_and_after_the_idle_time(client):
    UserFactory(username="ada", password=PASSWORD)
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert client.get(reverse("dashboard:review-list")).status_code == 200

    # Seven hours idle: still in, and the request renews the session for another idle period.
    _idle(hours=7)
    assert client.get(reverse("dashboard:review-list")).status_code == 200
    renewed = Session.objects.get().expire_date - timezone.now()
    assert renewed > datetime.timedelta(hours=7, minutes=59)
    # Within the minute, requests do not write the session again.
    stored = Session.objects.get().expire_date
    assert client.get(reverse("dashboard:review-list")).status_code == 200
    assert Session.objects.get().expire_date == stored

    # Past the idle time: back to the login page.
    _idle(hours=8.01)
    response = client.get(reverse("dashboard:review-list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
