"""Fixtures for reporting: a review whose trials stand at every place of the PRISMA-IPD flow (some with
incomplete records), and members in every role."""

import datetime

import pytest

from apps.analyses import services as analysis_services
from apps.analyses.models import AnalysisRun
from apps.harmonisation.models import SchemaVariable
from apps.reviews.models import Outcome, Review
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, Trial
from tests.analyses.conftest import SCHEMA
from tests.harmonisation.conftest import dataset_root  # noqa: F401  (fixture reused: files in a temporary folder)

INCLUDED, EXCLUDED, PENDING = "included", "excluded", "pending"


@pytest.fixture
def review(db):
    return Review.objects.create(
        title="Antibiotics for acute otitis media", registration="PROSPERO CRD42026000777", status="acquiring"
    )


def make_trial(review, number: int, **fields) -> Trial:
    values = {
        "registry_id": f"NCT0500{number:04d}",
        "title": f"OTITIS-{number}: a trial",
        "year": 2010 + number % 12,
        "n_randomised": 100 + number,
        "screening_decision": INCLUDED,
        "status": Status.ELIGIBLE,
    } | fields
    return Trial.objects.create(review=review, **values)


@pytest.fixture
def trial(review):
    """A trial with IPD provided (the one contributors are assigned to)."""
    return make_trial(
        review, 1, ipd_sought=True, ipd_provided=True, n_provided=101, n_not_provided=0, status=Status.INCLUDED
    )


@pytest.fixture
def flow_trials(review, trial):
    """Trials at every place of the flow; the numbers each box must count are in EXPECTED."""
    sought = {"ipd_sought": True}
    made = {
        "provided": trial,
        "provided_lost": make_trial(
            review, 2, **sought, ipd_provided=True, n_provided=90, n_not_provided=12,
            n_not_provided_reason="Consent withdrawn", status=Status.DATA_CHECKED, identified_via="other",
        ),
        "provided_unknown_n": make_trial(review, 3, **sought, ipd_provided=True, status=Status.DATA_RECEIVED),
        "declined_aggregate": make_trial(
            review, 4, **sought, ipd_provided=False, ipd_not_provided_reason="declined", aggregate_available=True,
            status=Status.DECLINED,
        ),
        "no_response": make_trial(
            review, 5, **sought, ipd_provided=False, ipd_not_provided_reason="no_response", status=Status.NO_RESPONSE
        ),
        "pending": make_trial(review, 6, **sought, status=Status.CONTACTED),
        "pending_no_n": make_trial(review, 7, **sought, status=Status.AGREEMENT_SIGNED, n_randomised=None),
        "withdrawn": make_trial(review, 8, **sought, status=Status.WITHDRAWN, exit_reason="withdrawn_by_review"),
        "not_sought": make_trial(
            review, 9, ipd_sought=False, ipd_not_sought_reason="Trial too small", status=Status.ELIGIBLE
        ),
        "not_sought_no_reason": make_trial(review, 10, ipd_sought=False, status=Status.ELIGIBLE),
        "undecided": make_trial(review, 11, status=Status.ELIGIBLE, identified_via="other"),
        "excluded": make_trial(
            review, 12, screening_decision=EXCLUDED, exclusion_reason="Not randomised", status=Status.NOT_ELIGIBLE
        ),
        "excluded_no_reason": make_trial(review, 13, screening_decision=EXCLUDED, status=Status.NOT_ELIGIBLE),
        "not_screened": make_trial(review, 14, screening_decision=PENDING, status=Status.IDENTIFIED),
        "duplicate": make_trial(review, 15, is_duplicate=True, status=Status.IDENTIFIED, screening_decision=PENDING),
    }  # fmt: skip
    return made


# Box -> the fixture trials it must hold.
EXPECTED = {
    "identified_database": {
        "provided", "provided_unknown_n", "declined_aggregate", "no_response", "pending", "pending_no_n", "withdrawn",
        "not_sought", "not_sought_no_reason", "excluded", "excluded_no_reason", "not_screened", "duplicate",
    },
    "identified_other": {"provided_lost", "undecided"},
    "after_duplicates": {
        "provided", "provided_lost", "provided_unknown_n", "declined_aggregate", "no_response", "pending",
        "pending_no_n", "withdrawn", "not_sought", "not_sought_no_reason", "undecided", "excluded",
        "excluded_no_reason", "not_screened",
    },
    "screened": {
        "provided", "provided_lost", "provided_unknown_n", "declined_aggregate", "no_response", "pending",
        "pending_no_n", "withdrawn", "not_sought", "not_sought_no_reason", "undecided", "excluded",
        "excluded_no_reason",
    },
    "excluded": {"excluded", "excluded_no_reason"},
    "ipd_sought": {
        "provided", "provided_lost", "provided_unknown_n", "declined_aggregate", "no_response", "pending",
        "pending_no_n", "withdrawn",
    },
    "ipd_not_sought": {"not_sought", "not_sought_no_reason"},
    "ipd_provided": {"provided", "provided_lost", "provided_unknown_n"},
    "ipd_not_provided": {"declined_aggregate", "no_response"},
    "aggregate_available": {"declined_aggregate"},
    "ipd_pending": {"pending", "pending_no_n"},
}  # fmt: skip


@pytest.fixture
def schema_review(db):
    """A review with the analyses tests' schema and three outcomes (binary, continuous, survival)."""
    review = Review.objects.create(title="Antiplatelets after stroke", status=Review.Status.ANALYSING)
    for position, (name, role, kind, allowed) in enumerate(SCHEMA):
        SchemaVariable.objects.create(
            review=review, position=position, name=name, role=role, type=kind, allowed_values=allowed
        )
    Outcome.objects.create(review=review, name="Death", type="binary", measure="OR", is_primary=True)
    Outcome.objects.create(review=review, name="Systolic blood pressure", type="continuous", measure="MD")
    Outcome.objects.create(review=review, name="Time to stroke", type="survival", measure="HR")
    return review


def signed(trial, *, may_leave: bool) -> Agreement:
    return Agreement.objects.create(
        trial=trial,
        status=Agreement.Status.SIGNED,
        signed_on=datetime.date(2025, 1, 10),
        platform=Agreement.Platform.DIRECT if may_leave else Agreement.Platform.VIVLI,
        data_may_leave_platform=may_leave,
    )


def define(review, **data):
    return analysis_services.analysis_create(review=review, actor=None, data=data)


def run_now(analysis) -> AnalysisRun:
    """Run the analysis in this process, through the job as a worker runs it."""
    run, _ = analysis_services.run_request(analysis=analysis, actor=None)
    analysis_services.run_execute(run.job_id)
    run.refresh_from_db()
    assert run.state == AnalysisRun.State.SUCCEEDED, run.error
    return run
