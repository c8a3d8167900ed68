"""The demo's harmonisation and checks: a trial with parsed participant data ends checked and may be marked so."""

import numpy as np
import pandas as pd
import pytest

from apps.accounts.models import Role
from apps.checks import selectors
from apps.checks.demo import NOTES, OUTCOME, demo_harmonise_and_check
from apps.checks.models import CheckResult, CheckRun, CheckSettings, Finding
from apps.core.models import AuditEvent
from apps.harmonisation.models import HarmonisedTable, Mapping, MappingRule, SchemaVariable
from apps.jobs.models import Job
from apps.trials import services as trial_services
from apps.trials.lifecycle import Status
from apps.trials.models import Trial
from tests.conftest import add_member
from tests.factories import ReviewFactory, TrialFactory
from tests.harmonisation.conftest import parsed_version

pytestmark = pytest.mark.django_db

N = 240


def participant_frame(n: int = N, seed: int = 3) -> pd.DataFrame:
    """The columns of the demo's participant files, as parsed: one row per randomised participant."""
    rng = np.random.default_rng(seed)
    numbers = np.arange(1, n + 1)
    arms = np.where(numbers % 2 == 1, "steroid", "control")
    return pd.DataFrame(
        {
            "participant_id": pd.array([f"P{number:04d}" for number in numbers], dtype="string"),
            "arm": pd.array(arms, dtype="string"),
            "age": pd.array(rng.integers(30, 95, n), dtype="Int64"),
            "sex": pd.array(rng.choice(["F", "M"], n), dtype="string"),
            "crp_mg_l": np.round(rng.lognormal(4.9, 0.6, n), 1),
            "psi_class": pd.array(rng.choice([2, 3, 4, 5], n), dtype="Int64"),
            "died_30d": pd.array((rng.random(n) < np.where(arms == "steroid", 0.08, 0.12)).astype(int), dtype="Int64"),
            "los_days": pd.array(rng.integers(2, 20, n), dtype="Int64"),
        }
    )


@pytest.fixture
def review(db):
    return ReviewFactory(title="Corticosteroids in community-acquired pneumonia")


@pytest.fixture
def reviewer(review):
    return add_member(review, Role.REVIEWER)


@pytest.fixture
def received(review):
    # Published arm sizes one apart from the file's, so the checks raise something for the team to settle.
    trial = TrialFactory(
        review=review,
        status=Status.DATA_RECEIVED,
        n_randomised=N + 2,
        result_n_intervention=N // 2 + 1,
        result_n_control=N // 2 + 1,
        result_estimate=0.7,
        result_ci_low=0.35,
        result_ci_high=1.4,
    )
    trial.version = parsed_version(trial, participant_frame())
    return trial


def counts(trial: Trial) -> dict:
    return {
        "variables": SchemaVariable.objects.filter(review=trial.review).count(),
        "mappings": Mapping.objects.filter(trial=trial).count(),
        "rules": MappingRule.objects.filter(mapping__trial=trial).count(),
        "tables": HarmonisedTable.objects.filter(mapping__trial=trial).count(),
        "runs": CheckRun.objects.filter(trial=trial).count(),
        "findings": Finding.objects.filter(trial=trial).count(),
        "jobs": Job.objects.filter(trial=trial).count(),
        "audit": AuditEvent.objects.filter(review=trial.review).count(),
    }


def test_the_trial_ends_checked_and_may_be_marked_data_checked(received, reviewer):
    demo_harmonise_and_check(trial=received, version=received.version, actor=reviewer)

    run = selectors.latest_run(received)
    assert run.state == CheckRun.State.SUCCEEDED and run.n_rows == N
    assert run.harmonised_table == selectors.latest_table(received)
    frame = selectors.table_frame(run.harmonised_table)
    assert set(frame["TRT01P"]) == {"intervention", "control"}
    assert set(frame["SEX"]) == {"female", "male"}
    assert frame[OUTCOME].sum() == participant_frame()["died_30d"].sum()
    assert CheckSettings.objects.get(trial=received).primary_outcome == OUTCOME

    findings = list(Finding.objects.filter(result__run=run).select_related("result", "resolved_by"))
    assert findings, "the published arm sizes differ from the file's, so a finding is raised"
    assert all(finding.status == Finding.Status.RESOLVED for finding in findings)
    assert all(finding.resolved_by == reviewer and finding.resolution_note for finding in findings)
    arm_sizes = next(finding for finding in findings if finding.result.code == "arm_sizes")
    assert arm_sizes.resolution_note == NOTES["arm_sizes"]
    assert run.results.get(code="primary_result").status != CheckResult.Status.NOT_APPLICABLE

    trial_services.trial_transition(trial=received, to_status=Status.DATA_CHECKED, actor=reviewer)
    received.refresh_from_db()
    assert received.status == Status.DATA_CHECKED

    page = selectors.review_integrity(received.review, Trial.objects.all())
    row = next(row for row in page["rows"] if row["trial"] == received)
    assert row["run"] == run and row["state"].checked and row["open"] == 0
    assert page["counts"]["trials_checked"] == 1
    assert page["counts"]["issues"] == page["counts"]["issues_resolved"] == len(findings)


def test_a_second_call_creates_nothing(received, reviewer):
    demo_harmonise_and_check(trial=received, version=received.version, actor=reviewer)
    before = counts(received)
    demo_harmonise_and_check(trial=received, version=received.version, actor=reviewer)
    assert counts(received) == before


def test_the_jobs_sent_on_commit_in_process_add_nothing(received, reviewer, eager, django_capture_on_commit_callbacks):
    """As in `make run`: the queued jobs' tasks run in this process once the demo's transaction commits."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        demo_harmonise_and_check(trial=received, version=received.version, actor=reviewer)
    assert callbacks, "the apply and check jobs were sent on commit"
    assert CheckRun.objects.filter(trial=received).count() == 1
    assert HarmonisedTable.objects.filter(mapping__trial=received).count() == 1
    assert selectors.data_check_state(received).checked


def test_a_second_trial_shares_the_schema(received, review, reviewer):
    other = TrialFactory(review=review, status=Status.DATA_RECEIVED, n_randomised=120)
    version = parsed_version(other, participant_frame(120, seed=5))
    demo_harmonise_and_check(trial=received, version=received.version, actor=reviewer)
    demo_harmonise_and_check(trial=other, version=version, actor=reviewer)
    assert SchemaVariable.objects.filter(review=review).count() == 6
    assert selectors.data_check_state(other).checked
