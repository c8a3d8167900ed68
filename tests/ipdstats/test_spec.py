"""Spec validation: every bad spec is refused with a sentence that names the key and the allowed values."""

from pathlib import Path

import pytest

from ipdstats.errors import AnalysisError
from ipdstats.spec import parse_spec

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "reference" / "data"
BASE = {
    "data": "cont_a.csv.gz",
    "outcome": "continuous",
    "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"},
    "measure": "MD",
}


def parse(**changes):
    raw = BASE | changes
    return parse_spec({key: value for key, value in raw.items() if value is not None}, DATA_DIR)


def test_defaults_are_resolved():
    spec = parse()
    assert (spec.approach, spec.tau2, spec.ci, spec.quadrature, spec.adjust, spec.aggregate) == (
        "two-stage", "REML", "wald", 1, (), ()
    )  # fmt: skip
    assert spec.data == DATA_DIR / "cont_a.csv.gz"
    assert spec.settings()["tau2"] == "REML"


def test_measure_defaults_by_outcome():
    assert parse(measure=None).measure == "MD"


def test_data_path_is_relative_to_the_spec_folder_and_absolute_paths_are_kept():
    assert parse(data=str(DATA_DIR / "cont_a.csv.gz")).data == DATA_DIR / "cont_a.csv.gz"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "REML"}, "unknown key 'method'"),
        ({"outcome": "ordinal"}, "'outcome' is 'ordinal'; allowed values: continuous, binary, survival"),
        ({"measure": "OR"}, "'measure' is 'OR'; allowed values: MD"),
        ({"tau2": "XX"}, "'tau2' is 'XX'; allowed values: FE, DL, REML, PM, ML, HE, SJ, EB"),
        ({"ci": "profile"}, "'ci' is 'profile'; allowed values: wald, hksj"),
        ({"approach": "three-stage"}, "allowed values: two-stage, one-stage"),
        ({"quadrature": 0}, "'quadrature' must be an integer >= 1"),
        ({"quadrature": 2.5}, "'quadrature' must be an integer >= 1"),
        ({"columns": {"trial": "trial", "treatment": "treat"}}, "'columns' needs 'outcome'"),
        ({"columns": {"trial": "t", "treatment": "x", "outcome": "y", "time": "t"}}, "unknown key 'time'"),
        ({"columns": None}, "needs 'columns'"),
        ({"adjust": "age"}, None),
        ({"adjust": [1]}, "must be a column name"),
        ({"adjust": ["y"]}, "'y' is already used"),
        ({"data": None}, "needs 'data'"),
        ({"data": "missing.csv"}, "does not exist"),
        ({"data": "table.xlsx"}, "neither CSV"),
        ({"aggregate": [{"trial": "P1", "estimate": 0.1}]}, "aggregate\\[0\\] needs a finite number 'se'"),
        ({"aggregate": [{"trial": "P1", "estimate": 0.1, "se": -1}]}, "not > 0"),
        ({"aggregate": [{"trial": "P1", "estimate": 0.1, "se": 1, "n": 5}]}, "unknown key 'n'"),
        ({"aggregate": [{"trial": "P1", "estimate": 0.1, "se": 1}], "approach": "one-stage"}, "two-stage"),
    ],
)
def test_bad_specs_are_refused_with_a_clear_sentence(changes, message):
    if message is None:  # a single column name is accepted as a list of one
        assert parse(**changes).adjust == ("age",)
        return
    with pytest.raises(AnalysisError, match=message):
        parse(**changes)


def test_a_spec_must_be_an_object():
    with pytest.raises(AnalysisError, match="JSON object"):
        parse_spec(["not", "a", "spec"], DATA_DIR)
