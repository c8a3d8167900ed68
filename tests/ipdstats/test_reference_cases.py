"""Every reference case (values from R: metafor 3.8, lme4, glmmTMB, survival 3.5) against the engine, with the
tolerances of the reference checker itself."""

import importlib.util
import json
from pathlib import Path

import pytest

from ipdstats.engine import run_spec

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference"


def _load_checker():
    spec = importlib.util.spec_from_file_location("reference_check", REFERENCE / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _load_checker()


def _one_stage_available() -> bool:
    return importlib.util.find_spec("ipdstats.onestage") is not None


def _analyses():
    for case_file in sorted((REFERENCE / "cases").glob("*.json")):
        case = json.loads(case_file.read_text())
        for number, analysis in enumerate(case["analyses"]):
            marks = []
            if analysis["spec"].get("approach") == "one-stage" and not _one_stage_available():
                marks.append(pytest.mark.xfail(reason="one-stage models not in this build", strict=False))
            label = f"{case['case']}-{number}-{CHECK.describe(analysis['spec']).replace(' ', '-')}"
            yield pytest.param(analysis, id=label, marks=marks)


def test_reference_cases_exist():
    assert len(list(_analyses())) >= 70


@pytest.mark.parametrize("analysis", list(_analyses()))
def test_matches_r(analysis):
    result = run_spec(analysis["spec"], REFERENCE / "data")
    problems = []
    CHECK.compare(analysis["expect"], result, analysis["spec"], [], problems)
    assert problems == []
