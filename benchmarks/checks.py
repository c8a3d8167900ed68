"""Integrity checks benchmark: the whole catalogue on a 1,000,000-row harmonised table with 20 variables,
run by a real Celery worker.

    .venv/bin/python benchmarks/checks.py               # 1,000,000 rows
    .venv/bin/python benchmarks/checks.py --rows 200000

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL; defaults: the local services, a database named
ipdreview_bench and Redis database 13). It writes a harmonised table as the apply job leaves it (a source row
number, 20 schema variables and their flag columns) to the dataset storage under benchmarks/out/, creates the
review's schema, a trial with its published numbers and check settings, queues the check run on a queue of its
own, starts a worker on that queue, and prints the time from queueing to the stored results, the time inside
the job, the worker's peak resident memory, and each check's status. Targets: at most 60 s and 2 GB.
"""

import argparse
import hashlib
import io
import os
import shutil
import signal
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import ensure_database, peak_rss_mb  # noqa: E402

LABS = [f"LAB{index}" for index in range(10)]
SCHEMA = [
    dict(name="USUBJID", role="participant_id", type="text"),
    dict(name="TRT01P", role="treatment", type="category", allowed_values=["intervention", "control"]),
    dict(name="RANDDT", role="randomisation_date", type="date"),
    dict(name="CENTRE", role="covariate", type="category"),
    dict(name="AGE", role="covariate", type="integer", unit="year", minimum=18, maximum=100),
    dict(name="SEX", role="covariate", type="category", allowed_values=["M", "F"]),
    dict(name="SMOKER", role="covariate", type="category", allowed_values=["yes", "no", "ex"]),
    *[dict(name=name, role="covariate", type="number", minimum=0, maximum=200) for name in LABS],
    dict(name="LASTDT", role="other", type="date"),
    dict(name="AVAL", role="time", type="number", unit="day", minimum=0),
    dict(name="EVENT", role="event", type="integer", allowed_values=[0, 1]),
]


