"""The reference checker itself: what it calls a difference from R, so that a lenient checker cannot pass an engine
that answers more than R did."""

import importlib.util
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference"
SPEC = {"measure": "OR", "approach": "two-stage"}


def _load_checker():
    spec = importlib.util.spec_from_file_location("reference_check", REFERENCE / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _load_checker()


def problems_of(expect, actual) -> list[str]:
    problems = []
    CHECK.compare(expect, actual, SPEC, [], problems)
    return problems


def test_the_same_answer_has_no_problem():
    expect = {"pooled": {"estimate": -0.5, "se": 0.1}, "trials": [{"trial": "A", "estimate": -0.4, "se": None}]}
    assert problems_of(expect, {**expect, "engine_version": "1"}) == []


def test_a_value_where_r_gave_none_is_a_difference():
    expect = {"trials": [{"trial": "A", "estimate": None}]}
    assert problems_of(expect, {"trials": [{"trial": "A", "estimate": -0.4}]}) == [
        "trials.A.estimate: R gave no value, got -0.4"
    ]


def test_a_trial_r_does_not_list_is_a_difference():
    expect = {"trials": [{"trial": "A", "estimate": -0.4}]}
    actual = {"trials": [{"trial": "A", "estimate": -0.4}, {"trial": "B", "estimate": 0.1}]}
    assert problems_of(expect, actual) == ["trials[B]: not in R's result"]


def test_a_trial_the_engine_leaves_out_is_a_difference():
    expect = {"trials": [{"trial": "A", "estimate": -0.4}, {"trial": "B", "estimate": 0.1}]}
    assert problems_of(expect, {"trials": [{"trial": "A", "estimate": -0.4}]}) == ["trials[B]: missing"]


@pytest.mark.parametrize(
    ("actual", "problem"),
    [
        (-0.51, "estimate: expected -0.5, got -0.51"),
        (None, "estimate: expected -0.5, got None"),
        (float("nan"), "estimate: expected -0.5, got nan"),
        (True, "estimate: expected -0.5, got True"),
    ],
)
def test_a_number_outside_its_tolerance_or_not_a_number_is_a_difference(actual, problem):
    assert problems_of({"estimate": -0.5}, {"estimate": actual}) == [problem]


def test_a_number_within_its_tolerance_is_the_same():
    assert problems_of({"estimate": -0.5}, {"estimate": -0.5 * (1 + 1e-6)}) == []
