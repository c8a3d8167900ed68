"""The extra reference cases (simulated by tests/data/reference/make_extra_cases.R, values from R) against the
engine, with the reference checker's own tolerances.

They cover what the public cases do not: zero cells, a trial without events and one where everyone has the event,
k = 1, 2 and 3, effects so alike that the Q-profile interval is [0, 0], the HE, SJ and EB estimators, Knapp-Hartung
with every estimator, adjusted OR, MD and HR, two-stage interactions for OR and HR, aggregate trials beside the IPD
ones, tied survival times, missing values, integer and awkward trial labels, a trial with one arm only, specs that
leave tau2, ci and quadrature to their defaults, and one-stage models with adjustment, with within- and
across-trial interactions, and with 1, 2, 5, 9 and 25 quadrature nodes."""

import importlib.util
import json
from pathlib import Path

import pytest

from ipdstats.engine import run_spec

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference"
EXTRA = REFERENCE / "extra"

# (case, analysis number) -> why the engine disagrees with R: marked as a strict expected failure until it is fixed.
KNOWN_MISMATCHES: dict[tuple[str, int], str] = {}


def _load_checker():
    spec = importlib.util.spec_from_file_location("reference_check", REFERENCE / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _load_checker()


def _analyses():
    for case_file in sorted((EXTRA / "cases").glob("*.json")):
        case = json.loads(case_file.read_text())
        for number, analysis in enumerate(case["analyses"]):
            marks = []
            reason = KNOWN_MISMATCHES.get((case["case"], number))
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            label = f"{case['case']}-{number}-{CHECK.describe(analysis['spec']).replace(' ', '-')}"
            yield pytest.param(analysis, id=label, marks=marks)


def test_extra_cases_cover_every_approach_and_measure():
    specs = [param.values[0]["spec"] for param in _analyses()]
    kinds = {(spec["approach"], spec["measure"]) for spec in specs}
    assert kinds >= {
        ("two-stage", "MD"),
        ("two-stage", "OR"),
        ("two-stage", "RR"),
        ("two-stage", "RD"),
        ("two-stage", "HR"),
        ("one-stage", "MD"),
        ("one-stage", "OR"),
        ("one-stage", "HR"),
    }
    assert {spec.get("tau2") for spec in specs} >= {"FE", "DL", "REML", "PM", "ML", "HE", "SJ", "EB"}


def test_known_mismatches_name_existing_analyses():
    labels = {(json.loads(path.read_text())["case"], path) for path in (EXTRA / "cases").glob("*.json")}
    counts = {case: len(json.loads(path.read_text())["analyses"]) for case, path in labels}
    for case, number in KNOWN_MISMATCHES:
        assert number < counts.get(case, 0), (case, number)


@pytest.mark.parametrize("analysis", list(_analyses()))
def test_matches_r(analysis):
    result = run_spec(analysis["spec"], EXTRA / "data")
    problems = []
    CHECK.compare(analysis["expect"], result, analysis["spec"], [], problems)
    assert problems == []
