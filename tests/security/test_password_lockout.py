"""Password attempts: forwarding headers count only from trusted proxies, and django-axes locks out an account
and an address after too many failures, at the token endpoint and at the login page, with an audit."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.urls import reverse

from apps.core.client_ip import client_ip
from tests.factories import UserFactory

PASSWORD = "right-password-123"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def _request(remote, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@override_settings(TRUSTED_PROXIES=[])
def test_without_trusted_proxies_the_forwarding_header_is_ignored():
    assert client_ip(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["172.18.0.0/16"])
def test_a_trusted_proxy_s_forwarding_header_names_the_client():
    assert client_ip(_request("172.18.0.5", "198.51.100.7")) == "198.51.100.7"
    # What the client wrote before the proxy's own entry is not believed.
    assert client_ip(_request("172.18.0.5", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    # Chained trusted proxies are skipped.
    assert client_ip(_request("172.18.0.5", "1.2.3.4, 198.51.100.7, 172.18.0.9")) == "198.51.100.7"
    # Garbage in the header: the proxy's peer is all that is known.
    assert client_ip(_request("172.18.0.5", "not-an-ip")) == "172.18.0.5"
    # A request not from the proxy: its headers say nothing.
    assert client_ip(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"


@pytest.mark.django_db
@override_settings(API_TOKEN_THROTTLE_RATE="3/min", TRUSTED_PROXIES=[])
def test_rotating_x_forwarded_for_does_not_bypass_the_token_throttle(api_client):
    UserFactory(username="ada", password=PASSWORD)
    url = reverse("api-token")
    codes = [
        api_client.post(url, {"username": "ada", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"10.9.0.{i}").status_code
        for i in range(30)
    ]
    assert codes[:3] == [400, 400, 400]
    assert set(codes[3:]) == {429}
    right = api_client.post(url, {"username": "ada", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert right.status_code == 429
    assert "token" not in right.json()


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_RATE="3/min", TRUSTED_PROXIES=[])
def test_rotating_x_forwarded_for_does_not_bypass_the_login_throttle(client):
    UserFactory(username="ada", password=PASSWORD)
    url = reverse("login")
    for i in range(3):
        client.post(url, {"username": "ada", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"10.9.0.{i}")
    right = client.post(url, {"username": "ada", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=5)
def test_an_account_is_locked_out_whatever_address_the_attempts_come_from(api_client):
    UserFactory(username="ada", password=PASSWORD)
    url = reverse("api-token")
    for i in range(5):
        response = api_client.post(url, {"username": "ada", "password": "wrong"}, REMOTE_ADDR=f"10.0.{i}.1")
        assert response.status_code == 400
    locked = api_client.post(url, {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.0.99.1")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert int(locked["Retry-After"]) > 0
    # The same account at the login page, from yet another address.
    page = api_client.post(reverse("login"), {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.0.98.1")
    assert page.status_code == 429
    assert "Too many failed login attempts" in page.content.decode()
    assert "_auth_user_id" not in api_client.session
    # Another account is not locked by them.
    UserFactory(username="bob", password=PASSWORD)
    other = api_client.post(url, {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="10.0.97.1")
    assert other.status_code == 200
    # The audit: each failure with its address.
    failures = AccessFailureLog.objects.filter(username="ada")
    assert {entry.ip_address for entry in failures} >= {f"10.0.{i}.1" for i in range(5)}


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=5)
def test_an_address_is_locked_out_whatever_accounts_it_tries(client):
    UserFactory(username="ada", password=PASSWORD)
    for i in range(5):
        client.post(reverse("login"), {"username": f"guess{i}", "password": "wrong"}, REMOTE_ADDR="10.1.1.1")
    locked = client.post(reverse("login"), {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(ip_address="10.1.1.1").exists()
    elsewhere = client.post(reverse("login"), {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.1.1.2")
    assert elsewhere.status_code == 302


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_a_trusted_proxy_the_lockout_follows_the_forwarded_client(api_client):
    UserFactory(username="ada", password=PASSWORD)
    url = reverse("api-token")
    for name in ("x", "y", "z"):
        api_client.post(url, {"username": name, "password": "wrong"}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    # The test client's own address (127.0.0.1) is the trusted proxy.
    locked = api_client.post(url, {"username": "ada", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    other = api_client.post(url, {"username": "ada", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 200


@pytest.mark.django_db
def test_hostile_token_request_bodies_answer_400(api_client):
    url = reverse("api-token")
    assert api_client.post(url, [1, 2], format="json").status_code == 400
    assert api_client.post(url, {"username": {"a": 1}, "password": "x"}, format="json").status_code == 400
