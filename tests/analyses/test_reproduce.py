"""Anyone can rebuild a run's input from the tables it names and get its result from the command line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analyses.helpers import assert_same, rebuild
from tests.analyses.test_runs import define, run_now

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "options",
    [
        {"adjust": ["AGE"], "interaction": "SEX"},
        {"approach": "one-stage", "quadrature": 3},
        {"tau2": "DL", "ci": "hksj"},
    ],
    ids=["two-stage adjusted with interaction", "one-stage quadrature", "DL with HKSJ"],
)
def test_the_command_line_gives_the_stored_result_from_the_rebuilt_input(
    review, trials, analyst, dataset_root, tmp_path, options
):
    run = run_now(define(review, analyst, **options), analyst)
    assert run.state == "succeeded", run.error
    rebuild(run, dataset_root).to_parquet(tmp_path / "input.parquet", index=False)
    (tmp_path / "spec.json").write_text(json.dumps({**run.spec, "data": "input.parquet"}))
    finished = subprocess.run(
        [sys.executable, "-m", "ipdstats", "run", str(tmp_path / "spec.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert_same(json.loads(finished.stdout), run.result, rel=1e-10)
