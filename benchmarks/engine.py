"""Engine benchmark: ipdstats beside R on the same 1,000,000 participants in 100 trials.

    .venv/bin/python benchmarks/engine.py                 # every fit, and R's times when Rscript is on PATH
    .venv/bin/python benchmarks/engine.py --fits md hr    # a subset
    .venv/bin/python benchmarks/engine.py --no-r          # without R

The data (trial, treat, age, yb, yc, time, ev) are generated with a fixed seed and written to
benchmarks/out/bench.csv, the file ../shared/reference/bench_r.R reads. The file is read once; each fit then
starts from the table in memory (checks and preparation of the rows are part of the timed fit, as R's timings
start from its data frame). Shown are the first (cold) run and the median of --repeat further runs (3 by
default); the ratio to R uses the median. Peak memory is the largest traced allocation during one more,
untimed run of the fit (tracemalloc), beside the resident size of the whole process at the end.
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ipdstats.twostage  # noqa: E402, F401  (imported before timing, as R loads its packages first)
from ipdstats.data import prepare, read_table  # noqa: E402
from ipdstats.engine import analyse  # noqa: E402
from ipdstats.spec import parse_spec  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
BCG = ROOT / "tests" / "data" / "reference" / "data" / "bcg.csv.gz"
SEED = 20240611
PARTICIPANTS = 1_000_000
TRIALS = 100

BINARY = {"outcome": "binary", "columns": {"trial": "trial", "treatment": "treat", "outcome": "yb"}, "measure": "OR"}
CONTINUOUS = {"outcome": "continuous", "columns": {"trial": "trial", "treatment": "treat", "outcome": "yc"}}
SURVIVAL = {
    "outcome": "survival",
    "columns": {"trial": "trial", "treatment": "treat", "time": "time", "event": "ev"},
}
BCG_SPEC = {"outcome": "binary", "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"}, "measure": "OR"}

# name: (data set, spec, R's fit name in bench_r.R or None, target as a fraction of R or in seconds)
FITS = {
    "or_2x2": ("bench", BINARY | {"approach": "two-stage", "tau2": "REML"}, "or_2x2", ("ratio", 0.5)),
    "or_adjusted": ("bench", BINARY | {"approach": "two-stage", "adjust": ["age"]}, "or_adjusted", ("ratio", 0.5)),
    "md": ("bench", CONTINUOUS | {"approach": "two-stage"}, "md", ("ratio", 0.5)),
    "hr": ("bench", SURVIVAL | {"approach": "two-stage"}, "hr", ("ratio", 0.5)),
    "lmm": ("bench", CONTINUOUS | {"approach": "one-stage"}, "lmm", ("ratio", 1 / 20)),
    "cox": ("bench", SURVIVAL | {"approach": "one-stage"}, "cox", ("ratio", 1.0)),
    "glmm_bcg_laplace": ("bcg", BCG_SPEC | {"approach": "one-stage", "quadrature": 1}, None, ("seconds", 4.0)),
    "glmm_bcg_agq9": ("bcg", BCG_SPEC | {"approach": "one-stage", "quadrature": 9}, None, ("seconds", 4.0)),
    "glmm_adjusted": (
        "bench",
        BINARY | {"approach": "one-stage", "adjust": ["age"], "quadrature": 1},
        "glmm_adjusted",
        ("seconds", 60.0),
    ),
}


def generate(path: Path) -> None:
    """1,000,000 participants in 100 trials of different sizes, with trial-level heterogeneity."""
    rng = np.random.default_rng(SEED)
    sizes = rng.multinomial(PARTICIPANTS - 2000 * TRIALS, np.full(TRIALS, 1 / TRIALS)) + 2000
    trial = np.repeat(np.arange(TRIALS), sizes)
    n = PARTICIPANTS
    treat = rng.integers(0, 2, n)
    age = np.round(rng.normal(55, 10, n))
    baseline = rng.normal(0, 0.5, TRIALS)[trial]
    effect = rng.normal(-0.3, 0.15, TRIALS)[trial]
    linear = baseline + effect * treat + 0.02 * (age - 55)
    yb = (rng.random(n) < 1 / (1 + np.exp(-(linear - 1.0)))).astype(int)
    yc = np.round(20 + 4 * baseline + 3 * effect * treat + 0.1 * (age - 55) + rng.normal(0, 5, n), 3)
    event_time = rng.exponential(1 / (0.1 * np.exp(linear)))
    censor_time = rng.uniform(2, 15, n)
    time_observed = np.maximum(np.round(np.minimum(event_time, censor_time), 3), 0.001)
    ev = (event_time <= censor_time).astype(int)
    frame = pd.DataFrame(
        {
            "trial": pd.Series([f"T{i:03d}" for i in range(TRIALS)])[trial].to_numpy(),
            "treat": treat,
            "age": age.astype(int),
            "yb": yb,
            "yc": yc,
            "time": time_observed,
            "ev": ev,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def load_tables(needed: set[str], csv_path: Path) -> dict:
    tables = {}
    if "bench" in needed:
        tables["bench"] = read_table(csv_path, ["trial", "treat", "age", "yb", "yc", "time", "ev"], "trial")
    if "bcg" in needed:
        tables["bcg"] = read_table(BCG, ["trial", "treat", "y"], "trial")
    return tables


def fit_once(table, raw_spec: dict, data_path: Path) -> dict:
    spec = parse_spec(raw_spec | {"data": str(data_path)}, ROOT)
    return analyse(spec, prepare(table, spec))


def measure(table, raw_spec, data_path, memory: bool, repeat: int) -> tuple[float, float, float | None, dict]:
    """Wall time of the first (cold) run, median of `repeat` further runs, and the traced peak of one more."""
    seconds = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        result = fit_once(table, raw_spec, data_path)
        seconds.append(time.perf_counter() - started)
    peak = None
    if memory:
        tracemalloc.start()
        fit_once(table, raw_spec, data_path)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds[0], float(np.median(seconds[1:])), peak, result


def r_times(r_script: Path, csv_path: Path, names: list[str]) -> dict[str, float]:
    if not names:
        return {}
    run = subprocess.run(["Rscript", str(r_script), str(csv_path), *names], capture_output=True, text=True, check=False)
    times = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            times[row["fit"]] = row["seconds"]
    if run.returncode != 0:
        print(f"R stopped with status {run.returncode}: {run.stderr.strip()[-400:]}")
    return times


def verdict(seconds: float, r_seconds: float | None, target) -> str:
    kind, value = target
    if kind == "seconds":
        return f"target <= {value:g} s: {'met' if seconds <= value else 'MISSED'}"
    if r_seconds is None:
        return f"target <= {value:g} x R (R not run)"
    return f"target <= {value:g} x R: {'met' if seconds <= value * r_seconds else 'MISSED'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fits", nargs="+", choices=list(FITS), default=list(FITS))
    parser.add_argument("--r-script", type=Path, default=ROOT.parent / "shared" / "reference" / "bench_r.R")
    parser.add_argument("--no-r", action="store_true", help="do not run R even when Rscript is on PATH")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the first; their median is shown")
    parser.add_argument("--no-memory", action="store_true", help="skip the second, traced run of each fit")
    parser.add_argument("--regenerate", action="store_true", help="write the CSV again even if it exists")
    parser.add_argument(
        "--r-skip", nargs="*", default=["glmm_adjusted"], help="R fits not to run (glmer did not finish in 40 min)"
    )
    args = parser.parse_args()

    csv_path = OUT / "bench.csv"
    if args.regenerate or not csv_path.exists():
        started = time.perf_counter()
        generate(csv_path)
        print(f"wrote {csv_path} in {time.perf_counter() - started:.1f} s")
    try:
        import ipdstats.onestage  # noqa: F401
    except ImportError:
        pass
    started = time.perf_counter()
    tables = load_tables({FITS[name][0] for name in args.fits}, csv_path)
    print(f"read the data once in {time.perf_counter() - started:.2f} s")

    rows = []
    for name in args.fits:
        source, raw_spec, _, _ = FITS[name]
        data_path = csv_path if source == "bench" else BCG
        first, seconds, peak, result = measure(
            tables[source], raw_spec, data_path, not args.no_memory, max(1, args.repeat)
        )
        if "error" in result:
            print(f"{name}: failed: {result['error']}")
            continue
        pooled = result.get("pooled") or {}
        print(
            f"{name}: {seconds:.3f} s (first run {first:.3f} s), peak {peak or float('nan'):.0f} MiB, "
            f"estimate {pooled.get('estimate')}"
        )
        rows.append((name, first, seconds, peak))

    use_r = not args.no_r and shutil.which("Rscript") and args.r_script.exists()
    wanted_r = [FITS[name][2] for name, *_ in rows if FITS[name][2] and FITS[name][2] not in args.r_skip]
    r = r_times(args.r_script, csv_path, wanted_r) if use_r else {}

    print()
    print(f"{'fit':<18} {'first s':>8} {'median s':>9} {'peak MiB':>9} {'R s':>8} {'ratio':>7}  target")
    for name, first, seconds, peak in rows:
        r_seconds = r.get(FITS[name][2] or "")
        ratio = f"{seconds / r_seconds:7.3f}" if r_seconds else f"{'-':>7}"
        r_text = f"{r_seconds:8.2f}" if r_seconds else f"{'-':>8}"
        peak_text = f"{peak:9.0f}" if peak is not None else f"{'-':>9}"
        verdict_text = verdict(seconds, r_seconds, FITS[name][3])
        print(f"{name:<18} {first:8.3f} {seconds:9.3f} {peak_text} {r_text} {ratio}  {verdict_text}")
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory: {max_rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
