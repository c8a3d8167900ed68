"""Text covariates, coded as R codes a factor: levels sorted, the first the reference, one 0/1 indicator per other
level named column + level; the results equal those of the same indicators given as numeric columns."""

import numpy as np
import pandas as pd
import pytest

from ipdstats.data import load
from ipdstats.engine import run_spec
from ipdstats.errors import AnalysisError
from ipdstats.spec import parse_spec

COLUMNS = {
    "MD": ("continuous", {"trial": "trial", "treatment": "treat", "outcome": "y"}),
    "OR": ("binary", {"trial": "trial", "treatment": "treat", "outcome": "yb"}),
    "HR": ("survival", {"trial": "trial", "treatment": "treat", "time": "time", "event": "event"}),
}
# Trial B has no "north", trial D no "east" (the reference): the indicators are constant, or collinear, there.
LEVELS_BY_TRIAL = {"A": ["east", "north", "south"], "B": ["east", "south"], "C": ["north", "south", "east"],
                   "D": ["north", "south"]}  # fmt: skip


def region_rows(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for trial, levels in LEVELS_BY_TRIAL.items():
        n = 120
        treat = rng.integers(0, 2, n)
        region = rng.choice(levels, n)
        shift = pd.Series(region).map({"east": 0.0, "north": 0.5, "south": -0.4}).to_numpy()
        sex = rng.choice(["F", "M"], n)
        frames.append(
            pd.DataFrame(
                {
                    "trial": trial,
                    "treat": treat,
                    "region": region,
                    "sex": sex,
                    "y": 1 + 0.5 * treat + shift + 0.7 * treat * (sex == "M") + rng.normal(0, 1, n),
                    "yb": rng.binomial(1, 1 / (1 + np.exp(-(-0.3 + 0.6 * treat + shift)))),
                    "time": np.round(rng.exponential(1 / np.exp(-2 + 0.4 * treat + shift)), 2) + 0.01,
                    "event": rng.binomial(1, 0.8, n),
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True)
    rows["regionnorth"] = (rows["region"] == "north").astype(float)
    rows["regionsouth"] = (rows["region"] == "south").astype(float)
    rows["male"] = (rows["sex"] == "M").astype(float)
    return rows


def write(tmp_path, rows: pd.DataFrame) -> None:
    rows.to_csv(tmp_path / "rows.csv", index=False)


def spec(measure: str, approach: str = "two-stage", **changes) -> dict:
    outcome, columns = COLUMNS[measure]
    extra = {"quadrature": 5} if measure == "OR" and approach == "one-stage" else {}
    base = {"data": "rows.csv", "outcome": outcome, "columns": columns, "measure": measure, "approach": approach}
    return base | extra | changes


def prepared(tmp_path, **changes):
    return load(parse_spec(spec("MD") | changes, tmp_path))


def test_levels_sorted_first_is_reference_indicators_named_as_in_r(tmp_path):
    rows = region_rows()
    write(tmp_path, rows)
    data = prepared(tmp_path, adjust=["region"])
    assert data.factor_levels == {"region": ["east", "north", "south"]}
    assert data.model_columns(["region"]) == ["regionnorth", "regionsouth"]
    assert list(data.covariates) == ["regionnorth", "regionsouth"]
    assert data.covariates["regionnorth"].tolist() == rows["regionnorth"].tolist()
    assert data.covariates["regionsouth"].tolist() == rows["regionsouth"].tolist()
    assert data.label("regionnorth") == "region = north"


def test_levels_sort_as_plain_strings_upper_case_first(tmp_path):
    rows = region_rows()
    rows["region"] = rows["region"].map({"east": "b", "north": "B", "south": "a"})
    write(tmp_path, rows)
    data = prepared(tmp_path, adjust=["region"])
    assert data.factor_levels["region"] == ["B", "a", "b"]  # C locale: capitals before small letters
    assert data.model_columns(["region"]) == ["regiona", "regionb"]


def test_numeric_zero_one_column_stays_numeric(tmp_path):
    write(tmp_path, region_rows())
    data = prepared(tmp_path, adjust=["male", "regionnorth"])
    assert data.factor_levels == {}
    assert data.model_columns(["male", "regionnorth"]) == ["male", "regionnorth"]


def test_rows_without_a_level_are_left_out_and_counted(tmp_path):
    rows = region_rows()
    rows.loc[[3, 200], "region"] = None
    write(tmp_path, rows)
    data = prepared(tmp_path, adjust=["region"])
    assert data.rows_dropped == 2
    assert data.n_rows == len(rows) - 2


def test_text_with_a_single_level_is_refused(tmp_path):
    rows = region_rows()
    rows["region"] = "east"
    write(tmp_path, rows)
    with pytest.raises(AnalysisError, match="'region' holds text with a single value \\('east'\\)"):
        prepared(tmp_path, adjust=["region"])


def assert_same_fit(coded: dict, by_hand: dict, rel: float = 1e-9) -> None:
    assert "error" not in coded, coded
    assert coded["pooled"]["estimate"] == pytest.approx(by_hand["pooled"]["estimate"], rel=rel)
    assert coded["pooled"]["se"] == pytest.approx(by_hand["pooled"]["se"], rel=rel)
    if coded["per_trial"]:
        estimates = [row["estimate"] for row in coded["per_trial"]]
        assert estimates == pytest.approx([row["estimate"] for row in by_hand["per_trial"]], rel=1e-9)


@pytest.mark.parametrize("measure", ["MD", "OR", "HR"])
def test_two_stage_with_a_level_missing_in_a_trial_equals_the_numeric_indicators(tmp_path, measure):
    write(tmp_path, region_rows())
    coded = run_spec(spec(measure, adjust=["region"]), tmp_path)
    by_hand = run_spec(spec(measure, adjust=["regionnorth", "regionsouth"]), tmp_path)
    assert_same_fit(coded, by_hand)
    assert not any(row["excluded"] for row in coded["per_trial"])
    warnings = " ".join(coded["warnings"])
    assert "In trial B the covariate 'region = north' is constant" in warnings
    assert "In trial D the covariate 'region = south' is collinear" in warnings
    assert "reference level 'east'" in warnings
    assert coded["settings"]["adjust"] == ["region"]
    assert coded["settings"]["factor_levels"] == {"region": ["east", "north", "south"]}


@pytest.mark.parametrize("measure", ["MD", "OR", "HR"])
def test_one_stage_drops_rank_deficient_indicators_per_trial(tmp_path, measure):
    write(tmp_path, region_rows())
    coded = run_spec(spec(measure, "one-stage", adjust=["region"]), tmp_path)
    by_hand = run_spec(spec(measure, "one-stage", adjust=["regionnorth", "regionsouth"]), tmp_path)
    assert_same_fit(coded, by_hand)
    # North is absent from trial B (its indicator is 0 there: no coefficient, no warning); in trial D the two
    # indicators add up to the intercept, so the later one is dropped.
    rank = [text for text in coded["warnings"] if "rank deficient" in text]
    assert len(rank) == 1 and "In trial D the covariate 'region = south'" in rank[0]


def test_one_stage_result_does_not_depend_on_the_level_dropped_in_a_trial(tmp_path):
    rows = region_rows()
    rows["regioneast"] = (rows["region"] == "east").astype(float)
    write(tmp_path, rows)
    kept_south = run_spec(spec("MD", "one-stage", adjust=["regionnorth", "regionsouth"]), tmp_path)
    other_basis = run_spec(spec("MD", "one-stage", adjust=["regioneast", "regionsouth"]), tmp_path)
    # The same model in another basis: equal up to the tolerance of the tau2 optimisation.
    assert_same_fit(kept_south, other_basis, rel=1e-6)


@pytest.mark.parametrize("approach", ["two-stage", "one-stage"])
def test_two_level_text_interaction_is_coded_zero_one(tmp_path, approach):
    write(tmp_path, region_rows())
    coded = run_spec(spec("MD", approach, interaction="sex", adjust=["region"]), tmp_path)
    by_hand = run_spec(spec("MD", approach, interaction="male", adjust=["regionnorth", "regionsouth"]), tmp_path)
    assert "error" not in coded, coded
    if approach == "two-stage":
        assert coded["interaction"]["pooled"]["estimate"] == pytest.approx(
            by_hand["interaction"]["pooled"]["estimate"], rel=1e-9
        )
    else:
        assert coded["interaction"]["within"] == pytest.approx(by_hand["interaction"]["within"], rel=1e-9)
    assert "The interaction column 'sex' holds text: it was coded 0 = 'F', 1 = 'M'." in coded["warnings"]


def test_text_interaction_also_adjusted_for_is_one_column(tmp_path):
    write(tmp_path, region_rows())
    data = prepared(tmp_path, interaction="sex", adjust=["sex", "region"])
    assert data.model_columns(["sex", "region"], "sex") == ["sex", "regionnorth", "regionsouth"]
    assert data.covariates["sex"].tolist() == region_rows()["male"].tolist()


def test_text_interaction_with_more_than_two_levels_is_refused(tmp_path):
    write(tmp_path, region_rows())
    with pytest.raises(AnalysisError) as raised:
        run_spec(spec("MD", interaction="region"), tmp_path)
    message = str(raised.value)
    assert "interaction column 'region'" in message
    assert "3 levels ('east', 'north', 'south')" in message
