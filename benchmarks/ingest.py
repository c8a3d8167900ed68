"""Ingest benchmark: a 1,000,000-row, 20-column CSV uploaded through the API to a real worker, parsed and harmonised.

    .venv/bin/python benchmarks/ingest.py               # 1,000,000 rows
    .venv/bin/python benchmarks/ingest.py --rows 200000

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL; defaults: the local services, a database named
ipdreview_bench and Redis database 13). It writes the CSV to benchmarks/out/, migrates the benchmark database,
starts gunicorn and a Celery worker (on the ingest queue and a parse queue of its own), uploads the file over HTTP
(streamed, as a client would), waits until the version is parsed, defines a 20-variable schema and a mapping that
uses every rule category through the REST API, applies it and waits for the apply job. It prints each step, the
total (upload + parse + harmonisation; the schema and rule requests in between stand for a person's editing and
are left out), its ratio to a plain pandas.read_csv of the same file (default C engine, every column, dtypes
guessed by pandas: what a user would type), and the peak resident memory of the worker and of the child process
it parses in. A three-row file is uploaded and parsed before the timed run, so that the worker's one-time start
of its parsing forkserver is reported apart rather than counted in the parse of the large file.
The parse and the harmonisation are timed until the finished_at their jobs record (the server's clock is this
machine's), so the interval at which the benchmark polls adds nothing to them. Each job also reports its steps
(seconds inside the worker), printed beside it.

In the same run, before the services start, it measures the floor of benchmarks/ingest_floor.py on the same file
(the steps no design avoids: receiving the upload, reading the CSV, writing and reading a typed table, writing a
harmonised one) and prints the total beside it: the target is a total of at most twice the floor, with the
parsing child's peak memory at most 2 GB.
"""

import argparse
import datetime
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

from apps.harmonisation import rules  # noqa: E402
from apps.harmonisation.rules import Rule, Target  # noqa: E402

# How often the benchmark asks for a job's state. The times are taken from the job's own finished_at, so the
# interval adds nothing to them; asking often would only take CPU from the worker (each answer reads the
# database).
POLL_SECONDS = 0.25


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


def schema_and_rules() -> tuple[list[Target], list[Rule]]:
    targets = [
        Target("USUBJID", rules.TEXT),
        Target("SITEID", rules.TEXT),
        Target("TRT01P", rules.CATEGORY, allowed_values=("intervention", "control")),
        Target("SEX", rules.CATEGORY, allowed_values=("male", "female")),
        Target("AGE", rules.INTEGER, unit="year", minimum=18, maximum=85),
        Target("RANDDT", rules.DATE),
        Target("GLUC", rules.NUMBER, unit="mmol/L", minimum=1, maximum=4),
        Target("SCORE", rules.NUMBER, minimum=0, maximum=60),
        Target("LOGLAB2", rules.NUMBER),
    ]
    rule_list = [
        Rule("USUBJID", rules.DIRECT, ("patid",)),
        Rule("SITEID", rules.DIRECT, ("centre",)),
        Rule("TRT01P", rules.TREATMENT_ARMS, ("arm",), {"arms": {"A": "intervention", "B": "control"}}),
        Rule("SEX", rules.RECODE, ("sex",), {"map": {"M": "male", "F": "female"}}),
        Rule("AGE", rules.DIRECT, ("age",)),
        Rule("RANDDT", rules.DIRECT, ("randdate",)),
        Rule("GLUC", rules.UNIT_CONVERSION, ("lab0",), {"from": "mg/dL", "analyte": "glucose"}),
        Rule("SCORE", rules.LINEAR_SCALE, ("lab1",), {"slope": 0.8, "intercept": 1.5, "source": "benchmark"}),
        Rule("LOGLAB2", rules.EXPRESSION, (), {"expression": "log(lab2) if lab2 > 0 else None"}),
    ]
    for index in range(3, 10):
        targets.append(Target(f"LAB{index}", rules.NUMBER, minimum=20, maximum=80))
        rule_list.append(Rule(f"LAB{index}", rules.DIRECT, (f"lab{index}",)))
    targets += [
        Target("SMOKER", rules.CATEGORY, allowed_values=("current", "former", "never")),
        Target("EVENT", rules.INTEGER, allowed_values=(0, 1)),
        Target("AVAL", rules.NUMBER, unit="day", minimum=0),
        Target("COMMENT", rules.TEXT),
    ]
    rule_list += [
        Rule("SMOKER", rules.RECODE, ("smoker",), {"map": {"yes": "current", "ex": "former", "no": "never"}}),
        Rule("EVENT", rules.EXPRESSION, (), {"expression": "event"}),
        Rule("AVAL", rules.DIRECT, ("time",)),
        Rule("COMMENT", rules.DIRECT, ("note",)),
    ]
    return targets, rule_list


