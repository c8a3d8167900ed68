"""A small trial that passes every check, and its schema, for the catalogue tests to spoil one thing at a time."""

import datetime

import numpy as np
import pandas as pd

from apps.checks.catalogue import TrialFacts, Variable

N_BLOCKS = 50  # permuted blocks of four: 100 participants per arm, no run longer than four


def trial_frame(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arms = np.concatenate(
        [rng.permutation(["intervention", "intervention", "control", "control"]) for _ in range(N_BLOCKS)]
    )
    n = len(arms)
    block = np.repeat(np.arange(N_BLOCKS), 4)
    randomised = pd.Timestamp("2019-01-02") + pd.to_timedelta(np.arange(n), unit="D")
    # Follow-up and events depend on the block only, so both arms have the same distribution.
    time = 300.0 + 10.0 * block
    event = (block % 5 == 0).astype("int64")
    return pd.DataFrame(
        {
            "source_row": np.arange(1, n + 1),
            "USUBJID": pd.array([f"P{i:04d}" for i in range(1, n + 1)], dtype="string"),
            "TRT01P": pd.array(arms, dtype="string"),
            # Baseline values depend on the block only: the arms are balanced exactly.
            "AGE": pd.array(40 + 5 * (block % 6), dtype="Int64"),
            "SEX": pd.array(np.where(block % 2 == 0, "M", "F"), dtype="string"),
            "RANDDT": randomised,
            "LASTDT": randomised + pd.to_timedelta(time, unit="D"),
            "AVAL": time,
            "EVENT": pd.array(event, dtype="Int64"),
            "SBP": 120.0 + (block % 7),
        }
    )


VARIABLES = [
    Variable("USUBJID", "participant_id", "text"),
    Variable("TRT01P", "treatment", "category", allowed_values=("intervention", "control")),
    Variable("AGE", "covariate", "integer", unit="year", minimum=18, maximum=100),
    Variable("SEX", "covariate", "category", allowed_values=("M", "F")),
    Variable("RANDDT", "randomisation_date", "date"),
    Variable("LASTDT", "other", "date"),
    Variable("AVAL", "time", "number", unit="day", minimum=0),
    Variable("EVENT", "event", "integer", allowed_values=(0, 1)),
    Variable("SBP", "outcome", "number", unit="mmHg", minimum=60, maximum=260),
]

FACTS = TrialFacts(
    n_intervention=100,
    n_control=100,
    recruitment_start=datetime.date(2019, 1, 1),
    recruitment_end=datetime.date(2019, 12, 31),
    data_cutoff=datetime.date(2021, 12, 31),
    ids_sequential=True,
)

# The catalogue's checks in the order they run, written out rather than read from apps.checks.catalogue.CODES,
# so that a check dropped from (or added to) the catalogue fails the tests until this list says the same.
CHECK_CODES = [
    "ids_missing",
    "ids_duplicated",
    "treatment_codes",
    "arm_sizes",
    "allocation_ratio",
    "randomisation_period",
    "randomisation_order",
    "allocation_runs",
    "baseline_balance",
    "baseline_missingness",
    "ranges",
    "dates_before_randomisation",
    "after_data_cutoff",
    "event_times",
    "follow_up",
    "outcome_missingness",
    "primary_result",
]
