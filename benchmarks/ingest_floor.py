"""The least an ingest can cost on this machine: the steps no design of upload, parse and harmonisation avoids.

    .venv/bin/python benchmarks/ingest_floor.py             # the 1,000,000-row file of benchmarks/ingest.py

Each step is timed alone, in this process, warm, best of three, on the file benchmarks/ingest.py writes:
receiving the multipart upload through Django's parser with its SHA-256, reading the CSV into Arrow as text,
writing the typed table to Parquet and reading it back, and writing a harmonised table of the same shape as the
benchmark's (41 columns) to Parquet, each write with the fastest settings (no compression, no dictionary, no
statistics). It prints their sum beside plain pandas.read_csv: the ratio the benchmark's total cannot go below,
before any typing, summary, rule, flag, database write or job hand-over is done.
"""

import io
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipdreview.settings.base")

import django  # noqa: E402

django.setup()

from django.http.multipartparser import MultiPartParser  # noqa: E402

from apps.datasets.uploads import HashingUploadHandler  # noqa: E402
from benchmarks.ingest import OUT, write_csv  # noqa: E402

FASTEST = {"compression": "none", "use_dictionary": False, "write_statistics": False}


CPU_SECONDS: dict[str, float] = {}


def best_of_three(step, name: str = "") -> float:
    """The step's best time of three; its best processor time (all threads) is kept in CPU_SECONDS[name]."""
    times, processor = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - started)
        processor.append(time.process_time() - cpu)
    if name:
        CPU_SECONDS[name] = min(processor)
    return min(times)


def receive(body: bytes, boundary: str) -> None:
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={boundary}", "CONTENT_LENGTH": str(len(body))}
    _, files = MultiPartParser(meta, io.BytesIO(body), [HashingUploadHandler()]).parse()
    files["file"].close()


def multipart_body(path: Path, boundary: str) -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n\r\n'
    return head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()


def typed(text: pa.Table) -> pa.Table:
    """The benchmark file's types, cast without any checks (the least typing can be)."""
    types = {"age": pa.int64(), "centre": pa.int64(), "event": pa.int64(), "time": pa.float64()}
    types |= {f"lab{index}": pa.float64() for index in range(10)}
    return pa.table({name: pc.cast(text[name], types.get(name, pa.string())) for name in text.column_names})


def harmonised_shape(table: pa.Table) -> pa.Table:
    """20 target columns and 20 flag columns, mostly empty, plus the source row: the harmonised table's shape."""
    columns = {"source_row": pa.array(range(table.num_rows), pa.int64())}
    for name in table.column_names:
        columns[name.upper()] = table[name]
        columns[name.upper() + "__flag"] = pa.nulls(table.num_rows, pa.large_string())
    return pa.table(columns)


def measure(path: Path) -> tuple[float, dict[str, float]]:
    """(plain pandas.read_csv seconds, the floor's steps in seconds) for the CSV at `path`."""
    plain = best_of_three(lambda: pd.read_csv(path))
    CPU_SECONDS.clear()
    body = multipart_body(path, "floor-boundary")
    as_text = pa_csv.ConvertOptions(column_types=dict.fromkeys(path.open().readline().strip().split(","), pa.string()))
    table = typed(pa_csv.read_csv(path, convert_options=as_text))
    harmonised = harmonised_shape(table)
    with tempfile.TemporaryDirectory(dir=OUT) as scratch:
        parsed_path, harmonised_path = Path(scratch) / "parsed.parquet", Path(scratch) / "harmonised.parquet"
        pq.write_table(table, parsed_path, **FASTEST)
        named = {
            "receive the upload (multipart, SHA-256, to disk)": lambda: receive(body, "floor-boundary"),
            "read the CSV as text (Arrow, all cores)": lambda: pa_csv.read_csv(path, convert_options=as_text),
            "write the typed table (Parquet, fastest)": lambda: pq.write_table(table, parsed_path, **FASTEST),
            "read it back for harmonising": lambda: pq.read_table(parsed_path, memory_map=True),
            "write the harmonised table (Parquet, fastest)": lambda: pq.write_table(
                harmonised, harmonised_path, **FASTEST
            ),
        }
        steps = {name: best_of_three(step, name) for name, step in named.items()}
    return plain, steps


def main() -> None:
    path = OUT / "ingest-1000000.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        write_csv(path, 1_000_000)
    plain, steps = measure(path)
    print(f"plain pandas.read_csv: {plain:.2f} s")
    for name, seconds in steps.items():
        print(f"{name:<50} {seconds:5.2f} s")
    floor = sum(steps.values())
    print(f"{'sum: the floor of upload + parse + harmonisation':<50} {floor:5.2f} s  ({floor / plain:.1f} x read_csv)")
    print(f"{'processor time of those steps (all threads)':<50} {sum(CPU_SECONDS.values()):5.2f} s")


if __name__ == "__main__":
    main()
