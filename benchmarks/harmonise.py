"""Harmonisation benchmark: a 1,000,000-row, 20-column parsed table mapped to a 20-variable schema.

    .venv/bin/python benchmarks/harmonise.py               # 1,000,000 rows
    .venv/bin/python benchmarks/harmonise.py --rows 200000

The table has the columns and types that benchmarks/ingest.py uploads and the parse job stores (text ids,
integers, decimals, dates, codes). Every rule category is used: direct, recode, treatment arms, unit
conversion, linear scale and expression. The script times what the apply job does after reading the parsed
Parquet (apply the rules, flag, write the Parquet table, hash it) and prints it beside a plain pandas.read_csv
of the same data as CSV, with the process's peak resident memory. It needs no database: the job's database
work is a few rows.

    .venv/bin/python benchmarks/harmonise.py --through-api   # the whole path, as benchmarks/ingest.py runs it

With --through-api it runs benchmarks/ingest.py's path (PostgreSQL, Redis, gunicorn and a Celery worker on the
ingest queue; the same settings and defaults), then defines the schema, writes the mapping and applies it through
the REST API, waits for the apply job, and prints upload + parse + harmonisation beside plain read_csv, with the
worker's peak resident memory.
"""

import argparse
import hashlib
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.harmonisation import rules  # noqa: E402
from apps.harmonisation.rules import Rule, Target  # noqa: E402


def parsed_table(rows: int) -> pd.DataFrame:
    """The table as the parse job leaves it: ids as text, counts as Int64, dates as datetime64."""
    rng = np.random.default_rng(20261127)
    columns = {
        "patid": pd.array(np.char.add("P", np.char.zfill(np.arange(rows).astype(str), 7)), dtype="string"),
        "centre": pd.array(rng.integers(1, 60, rows).astype(str), dtype="string"),
        "arm": pd.array(rng.choice(["A", "B"], rows), dtype="string"),
        "sex": pd.array(rng.choice(["M", "F"], rows), dtype="string"),
        "age": pd.array(rng.integers(16, 92, rows), dtype="Int64"),
        "randdate": np.datetime64("2018-01-01") + rng.integers(0, 1500, rows).astype("timedelta64[D]"),
    }
    for index in range(10):
        columns[f"lab{index}"] = np.round(rng.normal(50, 10, rows), 3)
    columns["smoker"] = pd.array(rng.choice(["yes", "no", "ex"], rows), dtype="string")
    columns["event"] = pd.array(rng.integers(0, 2, rows), dtype="Int64")
    columns["time"] = np.round(rng.exponential(400, rows), 1)
    columns["note"] = pd.array(rng.choice(["", "withdrew", "lost to follow-up", "NA"], rows), dtype="string")
    return pd.DataFrame(columns)


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
    started = time.perf_counter()
    job = api_call(port, token, "POST", f"/api/v1/mappings/{mapping['id']}/apply/")
    while job["state"] not in ("succeeded", "failed"):
        time.sleep(0.2)
        job = api_call(port, token, "GET", f"/api/v1/mappings/{mapping['id']}/jobs/")["results"][0]
    return time.perf_counter() - started, job


def through_api(rows: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import ingest

    ingest.OUT.mkdir(parents=True, exist_ok=True)
    csv_path = ingest.OUT / f"ingest-{rows}.csv"
    if not csv_path.exists():
        ingest.write_csv(csv_path, rows)
    started = time.perf_counter()
    pd.read_csv(csv_path)
    plain = time.perf_counter() - started

    storage_root = ingest.OUT / "datasets"
    shutil.rmtree(storage_root, ignore_errors=True)
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview_bench")
    ingest.ensure_database(database_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "DATASET_STORAGE_ROOT": str(storage_root),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    token, trial_id = ingest.prepare(env)
    port = ingest.free_port()
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ipdreview.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "600"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ipdreview", "worker", "--pool=solo", "--queues=ingest",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        ingest.wait_for_http(port)
        time.sleep(3)  # let the worker connect to the broker
        started = time.perf_counter()
        version = ingest.upload(port, token, trial_id, csv_path)
        while (state := ingest.get_json(port, token, f"/api/v1/datasets/{version['id']}/"))["status"] not in (
            "parsed",
            "failed",
        ):
            time.sleep(0.2)
        parsed = time.perf_counter() - started
        if state["status"] != "parsed":
            raise SystemExit(f"parse failed: {state['error']}")
        harmonise_seconds, job = harmonise_through_api(port, token, trial_id, version["id"])
        # The schema and rule requests in between are a person's editing, not processing: left out of the total.
        total = parsed + harmonise_seconds
        worker_peak = ingest.peak_rss_mb(worker.pid)
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            process.wait(timeout=60)
    if job["state"] != "succeeded":
        raise SystemExit(f"harmonisation failed: {job['error']}")
    print(f"file: {rows:,} rows x 20 columns, {csv_path.stat().st_size / 1e6:,.0f} MB")
    print(f"plain pandas.read_csv:            {plain:6.2f} s")
    print(f"upload + parse:                   {parsed:6.2f} s")
    print(
        f"harmonisation job (apply -> done): {harmonise_seconds:6.2f} s; {job['result']['flagged_rows']:,} rows flagged"
    )
    print(f"upload + parse + harmonisation:   {total:6.2f} s   ({total / plain:.1f} x read_csv)")
    print(f"worker peak resident memory:      {worker_peak:6.0f} MB")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--through-api", action="store_true", help="the whole path with a real worker")
    arguments = parser.parse_args()
    if arguments.through_api:
        through_api(arguments.rows)
        return

    frame = parsed_table(arguments.rows)
    with tempfile.TemporaryDirectory() as directory:
        csv_path = Path(directory) / "table.csv"
        frame.to_csv(csv_path, index=False)
        started = time.perf_counter()
        pd.read_csv(csv_path)
        read_csv_seconds = time.perf_counter() - started
        csv_mb = csv_path.stat().st_size / 1e6

    targets, rule_list = schema_and_rules()
    memory_before = peak_rss_mb()
    started = time.perf_counter()
    table, outcomes = rules.harmonise(frame, targets, rule_list)
    harmonise_seconds = time.perf_counter() - started
    content = rules.table_to_parquet(table)
    sha256 = hashlib.sha256(content).hexdigest()
    total_seconds = time.perf_counter() - started

    flagged = sum(outcome.stats["flagged"] for outcome in outcomes.values())
    print(f"rows: {len(table):,}; source columns: {len(frame.columns)}; target variables: {len(targets)}")
    print(f"flagged values: {flagged:,}; harmonised table {len(content) / 1e6:.1f} MB, sha256 {sha256[:16]}...")
    print(f"plain pandas.read_csv of the same data ({csv_mb:.0f} MB CSV): {read_csv_seconds:.2f} s")
    print(f"harmonise (rules, flags): {harmonise_seconds:.2f} s")
    print(f"harmonise + Parquet + SHA-256: {total_seconds:.2f} s ({total_seconds / read_csv_seconds:.2f} x read_csv)")
    print(f"peak resident memory: {peak_rss_mb():.0f} MB (before harmonising: {memory_before:.0f} MB)")


if __name__ == "__main__":
    main()
