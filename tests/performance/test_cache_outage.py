"""With Redis out of reach, the cached pages are rendered afresh instead of failing."""

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from rest_framework.test import APIClient

from apps.accounts.models import Role
from benchmarks.generated_review import generate_review
from tests.private_services import PrivateRedis

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_server():
    server = PrivateRedis(persistent=False)
    server.start()
    yield server
    server.destroy()


def test_pages_answer_while_the_cache_is_down(redis_server):
    cache_settings = {
        "default": {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": redis_server.url(),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2},
        }
    }
    # override_settings resets Django's cache handler, so the pages use this cache.
    with override_settings(CACHES=cache_settings):
        assert type(caches["default"]).__name__ == "ResilientRedisCache"
        review, users = generate_review(20)
        trial = review.trials.order_by("pk").first()
        client = Client()
        client.force_login(users[Role.REVIEWER])
        api = APIClient()
        api.force_authenticate(users[Role.REVIEWER])
        paths = [f"/reviews/{review.pk}/", f"/trials/{trial.pk}/"]
        api_path = f"/api/v1/reviews/{review.pk}/trials/"
        assert [client.get(path).status_code for path in paths] == [200, 200]
        assert api.get(api_path).status_code == 200
        redis_server.stop()
        assert [client.get(path).status_code for path in paths] == [200, 200]
        assert api.get(api_path).status_code == 200
        assert "Your role: Reviewer" in client.get(paths[0]).content.decode()
        redis_server.start()
        assert [client.get(path).status_code for path in paths] == [200, 200]
