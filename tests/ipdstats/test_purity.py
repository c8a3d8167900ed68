"""The engine's command line starts light. That the engine imports no Django, DRF, Celery or app code is an
import contract (pyproject.toml, [tool.importlinter]), checked by `lint-imports` in `make test`."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

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
