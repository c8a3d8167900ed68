"""The command line as the contract gives it: one result or a list, errors in place, exit 1, no traceback."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "tests" / "data" / "reference" / "data"
GOOD = {
    "data": "cont_a.csv.gz",
    "outcome": "continuous",
    "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"},
    "measure": "MD",
    "tau2": "DL",
}


def run_cli(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "ipdstats", *map(str, arguments)], cwd=ROOT, capture_output=True, text=True
    )


@pytest.fixture
def spec_dir(tmp_path):
    shutil.copy(DATA_DIR / "cont_a.csv.gz", tmp_path / "cont_a.csv.gz")
    return tmp_path


def write(spec_dir, content) -> Path:
    path = spec_dir / "spec.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_one_spec_prints_one_result_relative_to_the_spec_folder(spec_dir):
    run = run_cli("run", write(spec_dir, GOOD))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["pooled"]["k"] == 9 and result["settings"]["tau2"] == "DL"


def test_a_list_prints_a_list_with_errors_in_place_and_exit_1(spec_dir):
    specs = [GOOD, GOOD | {"colour": "red"}, GOOD | {"adjust": ["bmi"]}, GOOD | {"tau2": "REML"}]
    run = run_cli("run", write(spec_dir, specs))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    results = json.loads(run.stdout)
    assert len(results) == 4
    assert results[0]["pooled"]["k"] == 9 and results[3]["settings"]["tau2"] == "REML"
    assert results[1] == {"error": results[1]["error"]} and "unknown key 'colour'" in results[1]["error"]
    assert "'bmi' is not in cont_a.csv.gz" in results[2]["error"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "is not valid JSON"), ("42", "A spec must be a JSON object")],
)
def test_bad_spec_files_give_an_error_object(spec_dir, content, message):
    run = run_cli("run", write(spec_dir, content))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert message in json.loads(run.stdout)["error"]


def test_a_missing_spec_file_gives_an_error_object(tmp_path):
    run = run_cli("run", tmp_path / "absent.json")
    assert run.returncode == 1 and "cannot be read" in json.loads(run.stdout)["error"]


def test_bad_data_gives_a_sentence_naming_trial_and_value(spec_dir):
    (spec_dir / "rows.csv").write_text("trial,treat,y\nA,0,1.0\nA,1,2.0\nB,0,1.5\nB,2,2.5\n")
    run = run_cli("run", write(spec_dir, GOOD | {"data": "rows.csv"}))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert json.loads(run.stdout) == {
        "error": "The treatment column 'treat' must be coded 0/1; trial B has the value 2."
    }


def test_help_explains_the_spec():
    run = run_cli("--help")
    assert run.returncode == 0
    for word in ("python -m ipdstats run SPEC.json", "outcome", "measure", "tau2", "hksj", "aggregate"):
        assert word in run.stdout


def test_every_kind_of_bad_input_gets_its_sentence_through_the_command_line(spec_dir):
    (spec_dir / "rows.csv").write_text(
        "trial,treat,y,yb,time,dead,age\n"
        "A,0,1.0,0,1.5,1,50\nA,1,2.0,1,2.5,0,61\nA,0,1.2,0,3.0,1,55\nA,1,2.2,1,4.0,1,70\n"
        "B,0,1.5,1,2.0,0,40\nB,1,2.5,2,-1.0,1,45\nB,0,0.9,0,5.0,3,inf\nB,1,1.9,1,1.0,0,52\n"
    )
    continuous = GOOD | {"data": "rows.csv"}
    binary = continuous | {"outcome": "binary", "measure": "OR", "columns": GOOD["columns"] | {"outcome": "yb"}}
    survival = continuous | {
        "outcome": "survival",
        "measure": "HR",
        "columns": {"trial": "trial", "treatment": "treat", "time": "time", "event": "dead"},
    }
    specs = [
        continuous | {"adjust": ["weight"]},
        binary,
        survival,
        survival | {"columns": survival["columns"] | {"event": "treat"}},
        survival | {"columns": survival["columns"] | {"time": "age"}},
        continuous | {"adjust": ["age"]},
        continuous | {"tau2": "REML", "shrinkage": 0.5},
    ]
    run = run_cli("run", write(spec_dir, specs))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    errors = [result["error"] for result in json.loads(run.stdout)]
    assert errors == [
        "The column 'weight' is not in rows.csv; its columns are: trial, treat, y, yb, time, dead, age.",
        "The binary outcome column 'yb' must be coded 0/1; trial B has the value 2.",
        "The event column 'dead' must be coded 0/1; trial B has the value 3.",
        "The time column 'time' must hold times >= 0; trial B has the time -1.",
        "The column 'age' has a non-finite value (inf) in trial B.",
        "The column 'age' has a non-finite value (inf) in trial B.",
        "The spec has an unknown key 'shrinkage'; the known keys are data, outcome, columns, measure, approach, "
        "tau2, ci, adjust, interaction, quadrature, aggregate.",
    ]
