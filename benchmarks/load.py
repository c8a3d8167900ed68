"""Pages under load: gunicorn with the production settings, a generated review of 200 trials, wrk at 20
concurrent connections, and p50/p95/p99, requests per second and errors for each page.

    .venv/bin/python benchmarks/load.py                      # every page, 20 s each
    .venv/bin/python benchmarks/load.py --seconds 10 --connections 20 --workers 2 --page "trial page"

Needs PostgreSQL (LOAD_DATABASE_URL: a database recreated each run, by default ipdreview_load on the local
server), Redis (LOAD_REDIS_URL or REDIS_URL, by default database 14; nothing in it is flushed) and wrk
(Debian's `wrk`). Target: p95 at most 300 ms with 0 errors for each page.

To add a page, add a Page to PAGES: its path is formatted with the keys of the context, which the functions in
CONTEXT_PROVIDERS fill once the review exists (add a provider for objects of your own, e.g. an analysis run).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # formatted with the context: {review}, {trial}, ...
    auth: str = "session"  # "session" (a logged-in browser) or "token" (an API client)


PAGES = [
    Page("review overview", "/reviews/{review}/"),
    Page("trial list API", "/api/v1/reviews/{review}/trials/", auth="token"),
    Page("trial page", "/trials/{trial}/"),
    Page("analyses list", "/reviews/{review}/analyses/"),
    Page("forest plot page", "/analyses/{analysis}/"),
]


def review_context(review, users) -> dict:
    trial = review.trials.order_by("pk")[len(review.trials.all()) // 2]
    return {"review": review.pk, "trial": trial.pk}


def analysis_context(review, users) -> dict:
    """An analysis of the generated review with a stored run: every trial at "included" or "data checked" given
    a harmonised table of 200 participants, the run computed in this process."""
    import numpy as np

    from apps.accounts.models import Role
    from apps.analyses import services
    from apps.jobs import services as jobs
    from apps.trials.lifecycle import Status
    from benchmarks.analysis import add_schema_and_outcomes, store_harmonised_table, trial_frame

    add_schema_and_outcomes(review)
    rng = np.random.default_rng(20261207)
    for number, trial in enumerate(review.trials.filter(status__in=(Status.INCLUDED, Status.DATA_CHECKED)), 1):
        store_harmonised_table(trial, trial_frame(rng, number, 200))
    analyst = users[Role.ANALYST]
    outcome = review.outcomes.get(name="Death")
    analysis = services.analysis_create(
        review=review, actor=analyst, data={"name": "Death, two-stage", "outcome": outcome.pk, "trials": "checked"}
    )
    sending, jobs._enqueue = jobs._enqueue, lambda job: None  # the run is computed here, not by a worker
    try:
        run, _ = services.run_request(analysis=analysis, actor=analyst)
        services.run_execute(run.job_id)
    finally:
        jobs._enqueue = sending
    return {"analysis": analysis.pk}


# Each takes the generated review and its users (by role) and returns keys for the pages' paths.
CONTEXT_PROVIDERS: list[Callable] = [review_context, analysis_context]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def prepare(env: dict, n_trials: int) -> dict:
    """Migrate, generate the review, log a reviewer in (a session) and give them a token; return the context."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from apps.accounts.models import Role
    from apps.accounts.tokens import token_create
    from apps.core.cache_versions import review_cache_reset
    from benchmarks.generated_review import generate_review

    review, users = generate_review(n_trials)
    # A new version for the review, so that no page cached by an earlier run under the same id is read.
    review_cache_reset(review.pk)
    user = users[Role.REVIEWER]
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    context = {"cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "token": token_create(user=user)[0]}
    for provider in CONTEXT_PROVIDERS:
        context.update(provider(review, users))
    return context


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK-JSON {\\"requests\\": %d, \\"seconds\\": %f, \\"p50\\": %f, \\"p95\\": %f, \\"p99\\": %f, " ..
    "\\"status\\": %d, \\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"timeout\\": %d}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
"""


def run_wrk(url: str, headers: dict, *, connections: int, seconds: int, script: Path) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK-JSON "))
    figures = json.loads(line.removeprefix("WRK-JSON "))
    figures["errors"] = sum(figures[key] for key in ("status", "connect", "read", "write", "timeout"))
    return figures


def check_page(url: str, headers: dict) -> None:
    """One request first: a page that does not answer 200 would make the figures meaningless."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200 or response.geturl() != url:
            raise SystemExit(f"{url} answered {response.status} at {response.geturl()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each measurement")
    parser.add_argument("--page", action="append", help="only these pages (by name)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    database_url = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview_load")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.production",
        "DJANGO_SECRET_KEY": "load-benchmark-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("LOAD_REDIS_URL") or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    recreate_database(database_url)
    context = prepare(env, args.trials)

    port = free_port()
    gunicorn = [
        sys.executable, "-m", "gunicorn", "ipdreview.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start")
                time.sleep(0.3)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        for page in PAGES:
            if args.page and page.name not in args.page:
                continue
            url = f"http://127.0.0.1:{port}" + page.path.format(**context)
            if page.auth == "token":
                headers = {"Authorization": f"Token {context['token']}"}
            else:
                headers = {"Cookie": context["cookie"]}
            check_page(url, headers)
            load = {"connections": args.connections, "script": Path(script.name)}
            if args.warmup:
                run_wrk(url, headers, seconds=args.warmup, **load)
            figures = run_wrk(url, headers, seconds=args.seconds, **load)
            rows.append((page, figures))
            print(f"measured {page.name}: p95 {figures['p95']:.0f} ms", file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"\n{args.trials} trials, gunicorn {args.workers} workers (production settings), wrk {args.connections} "
          f"connections, {args.seconds} s per page\n")  # fmt: skip
    print("| page | req/s | p50 | p95 | p99 | errors | p95 <= 300 ms, 0 errors |")
    print("|---|---|---|---|---|---|---|")
    failed = 0
    for page, f in rows:
        meets = f["p95"] <= 300 and f["errors"] == 0
        failed += not meets
        print(f"| {page.name} | {f['requests'] / f['seconds']:.0f} | {f['p50']:.0f} ms | {f['p95']:.0f} ms | "
              f"{f['p99']:.0f} ms | {f['errors']} | {'yes' if meets else 'no'} |")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
