"""Ingest benchmark: a 1,000,000-row, 20-column CSV uploaded through the API to a real worker and parsed.

    .venv/bin/python benchmarks/ingest.py               # 1,000,000 rows
    .venv/bin/python benchmarks/ingest.py --rows 200000

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL; defaults: the local services, a database named
ipdreview_bench and Redis database 13). It writes the CSV to benchmarks/out/, migrates the benchmark database,
starts gunicorn and a Celery worker (on a parse queue of its own), uploads the file over HTTP (streamed, as a client
would), waits until the version is parsed, and prints the total time beside a plain pandas.read_csv of the
same file, and the peak resident memory of the worker and of the child process it parses in. The
harmonisation step is timed by benchmarks/harmonise.py.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))


def write_csv(path: Path, rows: int) -> None:
    """20 columns as trials send them: text ids, codes, integers, decimals, dates and categories."""
    rng = np.random.default_rng(20261127)
    columns = {
        "patid": np.char.add("P", np.char.zfill(np.arange(rows).astype(str), 7)),
        "centre": rng.integers(1, 60, rows).astype(str),
        "arm": rng.choice(["A", "B"], rows),
        "sex": rng.choice(["M", "F"], rows),
        "age": rng.integers(18, 90, rows).astype(str),
        "randdate": (np.datetime64("2018-01-01") + rng.integers(0, 1500, rows).astype("timedelta64[D]")).astype(str),
    }
    for index in range(10):
        columns[f"lab{index}"] = np.round(rng.normal(50, 10, rows), 3).astype(str)
    columns["smoker"] = rng.choice(["yes", "no", "ex"], rows)
    columns["event"] = rng.integers(0, 2, rows).astype(str)
    columns["time"] = np.round(rng.exponential(400, rows), 1).astype(str)
    columns["note"] = rng.choice(["", "withdrew", "lost to follow-up", "NA"], rows, p=[0.9, 0.04, 0.04, 0.02])
    pd.DataFrame(columns).to_csv(path, index=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'create database "{name}"')


def prepare(env: dict) -> tuple[str, int]:
    """Migrate, then create a review, a trial under a signed agreement and an analyst; return token, trial id."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import Membership, Role
    from apps.reviews.models import Review
    from apps.trials.models import Agreement, Trial

    user, _ = get_user_model().objects.get_or_create(username="ingest-benchmark")
    review = Review.objects.create(title=f"Ingest benchmark {uuid.uuid4().hex[:8]}")
    Membership.objects.create(review=review, user=user, role=Role.ANALYST)
    trial = Trial.objects.create(review=review, title="Benchmark trial")
    Agreement.objects.create(trial=trial, status=Agreement.Status.SIGNED)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key, trial.pk


def upload(port: int, token: str, trial_id: int, path: Path) -> dict:
    """POST the file as multipart/form-data, streamed from disk in 1 MB chunks."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk
        yield tail

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest("POST", f"/api/v1/trials/{trial_id}/datasets/")
    connection.putheader("Authorization", f"Token {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + path.stat().st_size + len(tail)))
    connection.endheaders()
    for chunk in body():
        connection.send(chunk)
    response = connection.getresponse()
    payload = json.loads(response.read())
    if response.status not in (200, 202):
        raise SystemExit(f"upload failed: {response.status} {payload}")
    return payload


def get_json(port: int, token: str, url: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", url, headers={"Authorization": f"Token {token}"})
    return json.loads(connection.getresponse().read())


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for_http(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the web server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"ingest-{args.rows}.csv"
    if not csv_path.exists():
        print(f"writing {csv_path.name} ...", flush=True)
        write_csv(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 1e6

    started = time.perf_counter()
    pd.read_csv(csv_path)
    plain = time.perf_counter() - started

    storage_root = OUT / "datasets"
    shutil.rmtree(storage_root, ignore_errors=True)
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview_bench")
    ensure_database(database_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "DATASET_STORAGE_ROOT": str(storage_root),
        "DJANGO_LOG_LEVEL": "WARNING",
        # A queue of its own, so that no other worker on this Redis takes the job.
        "DATASET_PARSE_QUEUE": f"ingest-benchmark-{os.getpid()}",
    }
    token, trial_id = prepare(env)
    port = free_port()
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ipdreview.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "600"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ipdreview", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING", f"--queues={env['DATASET_PARSE_QUEUE']}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_http(port)
        time.sleep(3)  # let the worker connect to the broker
        started = time.perf_counter()
        version = upload(port, token, trial_id, csv_path)
        uploaded = time.perf_counter() - started
        while True:
            state = get_json(port, token, f"/api/v1/datasets/{version['id']}/")
            if state["status"] in ("parsed", "failed"):
                break
            time.sleep(0.2)
        total = time.perf_counter() - started
        worker_peak = peak_rss_mb(worker.pid)
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            process.wait(timeout=60)
    if state["status"] != "parsed":
        raise SystemExit(f"parse failed: {state['error']}")
    print(f"file: {args.rows:,} rows x 20 columns, {size_mb:,.0f} MB")
    print(f"plain pandas.read_csv:        {plain:6.2f} s")
    print(f"upload (HTTP, hash, store):   {uploaded:6.2f} s")
    print(f"upload + parse (total):       {total:6.2f} s   ({total / plain:.1f} x read_csv; target <= 4 x)")
    parse_peak = state["job"]["result"]["peak_memory_mb"]
    print(f"worker peak resident memory:  {worker_peak:6.0f} MB (worker process)")
    print(f"parse peak resident memory:   {parse_peak:6.0f} MB (its parsing child; target <= 2048 MB)")
    print("column types:", ", ".join(f"{entry['name']}={entry['type']}" for entry in state["dictionary"]))


if __name__ == "__main__":
    main()
