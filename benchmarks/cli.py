"""Command-line start-up: `python -m ipdstats run` on two small sparse one-stage GLMM cases, beside R's lme4
fitting the same model from the same file in the same run (each as a whole command, as a user runs them).

    .venv/bin/python benchmarks/cli.py            # five runs of each, the median shown
    .venv/bin/python benchmarks/cli.py --repeat 9

Needs Rscript with lme4 for the comparison (apt-get install r-base-core r-cran-lme4); without it only the engine's
times are shown. Also shown: how much of the engine's time is importing (python -X importtime).
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "reference" / "extra" / "data"
CASES = {
    "bin_sparse (500 participants, 9 trials, two without events)": "bin_sparse.csv.gz",
    "bin_edge (1,028 participants, few events)": "bin_edge.csv.gz",
}
R_SCRIPT = """
suppressPackageStartupMessages(library(lme4))
d <- read.csv(commandArgs(TRUE)[1]); d$trial <- factor(d$trial); d$tc <- d$treat - 0.5
f <- glmer(y ~ 0 + trial + tc + (0 + tc | trial), d, binomial)
cat(fixef(f)[["tc"]], "\\n")
"""


def seconds(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_seconds(spec_file: Path) -> float:
    """Seconds spent importing modules in one command-line run (the top-level imports' cumulative times)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ipdstats", "run", str(spec_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in run.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            total += int(parts[1])
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rscript = shutil.which("Rscript")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "fit.R").write_text(R_SCRIPT)
        for label, name in CASES.items():
            spec = {
                "data": str(DATA / name),
                "outcome": "binary",
                "measure": "OR",
                "approach": "one-stage",
                "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"},
            }
            spec_file = folder / f"{name}.json"
            spec_file.write_text(json.dumps(spec))
            engine = seconds([sys.executable, "-m", "ipdstats", "run", str(spec_file)], args.repeat)
            imports = import_seconds(spec_file)
            line = f"{label:60s} ipdstats {engine:5.2f} s (imports {imports:4.2f} s)"
            if rscript:
                r = seconds([rscript, str(folder / "fit.R"), str(DATA / name)], args.repeat)
                line += f"   lme4 {r:5.2f} s   ratio 1/{r / engine:.1f}  (target 1/20 or less)"
            print(line)


if __name__ == "__main__":
    main()
