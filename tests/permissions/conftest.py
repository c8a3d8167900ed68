"""The matrix's world is built once per module, in a transaction rolled back at the end of the module; each case
runs in a savepoint inside it (pytest-django's transaction per test), so whatever a case writes is undone."""

import pytest
from django.db import transaction

from tests.permissions.world import World


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        built = World()
        yield built
        transaction.set_rollback(True)
