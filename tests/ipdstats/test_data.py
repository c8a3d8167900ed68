"""Reading and checking participant rows: each kind of bad data is refused naming the column, trial and value."""

import numpy as np
import pandas as pd
import pytest

from ipdstats.data import load
from ipdstats.errors import AnalysisError
from ipdstats.spec import parse_spec

SURVIVAL_COLUMNS = {"trial": "study", "treatment": "arm", "time": "t", "event": "dead"}


def frame(**overrides) -> pd.DataFrame:
    data = pd.DataFrame(
        {
            "study": ["S2", "S2", "S2", "S2", "S10", "S10", "S10", "S10"],
            "arm": [0, 1, 0, 1, 0, 1, 0, 1],
            "y": [1.0, 2.0, 1.5, 2.5, 0.5, 1.0, 0.7, 1.9],
            "yb": [0, 1, 0, 1, 1, 0, 0, 1],
            "t": [1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 5.0, 1.5],
            "dead": [1, 0, 1, 1, 0, 1, 1, 0],
            "age": [50, 60, 55, 65, 40, 45, 70, 52],
        }
    )
    for column, values in overrides.items():
        data[column] = values
    return data


def load_frame(tmp_path, data: pd.DataFrame, name="rows.csv", **spec_changes):
    path = tmp_path / name
    if name.endswith(".parquet"):
        data.to_parquet(path, index=False)
    else:
        data.to_csv(path, index=False)
    raw = {
        "data": name,
        "outcome": "continuous",
        "columns": {"trial": "study", "treatment": "arm", "outcome": "y"},
    } | spec_changes
    return load(parse_spec(raw, tmp_path))


@pytest.mark.parametrize("name", ["rows.csv", "rows.csv.gz", "rows.parquet"])
def test_reads_csv_gzipped_csv_and_parquet(tmp_path, name):
    data = load_frame(tmp_path, frame(), name, adjust=["age"])
    assert data.trials == ["S10", "S2"]  # sorted as strings
    assert data.trial_index.tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    assert data.treat.dtype == np.float64 and data.outcome.tolist()[:2] == [1.0, 2.0]
    assert data.covariates["age"].tolist()[:2] == [50.0, 60.0]
    assert data.rows_dropped == 0


def test_numeric_trial_labels_are_text(tmp_path):
    data = load_frame(tmp_path, frame(study=[2, 2, 2, 2, 10, 10, 10, 10]))
    assert data.trials == ["10", "2"]


def test_unknown_column_is_named_with_the_available_ones(tmp_path):
    with pytest.raises(AnalysisError, match="'weight' is not in rows.csv; its columns are: study, arm, y, yb"):
        load_frame(tmp_path, frame(), adjust=["weight"])


def test_treatment_not_coded_0_1_names_value_and_trial(tmp_path):
    with pytest.raises(AnalysisError, match="treatment column 'arm' must be coded 0/1; trial S10 has the value 2"):
        load_frame(tmp_path, frame(arm=[0, 1, 0, 1, 0, 2, 0, 1]))


def test_binary_outcome_not_0_1_is_refused(tmp_path):
    with pytest.raises(AnalysisError, match="binary outcome column 'yb' must be coded 0/1; trial S2 has the value 0.5"):
        load_frame(
            tmp_path,
            frame(yb=[0, 0.5, 0, 1, 1, 0, 0, 1]),
            outcome="binary",
            columns={"trial": "study", "treatment": "arm", "outcome": "yb"},
        )


def test_event_not_0_1_is_refused(tmp_path):
    with pytest.raises(AnalysisError, match="event column 'dead' must be coded 0/1; trial S10 has the value 3"):
        load_frame(tmp_path, frame(dead=[1, 0, 1, 1, 0, 3, 1, 0]), outcome="survival", columns=SURVIVAL_COLUMNS)


@pytest.mark.parametrize("bad_time", [-1.5, -1e-9])
def test_negative_times_are_refused(tmp_path, bad_time):
    times = [1.0, 2.0, bad_time, 4.0, 2.0, 3.0, 5.0, 1.5]
    with pytest.raises(
        AnalysisError, match=f"time column 't' must hold times >= 0; trial S2 has the time {bad_time:g}"
    ):
        load_frame(tmp_path, frame(t=times), outcome="survival", columns=SURVIVAL_COLUMNS)


def test_a_time_of_zero_is_kept(tmp_path):
    times = [1.0, 2.0, 0.0, 4.0, 2.0, 3.0, 5.0, 1.5]
    prepared = load_frame(tmp_path, frame(t=times), outcome="survival", columns=SURVIVAL_COLUMNS)
    assert 0.0 in prepared.time
    assert prepared.rows_dropped == 0


def test_non_finite_values_are_refused(tmp_path):
    with pytest.raises(AnalysisError, match=r"column 'y' has a non-finite value \(inf\) in trial S10"):
        load_frame(tmp_path, frame(y=[1.0, 2.0, 1.5, 2.5, 0.5, np.inf, 0.7, 1.9]))


def test_text_in_a_numeric_column_is_refused(tmp_path):
    with pytest.raises(AnalysisError, match="column 'age' holds a value that is not a number: 'old'"):
        load_frame(tmp_path, frame(age=[50, 60, 55, "old", 40, 45, 70, 52]), adjust=["age"])


def test_missing_values_in_used_columns_are_dropped_and_counted(tmp_path):
    data = load_frame(
        tmp_path,
        frame(y=[1.0, None, 1.5, 2.5, 0.5, 1.0, 0.7, 1.9], yb=[None] * 8, study=[*["S2"] * 4, None, *["S10"] * 3]),
    )
    assert data.rows_dropped == 2  # yb is not used: its missing values do not count
    assert data.n_rows == 6


def test_a_trial_whose_rows_are_all_missing_disappears(tmp_path):
    data = load_frame(tmp_path, frame(y=[1.0, 2.0, 1.5, 2.5, None, None, None, None]))
    assert data.trials == ["S2"] and data.rows_dropped == 4


def test_no_rows_left_is_an_error(tmp_path):
    with pytest.raises(AnalysisError, match="No participant rows"):
        load_frame(tmp_path, frame(y=[None] * 8))


def test_a_data_file_rewritten_between_analyses_is_read_again(tmp_path):
    first = load_frame(tmp_path, frame())
    second = load_frame(tmp_path, frame(y=[9.0, 2.0, 1.5, 2.5, 0.5, 1.0, 0.7, 1.9]).iloc[:7])
    assert first.n_rows == 8 and second.n_rows == 7 and second.outcome[0] == 9.0
