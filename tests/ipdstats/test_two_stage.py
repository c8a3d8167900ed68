"""Two-stage analyses through the engine: result shape, exclusions, small k, the aggregate hybrid, interactions."""

import json
import math
from pathlib import Path

import pytest

from ipdstats import __version__
from ipdstats.engine import run_spec, run_spec_safely
from ipdstats.errors import AnalysisError

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "reference" / "data"
CONTINUOUS = {
    "data": "cont_a.csv.gz",
    "outcome": "continuous",
    "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"},
    "measure": "MD",
}


def write_rows(tmp_path, rows: list[tuple], header=("trial", "treat", "y")) -> str:
    path = tmp_path / "rows.csv"
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, row)) for row in rows]))
    return path.name


def binary_rows(trial, a, n1, c, n2):
    return (
        [(trial, 1, 1)] * a + [(trial, 1, 0)] * (n1 - a) + [(trial, 0, 1)] * c + [(trial, 0, 0)] * (n2 - c)
    )  # fmt: skip


def binary_spec(data, **changes):
    return {
        "data": data,
        "outcome": "binary",
        "columns": {"trial": "trial", "treatment": "treat", "outcome": "y"},
        "measure": "OR",
    } | changes


def test_result_carries_engine_settings_convergence_and_is_strict_json():
    result = run_spec(CONTINUOUS | {"tau2": "REML", "ci": "hksj"}, DATA_DIR)
    json.dumps(result, allow_nan=False)
    assert result["engine"] == {"name": "ipdstats", "version": __version__}
    assert result["settings"]["tau2"] == "REML" and result["settings"]["ci"] == "hksj"
    assert result["settings"]["participants"] == 2099
    assert result["convergence"]["tau2"]["converged"] is True
    assert {row["source"] for row in result["per_trial"]} == {"ipd"}
    assert sum(row["n"] for row in result["per_trial"]) == 2099
    assert result["pooled"]["k"] == 9 and result["interaction"] is None


# rma(c(md, 1.5, -0.3), sei = c(se, 0.8, 1.1), method = "REML", test = "knha") on cont_a's lm(y ~ treat) results
R_HYBRID = {
    "estimate": -1.95174611206145,
    "se": 0.434404845427772,
    "ci_low": -2.91966042565016,
    "p": 0.00115568500875577,
}


def test_aggregate_trials_are_pooled_beside_the_ipd_trials_and_marked():
    aggregate = [{"trial": "P1", "estimate": 1.5, "se": 0.8}, {"trial": "P2", "estimate": -0.3, "se": 1.1}]
    result = run_spec(CONTINUOUS | {"ci": "hksj", "aggregate": aggregate}, DATA_DIR)
    for key, value in R_HYBRID.items():
        assert result["pooled"][key] == pytest.approx(value, rel=1e-6)
    assert result["heterogeneity"]["tau2"] == pytest.approx(1.51457449722073, rel=1e-6)
    assert result["pooled"]["k"] == 11
    published = [row for row in result["per_trial"] if row["source"] == "aggregate"]
    assert published == [
        {
            "trial": "P1",
            "n": None,
            "estimate": 1.5,
            "se": 0.8,
            "excluded": False,
            "reason": None,
            "source": "aggregate",
        },
        {
            "trial": "P2",
            "n": None,
            "estimate": -0.3,
            "se": 1.1,
            "excluded": False,
            "reason": None,
            "source": "aggregate",
        },
    ]


def test_an_aggregate_trial_that_also_has_ipd_is_refused():
    with pytest.raises(AnalysisError, match="'C01' also has participant data"):
        run_spec(CONTINUOUS | {"aggregate": [{"trial": "C01", "estimate": 1.0, "se": 0.5}]}, DATA_DIR)


def test_excluded_trials_have_null_estimates_a_reason_and_a_warning(tmp_path):
    rows = binary_rows("A", 3, 30, 8, 30) + binary_rows("B", 0, 20, 0, 20) + binary_rows("C", 5, 40, 9, 41)
    rows += binary_rows("D", 4, 25, 0, 0) + binary_rows("E", 6, 33, 10, 35)
    result = run_spec(binary_spec(write_rows(tmp_path, rows)), tmp_path)
    by_trial = {row["trial"]: row for row in result["per_trial"]}
    assert by_trial["B"] | {"n": 40} == {
        "trial": "B", "n": 40, "estimate": None, "se": None, "excluded": True, "reason": "no events in either arm",
        "source": "ipd",
    }  # fmt: skip
    assert by_trial["D"]["reason"] == "only one arm: no control participants"
    assert result["pooled"]["k"] == 3
    assert "Trial B was excluded: no events in either arm." in result["warnings"]


