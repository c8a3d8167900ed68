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
