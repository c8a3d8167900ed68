"""The sensitivity family: each variant equals the engine's own analysis of what its label says changed."""

import math

import pytest

from apps.analyses.models import RunKind
from apps.checks.models import CheckResult, CheckRun, Finding
from apps.trials.lifecycle import Status
from ipdstats.engine import run_table
from tests.analyses.conftest import add_trial
from tests.analyses.helpers import rebuild
from tests.analyses.test_runs import define, run_now

pytestmark = pytest.mark.django_db


def pooled_equal(entry: dict, expected: dict) -> None:
    assert entry["error"] is None, entry
    for key in ("estimate", "se", "ci_low", "ci_high", "p", "k"):
        assert math.isclose(entry["pooled"][key], expected["pooled"][key], rel_tol=1e-9, abs_tol=1e-12), key
    for key in ("tau2", "I2", "Q"):
        if expected["heterogeneity"].get(key) is not None:
            assert math.isclose(entry["heterogeneity"][key], expected["heterogeneity"][key], abs_tol=1e-9), key


def fail_checks_of(review, trial) -> Finding:
    check = CheckRun.objects.create(review=review, trial=trial, harmonised_table=trial.table, state="succeeded")
    result = CheckResult.objects.create(
        run=check, code="primary_result", title="Published primary result re-derived", status="fail", sentence="No."
    )
    return Finding.objects.create(result=result, trial=trial)


@pytest.fixture
def published(review):
    """Two trials without IPD whose published odds ratios can be pooled, one whose result cannot."""
    rows = []
    for number, (estimate, low, high) in ((30, (0.6, 0.4, 0.9)), (31, (1.1, 0.7, 1.73))):
        rows.append(
            add_trial(
                review,
                number,
                status=Status.DECLINED,
                table=False,
                aggregate_available=True,
                result_measure="OR",
                result_estimate=estimate,
                result_ci_low=low,
                result_ci_high=high,
                sponsor_type="industry",
            )
        )
    add_trial(
        review,
        32,
        status=Status.NO_RESPONSE,
        table=False,
        aggregate_available=True,
        result_measure="HR",
        result_estimate=0.9,
        result_ci_low=0.7,
        result_ci_high=1.2,
    )
    return rows


