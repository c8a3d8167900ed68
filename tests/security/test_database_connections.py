"""The development server leaves no idle connections behind, and after a PostgreSQL restart the app answers
without errors as soon as the server is back."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.private_services import PrivatePostgres, free_port
from tests.workers import BASE_DIR


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(server.communicate()[0][-3000:])
        if _status(url) == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def _stop(server: subprocess.Popen) -> str:
    server.terminate()
    return server.communicate(timeout=30)[0]


def _now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _other_connections(database: str, since=None) -> int:
    """Connections to the database other than this one; with `since`, only those opened after it (the server's,
    not a connection an earlier test of this process left to the end of its thread)."""
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    parameters = [database]
    if since is not None:
        query += " AND backend_start >= %s"
        parameters.append(since)
    with connection.cursor() as cursor:
        cursor.execute(query, parameters)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_forty_requests_to_the_development_server_leave_no_idle_connection():
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    started = _now()
    server = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        _wait_until_up(url, server)
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(_status, [url] * 40))
        assert statuses == [200] * 40
        # Each request's thread closes its connection as it ends; kept ones would stay for a minute or more.
        deadline = time.monotonic() + 10
        while _other_connections(db["NAME"], since=started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _other_connections(db["NAME"], since=started) == 0
    finally:
        _stop(server)


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    server.start()
    server.create_database("ipdreview")
    yield server
    server.destroy()


def test_after_a_postgresql_restart_the_app_answers_without_errors(private_postgres):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.production",
        "DJANGO_SECRET_KEY": "restart-test-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": private_postgres.url("ipdreview"),
    }
    command = [
        sys.executable, "-m", "gunicorn", "ipdreview.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--timeout", "30",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        _wait_until_up(url, server)
        assert [_status(url) for _ in range(5)] == [200] * 5  # the worker now holds a persistent connection
        # A restart between two requests: the kept connection is dead, and is replaced before it is used.
        private_postgres.stop()
        private_postgres.start()
        assert [_status(url) for _ in range(5)] == [200] * 5
        # Requests while the server is down fail; every request once it is back succeeds, the first included.
        private_postgres.stop()
        assert _status(url) >= 500
        private_postgres.start()
        assert [_status(url) for _ in range(10)] == [200] * 10
    finally:
        output = _stop(server)
    assert "Traceback" not in output.split("Booting worker")[0]
