"""Cases found on review: a failure inside a variant is the job's, not a variant's error; definitions the outcome
no longer fits are refused at run time; the family keeps the analysis' interval; only trials without IPD stand in
with their publications; an ambiguous outcome variable must be named; concurrent definitions answer 400, not 500;
a new engine computes again."""

import threading

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from rest_framework.test import APIClient

from apps.analyses import engine, planning, services
from apps.analyses.models import Analysis, AnalysisRun, RunKind
from apps.core.errors import ApplicationError
from apps.harmonisation.models import SchemaVariable
from apps.jobs.models import Job
from apps.reviews.models import Outcome
from apps.reviews.services import outcome_update
from apps.trials.lifecycle import ExitReason, Status
from ipdstats.engine import run_table
from tests.analyses.conftest import add_trial, outcome, trial_frame
from tests.analyses.helpers import rebuild
from tests.analyses.test_runs import define, run_now
from tests.analyses.test_sensitivity import pooled_equal


@pytest.mark.django_db
def test_a_time_limit_inside_a_variant_fails_the_job_and_nothing_is_stored_as_succeeded(
    review, trials, analyst, monkeypatch
):
    real = engine.run_table

    def slow_one_stage(spec, rows):
        if spec["approach"] == "one-stage":
            raise SoftTimeLimitExceeded()
        return real(spec, rows)

    monkeypatch.setattr(engine, "run_table", slow_one_stage)
    analysis = define(review, analyst)
    run, _ = services.run_request(analysis=analysis, actor=analyst, kind=RunKind.SENSITIVITY)
    services.run_execute(run.job_id)
    run.refresh_from_db()
    assert run.state == AnalysisRun.State.FAILED
    assert run.error == "The job took longer than its time limit and was stopped."
    assert run.job.state == Job.State.FAILED and run.result is None
    again, created = services.run_request(analysis=analysis, actor=analyst, kind=RunKind.SENSITIVITY)
    assert created and again.pk != run.pk  # a failed family is never returned as the unchanged one


