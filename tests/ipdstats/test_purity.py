"""The engine is pure: importing it (and running an analysis) loads no Django, DRF, Celery or app code."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("django", "rest_framework", "celery", "apps", "ipdreview")

PROBE = """
import json, sys
from pathlib import Path
import ipdstats, ipdstats.engine, ipdstats.twostage, ipdstats.effects, ipdstats.pooling, ipdstats.__main__
from ipdstats.engine import run_spec
spec = {"data": "cont_a.csv.gz", "outcome": "continuous",
        "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"}, "measure": "MD"}
run_spec(spec, Path(sys.argv[1]))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_and_running_the_engine_loads_no_web_framework():
    data_dir = ROOT / "tests" / "data" / "reference" / "data"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(run.stdout))
    assert "ipdstats" in loaded
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)


STARTUP_PROBE = """
import json, sys
from ipdstats.__main__ import main
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["run", sys.argv[1]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_a_command_line_glmm_run_imports_no_scipy(tmp_path):
    """Importing scipy.stats took most of a small run's time. A one-stage logistic model needs only the normal
    distribution (Python's own) and the logistic function (numpy); the t and chi-square functions of
    scipy.special, and scipy.optimize, are imported when a two-stage analysis first needs them."""
    data = ROOT / "tests" / "data" / "reference" / "extra" / "data" / "bin_sparse.csv.gz"
    spec = {
        "data": str(data),
        "outcome": "binary",
        "measure": "OR",
        "approach": "one-stage",
        "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    run = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, str(tmp_path / "spec.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    probe = json.loads(run.stdout)
    assert probe["code"] == 0
    scipy = {name for name in probe["modules"] if name == "scipy" or name.startswith("scipy.")}
    assert scipy == set()
