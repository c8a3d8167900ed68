"""Analysis benchmark: 100 trials of 10,000 participants (1,000,000 rows) as harmonised tables, pooled through the
API by a real worker.

    .venv/bin/python benchmarks/analysis.py                   # 100 trials x 10,000 participants
    .venv/bin/python benchmarks/analysis.py --trials 20 --participants 2000

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL; defaults: the local services, a database named
ipdreview_bench_analysis and Redis database 13). It migrates the benchmark database, writes each trial's
harmonised table (Parquet, in a storage folder of its own) with its records, starts gunicorn and a Celery worker on
an analysis queue of its own, logs in through the API and defines two analyses through it: a two-stage odds ratio
adjusted for age, and a one-stage linear mixed model. For each, it POSTs a run and waits for it; the time from the
POST to the stored result (the run's own finished_at) is set beside the engine's own time on the same frame,
measured here in the same run (best of two). Then the whole sensitivity family of the first analysis (with one
leave-one-out row per trial), the server time of the result page and the size of its figure JSON, and the worker's
peak resident memory.

Targets: POST-to-result minus the engine's time at most 1.0 s for each analysis; the family at most 10 s; the
result page at most 300 ms of server time with a figure JSON of at most 1 MB; the worker at most 2 GB.
"""

import argparse
import datetime
import hashlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "analysis-benchmark-passphrase"
POLL_SECONDS = 0.1
SEED = 20261207


def trial_frame(rng, number: int, participants: int) -> pd.DataFrame:
    """One trial's harmonised rows: arm, age, a death (true OR about 0.74) and a blood pressure (MD about -5)."""
    treated = np.arange(participants) % 2 == 0
    age = rng.integers(40, 90, participants)
    effect = rng.normal(-0.3, 0.1)
    death = rng.random(participants) < 1 / (1 + np.exp(-(-1.5 + effect * treated + 0.03 * (age - 65))))
    return pd.DataFrame(
        {
            "source_row": np.arange(1, participants + 1),
            "USUBJID": pd.array([f"{number}-{i}" for i in range(participants)], dtype="string"),
            "TRT01P": pd.array(np.where(treated, "intervention", "control"), dtype="string"),
            "AGE": pd.array(age, dtype="Int64"),
            "DEATH": pd.array(death.astype("int64"), dtype="Int64"),
            "SBP": np.round(150 - 5 * treated + rng.normal(rng.normal(0, 2), 12, participants), 1),
        }
    )


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            connection.execute(f'create database "{name}"')


def benchmark_env(storage_root: Path) -> dict:
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview_bench_analysis")
    ensure_database(database_url)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "DATASET_STORAGE_ROOT": str(storage_root),
        "DJANGO_LOG_LEVEL": "WARNING",
        "ANALYSIS_QUEUE": f"analysis-benchmark-{os.getpid()}",
    }


SCHEMA = [
    ("USUBJID", "participant_id", "text", []),
    ("TRT01P", "treatment", "category", ["intervention", "control"]),
    ("AGE", "covariate", "integer", []),
    ("DEATH", "outcome", "integer", [0, 1]),
    ("SBP", "outcome", "number", []),
]


def add_schema_and_outcomes(review) -> None:
    """The schema the generated tables follow, and the two outcomes analysed."""
    from apps.harmonisation.models import SchemaVariable
    from apps.reviews.models import Outcome

    for position, (name, role, kind, allowed) in enumerate(SCHEMA):
        SchemaVariable.objects.create(
            review=review, position=position, name=name, role=role, type=kind, allowed_values=allowed
        )
    Outcome.objects.create(review=review, name="Death", type="binary", measure="OR", is_primary=True)
    Outcome.objects.create(review=review, name="Systolic blood pressure", type="continuous", measure="MD")


def store_harmonised_table(trial, frame: pd.DataFrame) -> None:
    """The trial's harmonised table as an apply leaves it: Parquet by content hash, with its records."""
    from django.core.files.base import ContentFile

    from apps.datasets.models import DatasetVersion
    from apps.datasets.storage import store_once
    from apps.harmonisation.models import HarmonisedTable, Mapping
    from apps.harmonisation.services import harmonised_name

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    content = buffer.getvalue()
    sha256 = hashlib.sha256(content).hexdigest()
    version = DatasetVersion.objects.create(
        trial=trial,
        number=1,
        sha256=sha256,
        size=len(content),
        original_name="trial.csv",
        storage_name=f"uploads/{sha256}",
        status=DatasetVersion.Status.PARSED,
        n_rows=len(frame),
        n_columns=len(frame.columns),
    )
    mapping = Mapping.objects.create(trial=trial, source_version=version, number=1, revision=1)
    HarmonisedTable.objects.create(
        mapping=mapping,
        mapping_revision=1,
        storage_name=store_once(harmonised_name(sha256), ContentFile(content)),
        sha256=sha256,
        code_version="benchmark",
        input_hashes={},
        n_rows=len(frame),
    )