def schema_payload(target: Target) -> dict:
    payload = {
        "name": target.name,
        "type": target.type,
        "unit": target.unit,
        "allowed_values": list(target.allowed_values),
    }
    return payload | {"minimum": target.minimum, "maximum": target.maximum}


def api_call(port: int, token: str, method: str, url: str, body: dict | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    connection.request(method, url, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read() or b"{}")
    if response.status >= 400:
        raise SystemExit(f"{method} {url} failed: {response.status} {payload}")
    return payload


def harmonise_through_api(port: int, token: str, trial_id: int, version_id: int) -> tuple[float, dict]:
    """Schema, mapping and rules through the API, then the apply job; (seconds from apply to done, the job)."""
    review_id = api_call(port, token, "GET", f"/api/v1/trials/{trial_id}/")["review"]
    targets, rule_list = schema_and_rules()
    ids = {
        target.name: api_call(port, token, "POST", f"/api/v1/reviews/{review_id}/schema/", schema_payload(target))["id"]
        for target in targets
    }
    mapping = api_call(port, token, "POST", f"/api/v1/trials/{trial_id}/mappings/", {"source_version": version_id})
    for rule in rule_list:
        body = {
            "target": ids[rule.target],
            "category": rule.category,
            "source_variables": list(rule.source_variables),
            "parameters": rule.parameters,
        }
        api_call(port, token, "POST", f"/api/v1/mappings/{mapping['id']}/rules/", body)
    started = time.time()
    job = api_call(port, token, "POST", f"/api/v1/mappings/{mapping['id']}/apply/")
    while job["state"] not in ("succeeded", "failed"):
        time.sleep(POLL_SECONDS)
        job = api_call(port, token, "GET", f"/api/v1/mappings/{mapping['id']}/jobs/")["results"][0]
    return finished_at(job) - started, job


def finished_at(job: dict) -> float:
    """When the worker finished the job (the server runs on this machine, so its clock is ours)."""
    return datetime.datetime.fromisoformat(job["finished_at"]).timestamp()


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

    from apps.accounts.models import Membership, Role
    from apps.accounts.tokens import token_create
    from apps.reviews.models import Review
    from apps.trials.models import Agreement, Trial

    user, _ = get_user_model().objects.get_or_create(username="ingest-benchmark")
    review = Review.objects.create(title=f"Ingest benchmark {uuid.uuid4().hex[:8]}")
    Membership.objects.create(review=review, user=user, role=Role.ANALYST)
    trial = Trial.objects.create(review=review, title="Benchmark trial")
    Agreement.objects.create(trial=trial, status=Agreement.Status.SIGNED)
    token, _ = token_create(user=user)
    return token, trial.pk


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


def cpu_seconds(pid: int) -> float:
    """Processor time (user and system) of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def web_cpu_seconds(master: int) -> float:
    """Processor time of the web server's worker processes (the children of its master)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sum(cpu_seconds(int(child)) for child in children)


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


def start_services(env: dict, port: int) -> tuple[subprocess.Popen, subprocess.Popen]:
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ipdreview.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "600"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    # The parse goes to a queue of its own, so that no other worker on this Redis takes it; the apply job is
    # routed to `ingest`, which this worker also serves.
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ipdreview", "worker", "--pool=solo", "--without-gossip",
         "--without-mingle", "--loglevel=WARNING", f"--queues={env['DATASET_PARSE_QUEUE']},ingest"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return web, worker


def wait_for_parse(port: int, token: str, version_id: int) -> dict:
    """The version once parsed (or failed) and its job finished: the version is marked parsed a moment before
    its job records the time it finished."""
    while True:
        state = get_json(port, token, f"/api/v1/datasets/{version_id}/")
        if state["status"] in ("parsed", "failed") and (state["job"] or {}).get("finished_at"):
            return state
        time.sleep(POLL_SECONDS)


def warm_up_worker(port: int, token: str, trial_id: int) -> float:
    """Parse a three-row file first: a worker starts its parsing forkserver (a fresh interpreter importing Django
    and the readers) on its first parse only, and a running service pays that once, not per upload."""
    path = OUT / "warm-up.csv"
    path.write_text("patid,age\nP1,40\nP2,51\nP3,62\n")
    started = time.perf_counter()
    state = wait_for_parse(port, token, upload(port, token, trial_id, path)["id"])
    if state["status"] != "parsed":
        raise SystemExit(f"warm-up parse failed: {state['error']}")
    return time.perf_counter() - started


def benchmark_env(storage_root: Path) -> dict:
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview_bench")
    ensure_database(database_url)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "DATASET_STORAGE_ROOT": str(storage_root),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATASET_PARSE_QUEUE": f"ingest-benchmark-{os.getpid()}",
    }