@pytest.mark.django_db
def test_an_analysis_its_outcome_no_longer_fits_is_refused_at_run_time(review, trials, analyst, coordinator):
    analysis = define(review, analyst)
    outcome_update(outcome=outcome(review, "Death"), actor=coordinator, data={"type": "survival", "measure": "HR"})
    with pytest.raises(ApplicationError) as caught:
        services.run_request(analysis=Analysis.objects.get(pk=analysis.pk), actor=analyst)
    assert caught.value.status == 400 and caught.value.code == "invalid_definition"
    assert caught.value.message.startswith("measure: OR does not fit 'Death', now time to event.")
    assert not AnalysisRun.objects.exists()
    response = _client(analyst).post(f"/api/v1/analyses/{analysis.pk}/runs/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_definition"


@pytest.mark.django_db
def test_the_fixed_effect_variant_keeps_the_analysis_interval(review, trials, analyst, dataset_root):
    run = run_now(define(review, analyst, ci="hksj"), analyst, RunKind.SENSITIVITY)
    family = {entry["label"]: entry for entry in run.result["analyses"]}
    rows = rebuild(run, dataset_root)
    pooled_equal(family["fixed effect"], run_table(run.spec | {"tau2": "FE"}, rows))
    assert family["fixed effect"]["pooled"]["df"] == 3  # HKSJ's t with k - 1 degrees of freedom
    assert "Wald CI" in family


def _published(review, number, status, **fields):
    return add_trial(
        review,
        number,
        status=status,
        table=False,
        aggregate_available=True,
        result_measure="OR",
        result_estimate=0.8,
        result_ci_low=0.6,
        result_ci_high=1.07,
        **fields,
    )


@pytest.mark.django_db
def test_only_trials_without_ipd_stand_in_with_their_publications(review, trials, analyst):
    declined = _published(review, 40, Status.DECLINED)
    withdrawn_by_them = _published(review, 41, Status.WITHDRAWN, exit_reason=ExitReason.WITHDRAWN_BY_INVESTIGATORS)
    _published(review, 42, Status.WITHDRAWN, exit_reason=ExitReason.WITHDRAWN_BY_REVIEW)
    _published(review, 43, Status.DATA_CHECKED)  # its IPD are in hand, only not at "included"
    _published(review, 44, Status.DATA_RECEIVED)
    run = run_now(define(review, analyst, aggregate=True), analyst)
    assert [row["trial"] for row in run.aggregate_rows] == [declined.pk, withdrawn_by_them.pk]
    family = run_now(define(review, analyst, name="Family"), analyst, RunKind.SENSITIVITY)
    assert family.result["comparison"]["without_ipd"]["trials"] == 2


@pytest.mark.django_db
def test_the_comparison_uses_only_published_results_of_this_outcome(review, trials, analyst):
    stroke = Outcome.objects.create(review=review, name="Stroke", type="binary", measure="OR")
    SchemaVariable.objects.create(review=review, name="STROKE", role="outcome", type="integer", allowed_values=[0, 1])
    _published(review, 40, Status.DECLINED)
    analysis = services.analysis_create(
        review=review, actor=analyst, data={"name": "Stroke", "outcome": stroke.pk, "outcome_variable": "DEATH"}
    )
    run = run_now(analysis, analyst, RunKind.SENSITIVITY)
    comparison = run.result["comparison"]
    assert comparison["with_ipd"]["published"]["k"] == 0 and comparison["without_ipd"]["published"]["k"] == 0
    assert comparison["difference"] is None
    reasons = {item["reason"] for item in comparison["published_not_used"]}
    assert reasons == {"its published primary result is for the review's primary outcome, not 'Stroke'."}


@pytest.mark.django_db
def test_an_outcome_variable_must_be_named_when_several_fit(review, analyst):
    # Position 0: the schema lists STROKE first.
    SchemaVariable.objects.create(review=review, name="STROKE", role="outcome", type="integer", allowed_values=[0, 1])
    with pytest.raises(ApplicationError) as caught:
        define(review, analyst)
    assert caught.value.details == {
        "outcome_variable": ["several schema variables could play it (STROKE, DEATH); name the one to analyse."]
    }
    assert define(review, analyst, outcome_variable="STROKE").outcome_variable.name == "STROKE"


@pytest.mark.django_db
def test_a_new_engine_version_computes_again(review, trials, analyst, monkeypatch):
    analysis = define(review, analyst)
    first = run_now(analysis, analyst)
    monkeypatch.setattr(planning, "ENGINE_VERSION", "99.0.0")
    second, created = services.run_request(analysis=analysis, actor=analyst)
    assert created and second.pk != first.pk


@pytest.mark.django_db
def test_rows_without_an_arm_code_are_named_as_such(review, analyst):
    add_trial(review, 1)
    frame = trial_frame(seed=2)
    frame["TRT01P"] = "Drug A"
    unknown = add_trial(review, 2, frame=frame)
    run = run_now(define(review, analyst), analyst)
    assert run.left_out == [
        {
            "trial": unknown.pk,
            "label": "NCT03000002 STROKE-2",
            "reason": "no row has the intervention or control code ('intervention', 'control') in TRT01P; set the "
            "codes in the trial's check settings.",
        }
    ]
    assert run.summary["arms"][str(unknown.pk)]["other_arm_codes"] == 240


@pytest.mark.django_db
def test_a_failed_run_shows_no_result_and_the_list_keeps_the_last_good_one(review, trials, analyst, reviewer):
    from django.test import Client
    from django.urls import reverse

    analysis = define(review, analyst)
    good = run_now(analysis, analyst)
    services.analysis_update(analysis=analysis, actor=analyst, data={"ci": "hksj"})
    failed = run_now(analysis, analyst)
    AnalysisRun.objects.filter(pk=failed.pk).update(state=AnalysisRun.State.FAILED, error="Stopped.")
    client = Client()
    client.force_login(reviewer)
    page = client.get(reverse("analyses:run", args=[failed.pk]))
    assert "forest" not in page.context and "Stopped." in page.content.decode()
    listing = client.get(reverse("analyses:list", args=[review.pk]))
    item = next(group for group in listing.context["outcomes"] if group["outcome"].name == "Death")["analyses"][0]
    assert (item["run"].pk, item["result_run"].pk) == (failed.pk, good.pk)
    assert f"result of run #{good.pk}" in listing.content.decode()


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_two_definitions_at_once_answer_400_not_500(review, analyst):
    death = outcome(review, "Death").pk
    answers = []
    start = threading.Barrier(2)

    def post(body):
        start.wait()
        try:
            answers.append(_client(analyst).post(f"/api/v1/reviews/{review.pk}/analyses/", body, format="json"))
        finally:
            connection.close()

    for bodies in (
        [{"name": "Same", "outcome": death}, {"name": "Same", "outcome": death}],
        [{"name": "A", "outcome": death, "is_primary": True}, {"name": "B", "outcome": death, "is_primary": True}],
    ):
        answers.clear()
        threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answer.status_code for answer in answers) in ([201, 400], [201, 201]), answers
    assert Analysis.objects.filter(name="Same").count() == 1
    assert Analysis.objects.filter(outcome_id=death, is_primary=True).count() == 1