def build_review(trials: int, participants: int) -> tuple[int, str]:
    """The review, its schema and outcomes, and every trial at "included" with its harmonised table."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role
    from apps.reviews.models import Review
    from apps.trials.lifecycle import Status
    from apps.trials.models import Trial

    user, _ = get_user_model().objects.get_or_create(username="analysis-benchmark")
    user.set_password(PASSWORD)
    user.save()
    review = Review.objects.create(title=f"Analysis benchmark {uuid.uuid4().hex[:8]}")
    Membership.objects.create(review=review, user=user, role=Role.ANALYST)
    add_schema_and_outcomes(review)
    rng = np.random.default_rng(SEED)
    for number in range(1, trials + 1):
        trial = Trial.objects.create(
            review=review,
            registry_id=f"NCT9{number:07d}",
            title=f"TRIAL-{number}",
            status=Status.INCLUDED,
            year=1990 + number % 30,
            n_randomised=participants,
        )
        store_harmonised_table(trial, trial_frame(rng, number, participants))
    return review.pk, user.username


class Api:
    def __init__(self, port: int):
        self.port = port
        self.token = ""

    def call(self, method: str, url: str, body: dict | None = None, *, form: bool = False) -> tuple[int, dict, int]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Authorization": f"Token {self.token}"} if self.token else {}
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            payload = "&".join(f"{key}={value}" for key, value in (body or {}).items())
        else:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body) if body is not None else None
        connection.request(method, url, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        if response.status >= 400:
            raise SystemExit(f"{method} {url} failed: {response.status} {raw[:500]!r}")
        return response.status, json.loads(raw or b"{}"), len(raw)


def wait_for_http(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the web server did not start")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_services(env: dict, port: int) -> tuple[subprocess.Popen, subprocess.Popen]:
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "ipdreview.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "600",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ipdreview",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            f"--queues={env['ANALYSIS_QUEUE']}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return web, worker


def finished_at(run: dict) -> float:
    return datetime.datetime.fromisoformat(run["finished_at"]).timestamp()


def wait_for_run(api: Api, run_id: int) -> dict:
    while True:
        _, run, _ = api.call("GET", f"/api/v1/analysis-runs/{run_id}/")
        if run["status"] in ("succeeded", "failed"):
            return run
        time.sleep(POLL_SECONDS)


def timed_run(api: Api, analysis_id: int, path: str = "runs") -> tuple[float, dict]:
    """Seconds from the POST to the run's stored result, and the run."""
    started = time.time()
    status, body, _ = api.call("POST", f"/api/v1/analyses/{analysis_id}/{path}/")
    if status != 202:
        raise SystemExit(f"expected a new run (202), got {status}")
    run = wait_for_run(api, body["id"] if path == "runs" else body["run"])
    if run["status"] != "succeeded":
        raise SystemExit(f"the run failed: {run['error']}")
    return finished_at(run) - started, run


def engine_seconds_on_same_frame(run: dict) -> float:
    """The engine alone on the run's input, rebuilt here from the tables it names (best of two)."""
    from apps.analyses import rows
    from ipdstats.engine import run_table

    spec = run["spec"]
    columns = rows.engine_columns(spec)
    stored = rows.storage_names(run["inputs"])
    frame = rows.concatenated([rows.trial_rows(item, spec, columns, stored) for item in run["inputs"]], spec)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        run_table(spec, frame)
        times.append(time.perf_counter() - started)
    return min(times)


def page_server_seconds(run_id: int, username: str) -> tuple[float, int]:
    """Server time of the result page (best of three, after one warm request), and its figure's JSON size."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.analyses.models import AnalysisRun
    from apps.analyses.selectors import figure_json, run_figure

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    client.get(f"/analysis-runs/{run_id}/")
    times = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.get(f"/analysis-runs/{run_id}/")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    size = len(figure_json(run_figure(AnalysisRun.objects.get(pk=run_id))))
    return min(times), size


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--participants", type=int, default=10_000)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="analysis-benchmark-"))
    env = benchmark_env(storage)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    started = time.perf_counter()
    review_id, username = build_review(args.trials, args.participants)
    print(f"{args.trials} trials x {args.participants:,} participants written in {time.perf_counter() - started:.1f} s")
    port = free_port()
    web, worker = start_services(env, port)
    try:
        wait_for_http(port)
        api = Api(port)
        _, body, _ = api.call("POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, form=True)
        api.token = body["token"]
        _, outcomes, _ = api.call("GET", f"/api/v1/reviews/{review_id}/outcomes/")
        ids = {outcome["name"]: outcome["id"] for outcome in outcomes["results"]}
        definitions = {
            "two-stage OR adjusted for age": {"outcome": ids["Death"], "adjust": ["AGE"]},
            "one-stage LMM": {"outcome": ids["Systolic blood pressure"], "approach": "one-stage"},
        }
        figures = {}
        first_analysis = first_run = None
        for label, definition in definitions.items():
            _, analysis, _ = api.call("POST", f"/api/v1/reviews/{review_id}/analyses/", {"name": label, **definition})
            seconds, run = timed_run(api, analysis["id"])
            engine = engine_seconds_on_same_frame(run)
            overhead = seconds - engine
            figures[label] = overhead
            print(
                f"{label:32s} POST to result {seconds:6.2f} s; engine on the same frame {engine:5.2f} s "
                f"(in the worker {run['engine_seconds']:.2f} s); overhead {overhead:5.2f} s  (target <= 1.0 s)"
            )
            if first_analysis is None:
                first_analysis, first_run = analysis["id"], run
        seconds, family = timed_run(api, first_analysis, "sensitivity")
        rows = len(family["result"]["leave_one_out"])
        print(f"{'sensitivity family':32s} {seconds:6.2f} s with {rows} leave-one-out rows  (target <= 10 s)")
        page, size = page_server_seconds(first_run["id"], username)
        print(
            f"{'result page':32s} {1000 * page:6.0f} ms server time; figure JSON {size / 1024:.0f} KB "
            "(targets <= 300 ms, <= 1 MB)"
        )
        print(f"{'worker peak memory':32s} {peak_rss_mb(worker.pid):6.0f} MB  (target <= 2048 MB)")
    finally:
        for process in (web, worker):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
