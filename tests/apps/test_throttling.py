"""Password attempts are rate-limited per client address: the API's token endpoint and the login page."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
@override_settings(API_TOKEN_THROTTLE_RATE="3/min")
def test_the_token_endpoint_answers_429_after_the_allowed_tries(api_client):
    UserFactory(username="ada", password="right-password-123")
    url = reverse("api-token")
    for _ in range(3):
        assert api_client.post(url, {"username": "ada", "password": "wrong"}).status_code == 400
    refused = api_client.post(url, {"username": "ada", "password": "right-password-123"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0


@pytest.mark.django_db
@override_settings(API_TOKEN_THROTTLE_RATE="3/min")
def test_the_token_limit_counts_per_client_address(api_client):
    UserFactory(username="ada", password="right-password-123")
    url = reverse("api-token")
    for _ in range(3):
        api_client.post(url, {"username": "ada", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    other = api_client.post(url, {"username": "ada", "password": "right-password-123"}, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 200
    assert other.json()["token"]


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_RATE="3/min")
def test_the_login_page_answers_429_after_the_allowed_tries(client):
    UserFactory(username="ada", password="right-password-123")
    url = reverse("login")
    for _ in range(3):
        assert client.post(url, {"username": "ada", "password": "wrong"}).status_code == 200
    refused = client.post(url, {"username": "ada", "password": "right-password-123"})
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_login_within_the_limit_still_works(client):
    UserFactory(username="ada", password="right-password-123")
    response = client.post(reverse("login"), {"username": "ada", "password": "right-password-123"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
