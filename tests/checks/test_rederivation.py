"""The published primary result re-derived: the 13 BCG vaccine trials (dat.bcg in R's metadat).

Participant rows are rebuilt from each trial's published 2x2 table (tests/data/reference/data/bcg.csv.gz); each
trial's published log risk ratio and 95% CI are taken from the same tables as metafor's escalc(measure = "RR")
computes them: log(a / n1) - log(c / n2), with variance 1/a - 1/n1 + 1/c - 1/n2.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apps.checks import catalogue
from apps.checks.catalogue import CheckInput, TrialFacts, Variable

DATA = Path(__file__).resolve().parents[1] / "data" / "reference" / "data" / "bcg.csv.gz"

# dat.bcg: trial, vaccinated with / without tuberculosis, unvaccinated with / without tuberculosis.
BCG = [
    ("Aronson 1948", 4, 119, 11, 128),
    ("Ferguson & Simes 1949", 6, 300, 29, 274),
    ("Rosenthal et al 1960", 3, 228, 11, 209),
    ("Hart & Sutherland 1977", 62, 13536, 248, 12619),
    ("Frimodt-Moller et al 1973", 33, 5036, 47, 5761),
    ("Stein & Aronson 1953", 180, 1361, 372, 1079),
    ("Vandiviere et al 1973", 8, 2537, 10, 619),
    ("TPT Madras 1980", 505, 87886, 499, 87892),
    ("Coetzee & Berjak 1968", 29, 7470, 45, 7232),
    ("Rosenthal et al 1961", 17, 1699, 65, 1600),
    ("Comstock et al 1974", 186, 50448, 141, 27197),
    ("Comstock & Webster 1969", 5, 2493, 3, 2338),
    ("Comstock et al 1976", 27, 16886, 29, 17825),
]
VARIABLES = [
    Variable("id", "participant_id", "integer"),
    Variable("treat", "treatment", "integer", allowed_values=(0, 1)),
    Variable("y", "outcome", "integer", allowed_values=(0, 1)),
]


def published_rr(tpos: int, tneg: int, cpos: int, cneg: int) -> TrialFacts:
    n1, n2 = tpos + tneg, cpos + cneg
    log_rr = math.log(tpos / n1) - math.log(cpos / n2)
    se = math.sqrt(1 / tpos - 1 / n1 + 1 / cpos - 1 / n2)
    return TrialFacts(
        measure="RR",
        estimate=math.exp(log_rr),
        ci_low=math.exp(log_rr - 1.959964 * se),
        ci_high=math.exp(log_rr + 1.959964 * se),
        n_intervention=n1,
        n_control=n2,
    )


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(DATA)


def rederive(frame: pd.DataFrame, facts: TrialFacts) -> catalogue.CheckOutcome:
    return catalogue.check_primary_result(CheckInput(frame.reset_index(drop=True), VARIABLES, facts))


@pytest.mark.parametrize(("trial", "tpos", "tneg", "cpos", "cneg"), BCG, ids=[row[0] for row in BCG])
def test_each_bcg_trial_reproduces_its_published_risk_ratio(rows, trial, tpos, tneg, cpos, cneg):
    facts = published_rr(tpos, tneg, cpos, cneg)
    frame = rows[rows.trial == trial]
    assert len(frame) == tpos + tneg + cpos + cneg
    outcome = rederive(frame, facts)
    assert outcome.status == catalogue.PASS, outcome.sentence
    assert outcome.figures["verdict"] == "reproduced"
    assert outcome.figures["within_ci"] is True
    recomputed = outcome.figures["recomputed"]
    assert math.log(recomputed["estimate"]) == pytest.approx(math.log(facts.estimate), abs=1e-6)
    assert recomputed["ci_low"] == pytest.approx(facts.ci_low, rel=1e-5)
    assert recomputed["ci_high"] == pytest.approx(facts.ci_high, rel=1e-5)
    assert outcome.sentence.startswith("Reproduced:")
    # The counts against the same publication pass too.
    sizes = catalogue.check_arm_sizes(CheckInput(frame.reset_index(drop=True), VARIABLES, facts))
    assert sizes.status == catalogue.PASS


def test_a_copy_with_a_fifth_of_one_trials_events_removed_is_discrepant(rows):
    trial, tpos, tneg, cpos, cneg = BCG[5]  # Stein & Aronson 1953: 180 and 372 cases
    frame = rows[rows.trial == trial]
    vaccinated_cases = frame.index[(frame.treat == 1) & (frame.y == 1)]
    removed = np.random.default_rng(5).choice(vaccinated_cases, size=len(vaccinated_cases) // 5, replace=False)
    kept = frame.drop(index=removed)
    outcome = rederive(kept, published_rr(tpos, tneg, cpos, cneg))
    # The risk ratios, counted here from the 2x2 tables: (a / n1) / (c / n2).
    rr = ((tpos - len(removed)) / (tpos + tneg - len(removed))) / (cpos / (cpos + cneg))
    published = (tpos / (tpos + tneg)) / (cpos / (cpos + cneg))
    assert outcome.figures["recomputed"]["estimate"] == pytest.approx(rr, rel=1e-9)
    assert outcome.figures["published"]["estimate"] == pytest.approx(published, rel=1e-9)
    assert outcome.status == catalogue.FAIL
    assert outcome.figures["verdict"] == "discrepant"
    assert outcome.figures["relative_difference"] > 0.10
    assert outcome.figures["difference"] == pytest.approx(rr - published, abs=1e-6)
    assert outcome.sentence.startswith("Discrepant:") and "more than 10%" in outcome.sentence


REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


def r_per_trial(case: str, measure: str) -> list[dict]:
    """Per-trial estimates computed in R (metafor::escalc, lm, survival::coxph) for the engine's reference cases."""
    import json

    analyses = json.loads((REFERENCE / "cases" / f"{case}.json").read_text())["analyses"]
    unadjusted = next(
        item
        for item in analyses
        if item["spec"]["measure"] == measure
        and item["spec"]["approach"] == "two-stage"
        and not item["spec"].get("adjust")
        and not item["spec"].get("interaction")
    )
    return [row for row in unadjusted["expect"]["per_trial"] if not row["excluded"]]


