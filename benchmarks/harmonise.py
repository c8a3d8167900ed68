"""Harmonisation benchmark: a 1,000,000-row, 20-column parsed table mapped to a 20-variable schema.

    .venv/bin/python benchmarks/harmonise.py               # 1,000,000 rows
    .venv/bin/python benchmarks/harmonise.py --rows 200000

The table has the columns and types that benchmarks/ingest.py uploads and the parse job stores (text ids,
integers, decimals, dates, codes). Every rule category is used: direct, recode, treatment arms, unit
conversion, linear scale and expression. The script times what the apply job does after reading the parsed
Parquet (apply the rules, flag, write the Parquet table, hash it) and prints it beside a plain pandas.read_csv
of the same data as CSV, with the process's peak resident memory. It needs no database: the job's database
work is a few rows. The schema and rules are benchmarks/ingest.py's, which runs the whole path (upload, parse,
harmonisation) through the API with a real worker.
"""

import argparse
import hashlib
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.datasets.tables import write_parquet  # noqa: E402
from apps.harmonisation import rules  # noqa: E402
from benchmarks.ingest import schema_and_rules  # noqa: E402


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    arguments = parser.parse_args()

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
    with tempfile.TemporaryDirectory() as directory:
        parquet_path = Path(directory) / "harmonised.parquet"
        write_parquet(rules.table_to_arrow(table), parquet_path)
        content = parquet_path.read_bytes()
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
