"""Schemathesis against the API's own published schema, as CI runs it.

Makes a database of its own (DATABASE_URL's name + "_fuzz"), migrates it, loads the demo review, serves the
app with gunicorn (no debug) on a free port, and runs schemathesis as the demo coordinator for a bounded time.
Passes only with no server error (5xx) and no response that breaks the schema. Jobs the fuzzing queues go
to queues of their own, emptied at the end.

    .venv/bin/python scripts/api_fuzz.py [--max-time SECONDS]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fuzz_database_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_fuzz"
    return urlunsplit(parts._replace(path="/" + name)), name


def recreate_database(url: str, name: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


TOKEN_SCRIPT = """
from django.contrib.auth import get_user_model
from apps.accounts.tokens import token_create
print(token_create(user=get_user_model().objects.get(username="coordinator"))[0])
"""


def wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped before answering")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-time", type=int, default=int(os.environ.get("API_FUZZ_SECONDS", "240")))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview")
    database_url, name = fuzz_database_url(base_url)
    queue = f"api-fuzz-{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "DATASET_STORAGE_ROOT": str(BASE_DIR / "var" / "fuzz" / "datasets"),
        "DJANGO_MEDIA_ROOT": str(BASE_DIR / "var" / "fuzz" / "media"),
        # Fuzzed uploads, applies and check runs stay queued on queues nobody else reads.
        "DATASET_PARSE_QUEUE": queue,
        "HARMONISE_QUEUE": queue,
        "CHECKS_QUEUE": queue,
        # The fuzzer sends many requests from one address; the password endpoints are not fuzzed.
        "API_TOKEN_THROTTLE_RATE": "10000/min",
        # Refused requests are the fuzzer's daily bread: log only what failed on the server's side.
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    print(f"--- api fuzz: database {name}")
    recreate_database(base_url, name)
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo")
    token = manage(env, "shell", "-c", TOKEN_SCRIPT).strip().splitlines()[-1]

    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "ipdreview.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--timeout", "60", "--log-level", "warning"],
        cwd=BASE_DIR, env=env,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        command = [
            str(BIN / "schemathesis"), "run", f"http://127.0.0.1:{port}/api/schema/",
            "--header", f"Authorization: Token {token}",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--max-time", str(args.max_time),
            "--workers", "2",
            "--request-timeout", "30",
            "--suppress-health-check", "all",
            # Logging out would revoke the fuzzer's own token; the password endpoints have their own tests.
            "--exclude-path-regex", "^/api/v1/auth/",
        ]  # fmt: skip
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        report = BASE_DIR / "var" / "fuzz" / "schemathesis.json"
        command += ["--report", "json", "--report-json-path", str(report)]
        print("--- " + " ".join(command).replace(token, "<token>"), flush=True)
        subprocess.run(command, cwd=BASE_DIR, env=env)
        return verdict(json.loads(report.read_text()))
    finally:
        server.terminate()
        server.wait(timeout=30)
        _empty_queue(env["REDIS_URL"], queue)


def verdict(document: dict) -> int:
    """Pass on zero server errors and zero schema violations (the only checks run). A generator's own failure
    on one operation (schemathesis' "Runtime Error") is shown but is neither; a run that did not finish, or
    tested nothing, fails."""
    failures = document["failures"]
    cases = document["test_cases"]
    for failure in failures:
        print(f"FAILED {failure['code']} {failure['title']}: {failure['count']} in {', '.join(failure['operations'])}")
    for error in document["errors"]:
        print(f"tool error (not a failure of the API): {error['title']} x{error['count']}")
    fatal_titles = {"Schema Loading Error", "Test Execution Error"}
    fatal = [error for error in document["errors"] if error["title"] in fatal_titles]
    tested = document["operations"]["tested"]
    server_errors = sum(f["count"] for f in failures if f["code"] == "ST101")
    violations = sum(f["count"] for f in failures if f["code"] != "ST101")
    print(
        f"api fuzz: {tested} operations, {cases['generated']} test cases in {document['running_time']:.0f} s, "
        f"{server_errors} server errors, {violations} schema violations"
    )
    failed = cases["with_failures"]
    print(f"schemathesis: {cases['generated'] - failed} passed, {failed} failed")
    return 1 if failures or fatal or not document["complete"] or tested == 0 else 0


def _empty_queue(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(queue, *client.keys(f"{queue}*"))


if __name__ == "__main__":
    sys.exit(main())