@pytest.mark.parametrize(
    ("case", "measure", "roles"),
    [
        ("bin_a", "OR", {"y": ("outcome", "integer", (0, 1))}),
        ("bin_a", "RD", {"y": ("outcome", "integer", (0, 1))}),
        ("cont_a", "MD", {"y": ("outcome", "number", ())}),
        ("surv_a", "HR", {"time": ("time", "number", ()), "event": ("event", "integer", (0, 1))}),
    ],
)
def test_results_computed_in_r_are_reproduced_for_every_measure(case, measure, roles):
    rows = pd.read_csv(REFERENCE / "data" / f"{case}.csv.gz")
    variables = [VARIABLES[0], VARIABLES[1]] + [
        Variable(name, role, kind, allowed_values=codes) for name, (role, kind, codes) in roles.items()
    ]
    ratio = measure in ("OR", "HR")
    for expected in r_per_trial(case, measure):
        low, high = expected["estimate"] - 1.959964 * expected["se"], expected["estimate"] + 1.959964 * expected["se"]
        scale = math.exp if ratio else float
        facts = TrialFacts(
            measure=measure, estimate=scale(expected["estimate"]), ci_low=scale(low), ci_high=scale(high)
        )
        frame = rows[rows.trial == expected["trial"]].reset_index(drop=True)
        outcome = catalogue.check_primary_result(CheckInput(frame, variables, facts))
        assert outcome.figures["verdict"] == "reproduced", (expected["trial"], outcome.sentence)
        recomputed = outcome.figures["recomputed"]["estimate"]
        assert (math.log(recomputed) if ratio else recomputed) == pytest.approx(expected["estimate"], abs=1e-6)