def harmonised_frame(rows: int) -> pd.DataFrame:
    """Permuted blocks of four, sequential ids and dates, a few missing and out-of-range values to find."""
    rng = np.random.default_rng(20261127)
    blocks = rng.permuted(np.tile(np.array([1, 1, 0, 0]), (rows // 4 + 1, 1)), axis=1).ravel()[:rows]
    randomised = pd.Timestamp("2015-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 2000, rows)), unit="D")
    time = np.round(rng.exponential(600, rows) + 1, 1)
    columns = {
        "source_row": np.arange(1, rows + 1),
        "USUBJID": pd.array(np.char.add("P", np.char.zfill(np.arange(1, rows + 1).astype(str), 7)), dtype="string"),
        "TRT01P": pd.array(np.where(blocks == 1, "intervention", "control"), dtype="string"),
        "RANDDT": randomised,
        "CENTRE": pd.array(rng.integers(1, 60, rows).astype(str), dtype="string"),
        "AGE": pd.array(rng.integers(18, 90, rows), dtype="Int64"),
        "SEX": pd.array(rng.choice(["M", "F"], rows), dtype="string"),
        "SMOKER": pd.array(rng.choice(["yes", "no", "ex"], rows), dtype="string"),
    }
    for name in LABS:
        values = np.round(rng.normal(50, 10, rows), 3)
        values[rng.random(rows) < 0.02] = np.nan
        columns[name] = values
    columns["LASTDT"] = randomised + pd.to_timedelta(time, unit="D")
    columns["AVAL"] = time
    columns["EVENT"] = pd.array(rng.integers(0, 2, rows), dtype="Int64")
    frame = pd.DataFrame(columns)
    frame.loc[rng.integers(0, rows, 25), "AGE"] = 130  # out of range: the ranges check names these rows
    for spec in SCHEMA:
        frame[spec["name"] + "__flag"] = pd.array([None] * rows, dtype="string")
    return frame


def prepare(env: dict, rows: int, queue: str) -> int:
    """Migrate; store the table and create the review, schema, trial and table rows; queue the run."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.base import ContentFile

    from apps.checks.models import CheckSettings
    from apps.checks.services import check_run_schedule
    from apps.datasets.models import DatasetVersion
    from apps.datasets.storage import store_once
    from apps.harmonisation.models import HarmonisedTable, Mapping, SchemaVariable
    from apps.harmonisation.services import harmonised_name
    from apps.reviews.models import Review
    from apps.trials.models import Trial

    frame = harmonised_frame(rows)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    content = buffer.getvalue()
    sha256 = hashlib.sha256(content).hexdigest()
    name = store_once(harmonised_name(sha256), ContentFile(content))
    review = Review.objects.create(title=f"Checks benchmark {uuid.uuid4().hex[:8]}")
    for position, spec in enumerate(SCHEMA):
        SchemaVariable.objects.create(review=review, position=position, **spec)
    n1 = int((frame["TRT01P"] == "intervention").sum())
    trial = Trial.objects.create(
        review=review,
        title="Benchmark trial",
        result_n_intervention=n1,
        result_n_control=rows - n1,
        # The events are random in both arms: a hazard ratio of about 1, re-derived by a Cox model on every row.
        result_measure="HR",
        result_estimate=1.0,
        result_ci_low=0.97,
        result_ci_high=1.03,
    )
    CheckSettings.objects.create(
        trial=trial,
        recruitment_start=pd.Timestamp("2015-01-01").date(),
        recruitment_end=pd.Timestamp("2020-12-31").date(),
        data_cutoff=pd.Timestamp("2035-12-31").date(),
        ids_sequential=True,
    )
    version = DatasetVersion.objects.create(
        trial=trial,
        number=1,
        sha256=sha256,
        size=len(content),
        original_name="benchmark.parquet",
        storage_name=name,
        status=DatasetVersion.Status.PARSED,
    )
    mapping = Mapping.objects.create(trial=trial, source_version=version, number=1, revision=1)
    table = HarmonisedTable.objects.create(
        mapping=mapping,
        mapping_revision=1,
        storage_name=name,
        sha256=sha256,
        code_version="benchmark",
        input_hashes={},
        n_rows=rows,
    )
    settings.CHECKS_QUEUE = queue
    return check_run_schedule(table=table).pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    storage_root = OUT / "checks-datasets"
    shutil.rmtree(storage_root, ignore_errors=True)
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview_bench")
    ensure_database(database_url)
    queue = f"checks-bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "DATASET_STORAGE_ROOT": str(storage_root),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ipdreview", "worker", "--pool=solo", f"--queues={queue}",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(4)  # let the worker connect to the broker before the table is written
        print(f"writing a {args.rows:,}-row harmonised table ...", flush=True)
        run_id = prepare(env, args.rows, queue)
        queued = time.perf_counter()
        from apps.checks.models import CheckRun

        while True:
            run = CheckRun.objects.select_related("job").get(pk=run_id)
            if run.state in (CheckRun.State.SUCCEEDED, CheckRun.State.FAILED):
                break
            time.sleep(0.1)
        total = time.perf_counter() - queued
        worker_peak = peak_rss_mb(worker.pid)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    if run.state != CheckRun.State.SUCCEEDED:
        raise SystemExit(f"the check run failed: {run.error}")
    print(f"table: {run.n_rows:,} rows x 20 schema variables (with their flag columns)")
    print(f"queued -> results stored:     {total:6.2f} s   (target <= 60 s)")
    print(f"inside the job:               {run.seconds:6.2f} s   (read, {len(run.results.all())} checks, store)")
    print(f"worker peak resident memory:  {worker_peak:6.0f} MB  (target <= 2048 MB)")
    for result in run.results.all():
        print(f"  {result.status:>14}  {result.code:<27} {result.affected_count:>8,} rows  {result.sentence[:90]}")


if __name__ == "__main__":
    main()
