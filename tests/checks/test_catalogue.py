"""Each check on data that passes it and on data that fails it (no database: the catalogue is pure)."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from apps.checks import catalogue
from apps.checks.catalogue import FAIL, NOT_APPLICABLE, PASS, WARNING, CheckInput
from tests.checks.data import CHECK_CODES, FACTS, VARIABLES, trial_frame


def run(code: str, frame=None, variables=None, facts=None) -> catalogue.CheckOutcome:
    check = dict(catalogue.CATALOGUE)[code]
    return check(CheckInput(trial_frame() if frame is None else frame, variables or VARIABLES, facts or FACTS))


def spoiled(**changes) -> pd.DataFrame:
    frame = trial_frame()
    for column, (rows, value) in changes.items():
        frame.loc[rows, column] = value
    return frame


def test_the_clean_trial_passes_every_check_that_applies():
    outcomes = catalogue.run_catalogue(CheckInput(trial_frame(), VARIABLES, FACTS))
    assert [outcome.code for outcome in outcomes] == CHECK_CODES
    statuses = {outcome.code: outcome.status for outcome in outcomes}
    assert statuses.pop("primary_result") == NOT_APPLICABLE  # no published result in FACTS
    assert set(statuses.values()) == {PASS}, {code: status for code, status in statuses.items() if status != PASS}
    assert all(len(outcome.affected) == 0 for outcome in outcomes)


def test_missing_ids_fail_and_name_their_rows():
    outcome = run("ids_missing", spoiled(USUBJID=([3, 9], None)))
    assert outcome.status == FAIL
    assert outcome.figures["missing"] == 2
    assert outcome.affected.tolist() == [4, 10]  # source_row is 1-based
    blank = run("ids_missing", spoiled(USUBJID=([5], "  ")))
    assert blank.status == FAIL and blank.affected.tolist() == [6]


def test_duplicated_ids_fail_with_every_row_sharing_them():
    outcome = run("ids_duplicated", spoiled(USUBJID=([10, 20, 30], "P0001")))
    assert outcome.status == FAIL
    assert outcome.figures == {"rows": 200, "duplicated_rows": 4, "duplicated_ids": 1}
    assert outcome.affected.tolist() == [1, 11, 21, 31]
    assert "P0001" in outcome.sentence
    assert outcome.sentence.startswith("1 participant id occurs more than once, on 4 rows")
    assert run("ids_duplicated").status == PASS
    missing_one = run("ids_missing", spoiled(USUBJID=([5], "  ")))
    assert missing_one.sentence.startswith("1 row of 200 has no participant id")


def test_sentences_agree_with_their_counts():
    one_id = run("ids_duplicated", spoiled(USUBJID=([10], "P0001")))
    assert one_id.sentence.startswith("1 participant id occurs more than once, on 2 rows")
    two_ids = run("ids_duplicated", spoiled(USUBJID=([10, 20], "P0001"), **{}).pipe(_second_duplicate))
    assert two_ids.sentence.startswith("2 participant ids occur more than once")
    one_missing = run("ids_missing", spoiled(USUBJID=([3], None)))
    assert one_missing.sentence.startswith("1 row of 200 has no participant id")
    two_missing = run("ids_missing", spoiled(USUBJID=([3, 9], None)))
    assert two_missing.sentence.startswith("2 rows of 200 have no participant id")


def _second_duplicate(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[30, "USUBJID"] = frame.loc[40, "USUBJID"]
    return frame


def test_unexpected_and_missing_treatment_codes_fail():
    outcome = run(
        "treatment_codes",
        spoiled(TRT01P=([0, 1], "Drug B")).pipe(lambda f: f.assign(TRT01P=f.TRT01P.mask(f.index == 5))),
    )
    assert outcome.status == FAIL
    assert outcome.figures["unexpected_codes"] == ["Drug B"]
    assert outcome.figures["unexpected_rows"] == 2 and outcome.figures["missing_rows"] == 1
    assert outcome.affected.tolist() == [1, 2, 6]


def test_arm_codes_are_read_from_a_0_1_schema_or_from_the_settings():
    variables = [dataclasses.replace(v, allowed_values=(0, 1)) if v.role == "treatment" else v for v in VARIABLES]
    frame = trial_frame().assign(TRT01P=lambda f: (f.TRT01P == "intervention").astype(float))
    assert run("treatment_codes", frame, variables).status == PASS
    unknown = [dataclasses.replace(v, allowed_values=("A", "B")) if v.role == "treatment" else v for v in VARIABLES]
    assert run("treatment_codes", variables=unknown).status == NOT_APPLICABLE
    named = dataclasses.replace(FACTS, intervention_code="intervention", control_code="control")
    assert run("treatment_codes", variables=unknown, facts=named).status == PASS


def test_arm_sizes_against_the_publication():
    assert run("arm_sizes").figures["difference"] == {"intervention": 0, "control": 0}
    one_off = run("arm_sizes", facts=dataclasses.replace(FACTS, n_control=101))
    assert one_off.status == WARNING  # within 1% (at least one participant)
    far = run("arm_sizes", facts=dataclasses.replace(FACTS, n_intervention=110, n_control=90))
    assert far.status == FAIL
    assert "+10" in far.sentence or "-10" in far.sentence
    assert run("arm_sizes", facts=dataclasses.replace(FACTS, n_control=None)).status == NOT_APPLICABLE


def test_allocation_ratio_flags_a_split_independent_allocation_would_rarely_give():
    frame = trial_frame()
    frame.loc[frame.index[:70], "TRT01P"] = "intervention"  # about 135:65
    outcome = run("allocation_ratio", frame)
    assert outcome.status == FAIL
    assert outcome.figures["probability"] < 0.001
    assert "independently with probability 0.5" in outcome.sentence
    planned_two_to_one = run("allocation_ratio", frame, facts=dataclasses.replace(FACTS, allocation_ratio=2.0))
    assert planned_two_to_one.status == PASS


def test_randomisation_dates_outside_recruitment_fail():
    frame = spoiled(RANDDT=([0], pd.Timestamp("2018-12-01")))
    frame.loc[199, "RANDDT"] = pd.Timestamp("2020-02-01")
    outcome = run("randomisation_period", frame)
    assert outcome.status == FAIL
    assert (outcome.figures["before_start"], outcome.figures["after_end"]) == (1, 1)
    assert outcome.affected.tolist() == [1, 200]
    no_period = dataclasses.replace(FACTS, recruitment_start=None, recruitment_end=None)
    assert run("randomisation_period", facts=no_period).status == WARNING


def test_randomisation_dates_out_of_order_against_sequential_ids():
    frame = trial_frame()
    frame.loc[50, "RANDDT"] = pd.Timestamp("2019-01-05")  # id 51 randomised before id 4..50
    outcome = run("randomisation_order", frame)
    assert outcome.status == WARNING  # 1 of 200 rows: within the 1% tolerated as a warning
    assert outcome.affected.tolist() == [51]
    frame.loc[60:70, "RANDDT"] = pd.Timestamp("2019-01-03")
    assert run("randomisation_order", frame).status == FAIL
    not_sequential = dataclasses.replace(FACTS, ids_sequential=False)
    assert run("randomisation_order", frame, facts=not_sequential).status == NOT_APPLICABLE


def test_a_run_of_one_arm_far_longer_than_allocation_gives_fails():
    frame = trial_frame()
    frame.loc[40:59, "TRT01P"] = "control"  # 20 in a row
    outcome = run("allocation_runs", frame)
    assert outcome.status == FAIL
    assert outcome.figures["longest_control_run"] >= 20
    assert "Poisson approximation" in outcome.sentence and "independent" in outcome.sentence
    assert set(range(41, 61)) <= set(outcome.affected.tolist())


def test_run_probability_matches_simulation():
    rng = np.random.default_rng(1)
    longest = []
    for _ in range(4000):
        arms = rng.integers(0, 2, 100)
        _, lengths, run_arms = catalogue._run_lengths(arms)
        longest.append(lengths[run_arms == 1].max(initial=0))
    simulated = np.mean(np.array(longest) >= 8)
    assert catalogue.run_probability(100, 0.5, 8) == pytest.approx(simulated, abs=0.03)


def test_baseline_imbalance_over_0_5_is_a_failure():
    frame = trial_frame()
    frame.loc[frame.TRT01P == "intervention", "AGE"] += 10
    outcome = run("baseline_balance", frame)
    assert outcome.status == FAIL
    age = next(row for row in outcome.figures["covariates"] if row["variable"] == "AGE")
    # Exact: the arms share every other value, so the difference is 10 over the common SD.
    treated = frame.loc[frame.TRT01P == "intervention", "AGE"].astype(float)
    control = frame.loc[frame.TRT01P == "control", "AGE"].astype(float)
    expected = (treated.mean() - control.mean()) / math.sqrt((treated.var() + control.var()) / 2)
    assert age["standardised_difference"] == pytest.approx(expected, abs=1e-4)
    assert "not a significance test" in outcome.sentence


def test_baseline_missingness_by_arm():
    frame = trial_frame()
    treated = frame.index[frame.TRT01P == "intervention"][:20]
    frame.loc[treated, "SEX"] = None
    outcome = run("baseline_missingness", frame)
    assert outcome.status == WARNING
    sex = next(row for row in outcome.figures["covariates"] if row["variable"] == "SEX")
    assert (sex["missing_intervention"], sex["missing_control"]) == (20, 0)
    assert len(outcome.affected) == 20


def test_values_outside_the_schema_range_or_codes_fail():
    frame = spoiled(AGE=([2], 130), SEX=([4], "X"))
    outcome = run("ranges", frame)
    assert outcome.status == FAIL
    assert {row["variable"]: row["rows"] for row in outcome.figures["out_of_range"]} == {"AGE": 1, "SEX": 1}
    assert outcome.affected.tolist() == [3, 5]


def test_a_date_before_randomisation_fails():
    outcome = run("dates_before_randomisation", spoiled(LASTDT=([7], pd.Timestamp("2018-06-01"))))
    assert outcome.status == FAIL
    assert outcome.affected.tolist() == [8]


def test_follow_up_after_the_data_cutoff_fails():
    early_cutoff = dataclasses.replace(FACTS, data_cutoff=pd.Timestamp("2020-03-01").date())
    outcome = run("after_data_cutoff", facts=early_cutoff)
    assert outcome.status == FAIL
    assert outcome.figures["after_cutoff"][0]["variable"] == "LASTDT"
    assert len(outcome.affected) > 0
    no_cutoff = dataclasses.replace(FACTS, data_cutoff=None)
    assert run("after_data_cutoff", facts=no_cutoff).status == NOT_APPLICABLE


def test_non_positive_event_times_fail():
    outcome = run("event_times", spoiled(AVAL=([0, 1], 0.0)))
    assert outcome.status == FAIL
    assert outcome.affected.tolist() == [1, 2]


def test_reverse_km_median_by_hand():
    # Censored at 2, 4, 6; events at 1, 3, 5: the reverse KM steps at censoring times only.
    time = np.array([1.0, 2, 3, 4, 5, 6])
    event = np.array([1, 0, 1, 0, 1, 0])
    # At 2: 5 at risk, S = 4/5; at 4: 3 at risk, S = 4/5 * 2/3 = 0.533; at 6: 1 at risk, S = 0.
    assert catalogue.reverse_km_median(time, event) == 6.0


def test_follow_up_differing_materially_between_arms_is_flagged_by_how_much():
    frame = trial_frame()
    frame.loc[frame.TRT01P == "intervention", "AVAL"] *= 0.5
    outcome = run("follow_up", frame)
    assert outcome.status == WARNING
    # Follow-up is 300 + 10 x block days; the reverse Kaplan-Meier median (censorings as events) of the control
    # arm is 580 days, counted by hand from the blocks, and the intervention's is half that.
    assert (outcome.figures["median_intervention"], outcome.figures["median_control"]) == (290.0, 580.0)
    assert outcome.figures["relative_difference"] == pytest.approx(0.5)
    assert "290 days (intervention) and 580 days (control)" in outcome.sentence and "50%" in outcome.sentence


def test_outcome_missingness_by_arm():
    frame = trial_frame()
    treated = frame.index[frame.TRT01P == "intervention"]
    frame.loc[treated[:3], "SBP"] = np.nan
    assert run("outcome_missingness", frame).status == WARNING
    frame.loc[treated[:30], "SBP"] = np.nan
    outcome = run("outcome_missingness", frame)
    assert outcome.status == FAIL
    assert len(outcome.affected) == 30


def test_a_mean_difference_is_reproduced_or_discrepant():
    frame = trial_frame()
    frame.loc[frame.TRT01P == "intervention", "SBP"] -= 5
    treated = frame.loc[frame.TRT01P == "intervention", "SBP"]
    control = frame.loc[frame.TRT01P == "control", "SBP"]
    difference = treated.mean() - control.mean()
    facts = dataclasses.replace(FACTS, measure="MD", estimate=difference, ci_low=difference - 1, ci_high=difference + 1)
    outcome = run("primary_result", frame, facts=facts)
    assert outcome.status == PASS
    assert outcome.figures["verdict"] == "reproduced"
    assert outcome.figures["recomputed"]["estimate"] == pytest.approx(difference, abs=1e-6)
    off = dataclasses.replace(facts, estimate=-4.0, ci_low=-6.0, ci_high=-2.0)
    discrepant = run("primary_result", frame, facts=off)
    assert discrepant.status == FAIL
    assert discrepant.figures["verdict"] == "discrepant"
    assert "-1" in discrepant.sentence  # the difference, -5 against -4


def test_the_verdict_rule():
    assert catalogue.verdict("RR", 0.5, 0.3, 0.8, 0.54)["reproduced"]
    assert not catalogue.verdict("RR", 0.5, 0.3, 0.8, 0.56)["reproduced"]  # 12% apart, inside the CI
    assert not catalogue.verdict("RR", 0.5, 0.45, 0.55, 0.44)["reproduced"]  # outside the CI
    assert catalogue.verdict("MD", -5.0, -7.0, -3.0, -5.4)["reproduced"]
    assert not catalogue.verdict("MD", -5.0, -7.0, -3.0, -5.6)["reproduced"]


def test_the_catalogue_and_its_engine_adapter_load_no_django():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, apps.checks.catalogue; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    root = Path(__file__).resolve().parents[2]
    output = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


def test_every_check_has_a_column_title_on_the_integrity_page():
    from apps.checks.selectors import CATALOGUE_TITLES

    assert list(CATALOGUE_TITLES) == CHECK_CODES


def shifted_age(difference: float) -> pd.DataFrame:
    """The trial's frame with the intervention arm's age moved to give exactly this standardised difference."""
    frame = trial_frame()
    ages = frame["AGE"].astype(float)
    treated = frame.TRT01P == "intervention"
    spread = math.sqrt((ages[treated].var() + ages[~treated].var()) / 2)
    frame["AGE"] = ages + np.where(treated, difference * spread, 0.0)
    return frame


@pytest.mark.parametrize(
    ("difference", "status", "grade"),
    [(0.05, PASS, PASS), (0.14, WARNING, WARNING), (0.49, WARNING, WARNING), (0.61, FAIL, FAIL), (-0.61, FAIL, FAIL)],
)
def test_standardised_differences_are_graded(difference, status, grade):
    outcome = run("baseline_balance", shifted_age(difference))
    age = next(row for row in outcome.figures["covariates"] if row["variable"] == "AGE")
    assert age["standardised_difference"] == pytest.approx(difference, abs=1e-6)
    assert (outcome.status, age["grade"]) == (status, grade)
    assert outcome.figures["thresholds"] == {"warning": 0.1, "fail": 0.5}


def test_the_sentence_tells_failures_from_warnings():
    frame = shifted_age(0.61)
    treated = frame.index[frame.TRT01P == "intervention"]
    # More men in the intervention arm (a difference of 0.2): a warning beside the failure.
    frame.loc[treated[:20], "SEX"] = "M"
    outcome = run("baseline_balance", frame)
    assert outcome.status == FAIL
    assert outcome.sentence.startswith(
        "1 covariate of 2 differs between the arms by a standardised difference over 0.5, an imbalance to explain "
        "with the trial team: AGE (+0.61)"
    )
    sex = next(row for row in outcome.figures["covariates"] if row["variable"] == "SEX")
    assert (
        sex["grade"] == WARNING and "1 covariate by more than 0.1 (at most 0.5), worth a look: SEX" in outcome.sentence
    )


def test_the_thresholds_come_from_the_facts():
    facts = dataclasses.replace(FACTS, smd_warning=0.2, smd_fail=0.7)
    outcome = run("baseline_balance", shifted_age(0.61), facts=facts)
    assert outcome.status == WARNING
    assert outcome.figures["thresholds"] == {"warning": 0.2, "fail": 0.7}
    assert run("baseline_balance", shifted_age(0.14), facts=facts).status == PASS


def test_arms_completely_separated_by_a_covariate_fail_rather_than_pass():
    frame = trial_frame()
    treated = frame.TRT01P == "intervention"
    # Every woman in one arm and every man in the other, every age 70 in one arm and 80 in the other: no spread
    # within the arms, so no finite standardised difference, and the worst imbalance there is.
    frame["SEX"] = np.where(treated, "F", "M")
    frame["AGE"] = np.where(treated, 70, 80)
    outcome = run("baseline_balance", frame)
    assert outcome.status == FAIL
    rows = {row["variable"]: row for row in outcome.figures["covariates"]}
    for name in ("AGE", "SEX"):
        assert rows[name]["grade"] == FAIL and rows[name]["complete_separation"] is True
        assert rows[name]["standardised_difference"] is None  # JSON has no infinity
    assert "complete separation: no overlap between the arms" in outcome.sentence
    # The same constant in both arms is balance, not separation.
    frame["AGE"] = 75
    rows = {row["variable"]: row for row in run("baseline_balance", frame).figures["covariates"]}
    assert rows["AGE"]["grade"] == PASS and "complete_separation" not in rows["AGE"]


def test_a_table_with_every_row_in_one_arm_fails_the_treatment_codes_and_has_no_balance_to_judge():
    frame = trial_frame()
    frame["TRT01P"] = "control"
    codes = run("treatment_codes", frame)
    assert codes.status == FAIL
    assert codes.sentence.startswith("The intervention arm (coded 'intervention') has no row")
    assert run("baseline_balance", frame).status == NOT_APPLICABLE


def test_separation_needs_two_values_in_each_arm_and_rounding_is_no_spread():
    frame = trial_frame()
    treated = (frame.TRT01P == "intervention").to_numpy()
    # One woman in the intervention arm, the rest of it unknown: too little to call the arms separated.
    frame["SEX"] = np.where(treated, None, "M")
    frame.loc[np.flatnonzero(treated)[0], "SEX"] = "F"
    rows = {row["variable"]: row for row in run("baseline_balance", frame).figures["covariates"]}
    assert "complete_separation" not in rows["SEX"]
    # 0.1 and 0.2 stored many times have a float spread of about 1e-17: none, so the arms are separated.
    frame["AGE"] = np.where(treated, 0.1, 0.2)
    rows = {row["variable"]: row for row in run("baseline_balance", frame).figures["covariates"]}
    assert rows["AGE"]["complete_separation"] is True