def test_every_variant_of_a_two_stage_analysis_is_the_engines(review, trials, published, analyst, dataset_root):
    for trial, estimate in zip(trials, (0.7, 0.8, 0.75, 0.9), strict=True):
        trial.result_measure, trial.result_estimate = "OR", estimate
        trial.result_ci_low, trial.result_ci_high = estimate * 0.7, estimate / 0.7
        trial.save()
    fail_checks_of(review, trials[2])
    analysis = define(review, analyst)
    run = run_now(analysis, analyst, RunKind.SENSITIVITY)
    assert run.state == "succeeded", run.error
    rows = rebuild(run, dataset_root)
    spec = run.spec
    family = {entry["label"]: entry for entry in run.result["analyses"]}
    assert list(family) == [
        "as specified",
        "fixed effect",
        "HKSJ",
        "one-stage",
        "IPD + aggregate data",
        "excluding trials with unresolved integrity failures",
    ]
    pooled_equal(family["as specified"], run_table(spec, rows))
    pooled_equal(family["fixed effect"], run_table(spec | {"tau2": "FE"}, rows))
    pooled_equal(family["HKSJ"], run_table(spec | {"ci": "hksj"}, rows))
    one_stage = {key: value for key, value in spec.items() if key not in ("tau2", "ci")}
    pooled_equal(family["one-stage"], run_table(one_stage | {"approach": "one-stage", "quadrature": 1}, rows))
    aggregate = [
        {"trial": str(row["trial"]), "estimate": row["estimate"], "se": row["se"]} for row in run.aggregate_rows
    ]
    assert [row["trial"] for row in aggregate] == [str(trial.pk) for trial in published]
    pooled_equal(family["IPD + aggregate data"], run_table(spec | {"aggregate": aggregate}, rows))
    failing = str(trials[2].pk)
    pooled_equal(
        family["excluding trials with unresolved integrity failures"],
        run_table(spec, rows[rows["trial"] != failing]),
    )
    assert family["excluding trials with unresolved integrity failures"]["note"] == (
        "Left out: NCT03000003 STROKE-3. Not judged (never checked, or their checks did not finish): "
        "NCT03000001 STROKE-1, NCT03000002 STROKE-2, NCT03000004 STROKE-4."
    )
    # Leave-one-out pools the stage-one estimates of the others: the two-stage analysis of the others' rows.
    assert [entry["label"] for entry in run.result["leave_one_out"]] == [
        f"leave out NCT0300000{number} STROKE-{number}" for number in (1, 2, 3, 4)
    ]
    for entry in run.result["leave_one_out"]:
        pooled_equal(entry, run_table(spec, rows[rows["trial"] != entry["trial"]]))
    comparison = run.result["comparison"]
    assert (comparison["with_ipd"]["trials"], comparison["without_ipd"]["trials"]) == (4, 3)
    assert comparison["without_ipd"]["sponsor"] == {"Academic": 1, "Industry": 2}
    assert comparison["with_ipd"]["published"]["k"] == 4 and comparison["without_ipd"]["published"]["k"] == 2
    first, second = comparison["with_ipd"]["published"]["pooled"], comparison["without_ipd"]["published"]["pooled"]
    difference = comparison["difference"]
    assert math.isclose(difference["estimate"], first["estimate"] - second["estimate"])
    assert math.isclose(difference["se"], math.hypot(first["se"], second["se"]))
    assert 0 < difference["p"] < 1


def test_a_one_stage_analysis_is_set_beside_the_two_stage_variants(review, trials, analyst, dataset_root):
    fail_checks_of(review, trials[0])
    run = run_now(define(review, analyst, approach="one-stage"), analyst, RunKind.SENSITIVITY)
    assert run.state == "succeeded", run.error
    rows = rebuild(run, dataset_root)
    family = {entry["label"]: entry for entry in run.result["analyses"]}
    assert list(family) == [
        "as specified",
        "fixed effect (two-stage)",
        "HKSJ (two-stage)",
        "two-stage",
        "IPD + aggregate data (two-stage)",
        "excluding trials with unresolved integrity failures",
    ]
    twin = {key: value for key, value in run.spec.items() if key != "quadrature"} | {"approach": "two-stage"}
    pooled_equal(family["as specified"], run_table(run.spec, rows))
    pooled_equal(family["two-stage"], run_table(twin | {"tau2": "REML", "ci": "wald"}, rows))
    pooled_equal(family["fixed effect (two-stage)"], run_table(twin | {"tau2": "FE"}, rows))
    pooled_equal(
        family["excluding trials with unresolved integrity failures"],
        run_table(run.spec, rows[rows["trial"] != str(trials[0].pk)]),
    )
    assert family["IPD + aggregate data (two-stage)"]["error"] == "No trial without IPD has a usable published result."


def test_an_unchanged_family_is_not_computed_again_until_a_finding_is_resolved(review, trials, analyst):
    from apps.analyses import services
    from apps.checks.services import finding_resolve

    finding = fail_checks_of(review, trials[0])
    analysis = define(review, analyst)
    first = run_now(analysis, analyst, RunKind.SENSITIVITY)
    same, created = services.run_request(analysis=analysis, actor=analyst, kind=RunKind.SENSITIVITY)
    assert (same.pk, created) == (first.pk, False)
    finding_resolve(finding=finding, actor=analyst, note="Explained by the trial team.")
    second = run_now(analysis, analyst, RunKind.SENSITIVITY)
    excluding = second.result["analyses"][-1]
    assert excluding["error"] == "No trial has an unresolved integrity failure: nothing to exclude."
