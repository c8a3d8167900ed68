"""Fixtures shared by the whole suite."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """An API client authenticated as the given user (through the token endpoint's table)."""

    def login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return login