def test_one_trial_pools_to_that_trial_with_null_heterogeneity_and_a_warning(tmp_path):
    result = run_spec(binary_spec(write_rows(tmp_path, binary_rows("A", 3, 30, 8, 30))), tmp_path)
    trial = result["per_trial"][0]
    assert result["pooled"]["estimate"] == pytest.approx(trial["estimate"])
    assert result["pooled"]["se"] == pytest.approx(trial["se"])
    assert all(value is None for key, value in result["heterogeneity"].items() if key != "method")
    assert result["prediction_interval"] is None
    assert any("Only one trial" in text for text in result["warnings"])


def test_two_trials_give_no_prediction_interval(tmp_path):
    rows = binary_rows("A", 3, 30, 8, 30) + binary_rows("B", 5, 40, 9, 41)
    result = run_spec(binary_spec(write_rows(tmp_path, rows), tau2="DL"), tmp_path)
    assert result["pooled"]["k"] == 2 and result["prediction_interval"] is None
    assert result["heterogeneity"]["Q_df"] == 1


def test_all_trials_excluded_is_an_error_sentence(tmp_path):
    rows = binary_rows("A", 0, 30, 0, 30) + binary_rows("B", 4, 25, 0, 0)
    result = run_spec_safely(binary_spec(write_rows(tmp_path, rows)), tmp_path)
    assert result == {
        "error": "No trial can be pooled for the treatment effect: every trial was excluded "
        "(A: no events in either arm; B: only one arm: no control participants)."
    }


def test_missing_rows_are_reported_in_the_warnings(tmp_path):
    rows = binary_rows("A", 3, 30, 8, 30) + binary_rows("B", 5, 40, 9, 41) + [("B", 1, ""), ("A", "", 0)]
    result = run_spec(binary_spec(write_rows(tmp_path, rows)), tmp_path)
    assert result["warnings"][0] == "2 rows were left out for a missing value in a column the analysis uses."


def test_interaction_block_pools_within_trial_interactions():
    result = run_spec(CONTINUOUS | {"tau2": "REML", "interaction": "age"}, DATA_DIR)
    block = result["interaction"]
    assert block["covariate"] == "age"
    assert len(block["per_trial"]) == 9
    assert block["pooled"]["estimate"] == pytest.approx(-0.00627437074883196, rel=1e-6)  # R: metafor REML
    assert block["heterogeneity"]["tau2"] == pytest.approx(0.00171769692407946, rel=1e-5)
    assert result["pooled"]["k"] == 9  # the treatment effect is pooled as well
    assert result["convergence"]["interaction"]["tau2"]["converged"] is True


def test_interaction_for_a_risk_ratio_is_refused():
    spec = binary_spec("bin_a.csv.gz", measure="RR", interaction="age")
    assert "use OR" in run_spec_safely(spec, DATA_DIR)["error"]


def test_binary_interaction_recovers_a_known_effect_modification(tmp_path):
    import numpy as np

    rng = np.random.default_rng(11)
    rows = []
    for trial in range(8):
        n = 1500
        treat = rng.integers(0, 2, n)
        age = rng.normal(60 + 3 * trial, 8, n)
        eta = -1 + 0.3 * trial / 8 - 0.5 * treat + 0.01 * (age - 60) + 0.04 * treat * (age - 60)
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
        rows += [(f"T{trial}", t, a.round(1), v) for t, a, v in zip(treat, age, y, strict=True)]
    data = write_rows(tmp_path, rows, header=("trial", "treat", "age", "y"))
    block = run_spec(binary_spec(data, tau2="REML", interaction="age"), tmp_path)["interaction"]
    low, high = block["pooled"]["ci_low"], block["pooled"]["ci_high"]
    assert low < 0.04 < high and low > 0
    assert math.isfinite(block["heterogeneity"]["tau2"])
