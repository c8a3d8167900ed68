"""`manage.py load_demo`: a review with trials in every status, due follow-ups and expiring agreements."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from apps.checks.models import CheckRun
from apps.datasets.models import DatasetVersion
from apps.demo.builder import DEMO_PASSWORD, DEMO_REGISTRATION
from apps.reviews.models import Review
from apps.trials import lifecycle
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, ContactAttempt, EthicsApproval, StatusTransition, Trial
from apps.trials.selectors import expiring_soon, followups_due, review_pipeline, review_response_rate

pytestmark = pytest.mark.django_db


def _counts() -> tuple:
    return tuple(
        model.objects.count() for model in (Review, Trial, ContactAttempt, Agreement, EthicsApproval, StatusTransition)
    )


def test_load_demo_builds_a_realistic_review_once():
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = _counts()
    call_command("load_demo", stdout=out)
    assert _counts() == first, "a second run must not duplicate anything"

    review = Review.objects.get(registration=DEMO_REGISTRATION)
    assert 20 <= review.trials.count() <= 30
    assert {row["status"] for row in review_pipeline(review) if row["trials"]} == set(Status.values)
    assert followups_due(review).exists()
    soon = expiring_soon(review)
    assert soon.agreements and soon.approvals
    assert 0.5 < review_response_rate(review)["rate"] < 1
    assert review.outcomes.count() == 3
    assert not Trial.objects.filter(review=review, result_estimate__isnull=True).exists()

    text = out.getvalue()
    for username in ("coordinator", "analyst", "reviewer", "contributor"):
        assert username in text
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None
    assert DEMO_PASSWORD in text


def test_every_demo_trial_past_a_stage_has_the_record_behind_it():
    call_command("load_demo", stdout=StringIO())
    review = Review.objects.get(registration=DEMO_REGISTRATION)
    main_path = list(lifecycle.MAIN_PATH)
    for trial in review.trials.all():
        reached = main_path.index(trial.status) if trial.status in main_path else -1
        signed = trial.agreements.filter(signed_on__isnull=False).exclude(status=Agreement.Status.NEGOTIATING)
        if reached >= main_path.index(Status.AGREEMENT_SIGNED):
            assert signed.exists(), trial
        if reached >= main_path.index(Status.DATA_RECEIVED):
            versions = trial.dataset_versions.all()
            assert [version.status for version in versions] == [DatasetVersion.Status.PARSED], trial
            assert versions[0].n_rows == trial.n_randomised
            assert trial.ipd_provided is True
        if reached >= main_path.index(Status.DATA_CHECKED):
            assert trial.check_runs.filter(state=CheckRun.State.SUCCEEDED).exists(), trial
        if reached < main_path.index(Status.DATA_RECEIVED):
            assert not trial.dataset_versions.exists(), trial
