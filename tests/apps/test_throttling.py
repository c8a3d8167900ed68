"""Password attempts are rate-limited per client address: the API's token endpoint and the login page."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from tests.conftest import cache_clear
from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_counts():
    cache_clear()
    yield
    cache_clear()


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


# Another web process: its own Python, the same settings (and so the same Redis and key prefix), three wrong
# passwords at each of the two places that take one.
OTHER_PROCESS = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import override_settings
# The account lockout is off here: its failed attempts would be written outside the test's transaction and stay
# in the database for later tests (it is tested on its own, in tests/security).
with override_settings(API_TOKEN_THROTTLE_RATE="5/min", LOGIN_THROTTLE_RATE="5/min", AXES_ENABLED=False):
    client = Client()
    wrong = {"username": "ada", "password": "wrong"}
    print(json.dumps({
        "token": [client.post("/api/v1/auth/token/", wrong).status_code for _ in range(3)],
        "login": [client.post("/accounts/login/", wrong).status_code for _ in range(3)],
    }))
"""


def attempts_in_another_process() -> dict:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_counts_are_kept_in_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


@pytest.mark.django_db
# The account lockout (django-axes, tested on its own) counts failures of both endpoints together: high enough here
# that only the rate limit under test answers.
@override_settings(API_TOKEN_THROTTLE_RATE="5/min", LOGIN_THROTTLE_RATE="5/min", AXES_FAILURE_LIMIT=1000)
def test_two_web_processes_share_one_count_per_address(api_client, client):
    UserFactory(username="ada", password="right-password-123")
    assert attempts_in_another_process() == {"token": [400, 400, 400], "login": [200, 200, 200]}

    # This process has tried nothing yet, but the address has used three of its five tries in the other one.
    wrong = {"username": "ada", "password": "wrong"}
    assert [api_client.post(reverse("api-token"), wrong).status_code for _ in range(2)] == [400, 400]
    refused = api_client.post(reverse("api-token"), {"username": "ada", "password": "right-password-123"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"

    assert [client.post(reverse("login"), wrong).status_code for _ in range(2)] == [200, 200]
    refused = client.post(reverse("login"), {"username": "ada", "password": "right-password-123"})
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