def steps(result: dict) -> str:
    """The job's own account of its steps (seconds inside the worker), e.g. "read 0.25, type 0.31"."""
    return ", ".join(f"{name.replace('_', ' ')} {seconds:.2f}" for name, seconds in result.get("seconds", {}).items())


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

    storage_root = OUT / "datasets"
    shutil.rmtree(storage_root, ignore_errors=True)
    env = benchmark_env(storage_root)
    token, trial_id = prepare(env)
    from benchmarks.ingest_floor import CPU_SECONDS as FLOOR_CPU
    from benchmarks.ingest_floor import measure as measure_floor

    plain, floor_steps = measure_floor(csv_path)
    floor = sum(floor_steps.values())
    floor_cpu = sum(FLOOR_CPU.values())
    port = free_port()
    web, worker = start_services(env, port)
    try:
        wait_for_http(port)
        time.sleep(3)  # let the worker connect to the broker
        warm_up = warm_up_worker(port, token, trial_id)
        web_before = web_cpu_seconds(web.pid)
        started = time.time()
        version = upload(port, token, trial_id, csv_path)
        accepted = time.time()
        upload_cpu = web_cpu_seconds(web.pid) - web_before
        uploaded = accepted - started
        state = wait_for_parse(port, token, version["id"])
        if state["status"] != "parsed":
            raise SystemExit(f"parse failed: {state['error']}")
        parsed = finished_at(state["job"]) - accepted
        harmonised, job = harmonise_through_api(port, token, trial_id, version["id"])
        worker_peak = peak_rss_mb(worker.pid)
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            process.wait(timeout=60)
    if job["state"] != "succeeded":
        raise SystemExit(f"harmonisation failed: {job['error']}")
    total = uploaded + parsed + harmonised
    parse_peak = state["job"]["result"]["peak_memory_mb"]
    flagged = job["result"]["flagged_rows"]
    print(f"file: {args.rows:,} rows x 20 columns, {size_mb:,.0f} MB")
    print(f"plain pandas.read_csv (defaults, all columns): {plain:6.2f} s   (C engine, dtypes guessed; best of 3)")
    print(f"floor (benchmarks/ingest_floor.py, this run):  {floor:6.2f} s   ({floor / plain:.1f} x read_csv)")
    print(f"warm-up: a 3-row file uploaded and parsed first ({warm_up:.2f} s; starts the worker's parse forkserver)")
    print(f"upload (HTTP, hash, store; until 202):         {uploaded:6.2f} s")
    print(f"parse job (202 until parsed):                  {parsed:6.2f} s   ({steps(state['job']['result'])})")
    print(f"harmonisation job (apply until succeeded):     {harmonised:6.2f} s   ({steps(job['result'])})")
    print(f"rows flagged by the harmonisation:             {flagged:,}")
    print(f"total (upload + parse + harmonisation):        {total:6.2f} s   ({total / plain:.1f} x read_csv)")
    print(f"total / floor:                                 {total / floor:6.2f}     (target <= 2)")
    pipeline_cpu = upload_cpu + state["job"]["result"]["cpu_seconds"] + job["result"]["cpu_seconds"]
    print(
        f"processor time (all threads): upload {upload_cpu:.2f} + parse {state['job']['result']['cpu_seconds']:.2f} + "
        f"harmonisation {job['result']['cpu_seconds']:.2f} = {pipeline_cpu:.2f} s; the floor's steps {floor_cpu:.2f} s "
        f"({pipeline_cpu / floor_cpu:.2f} x; on a busy machine this ratio moves less than the seconds)"
    )
    print(f"worker peak resident memory:                   {worker_peak:6.0f} MB (worker process)")
    print(f"parse peak resident memory:                    {parse_peak:6.0f} MB (parsing child; target <= 2048 MB)")
    print("column types:", ", ".join(f"{entry['name']}={entry['type']}" for entry in state["dictionary"]))


if __name__ == "__main__":
    main()
