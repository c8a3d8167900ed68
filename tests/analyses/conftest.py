"""Fixtures for analyses: a review with a schema and three outcomes, and trials at "included" whose harmonised
tables hold simulated participants (a true odds ratio, mean difference and hazard ratio to find)."""

import numpy as np
import pandas as pd
import pytest
from celery import current_app

from apps.harmonisation.models import SchemaVariable
from apps.reviews.models import Outcome, Review
from apps.trials.lifecycle import Status
from apps.trials.models import Trial
from tests.checks.conftest import make_table
from tests.harmonisation.conftest import dataset_root  # noqa: F401  (fixture reused)

SCHEMA = [
    ("USUBJID", "participant_id", "text", []),
    ("TRT01P", "treatment", "category", ["intervention", "control"]),
    ("AGE", "covariate", "integer", []),
    ("SEX", "covariate", "category", ["F", "M"]),
    ("DEATH", "outcome", "integer", [0, 1]),
    ("SBP", "outcome", "number", []),
    ("AVAL", "time", "number", []),
    ("EVENT", "event", "integer", [0, 1]),
]


def trial_frame(seed: int, n: int = 240, log_or: float = -0.4, md: float = -5.0) -> pd.DataFrame:
    """Participants of one trial as its harmonised table holds them: arms alternate, death depends on arm and
    age, blood pressure on arm (more so in the young), survival times on arm."""
    rng = np.random.default_rng(seed)
    treated = np.arange(n) % 2 == 0
    age = rng.integers(40, 90, n)
    logit = -1.5 + log_or * treated + 0.03 * (age - 65)
    death = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("int64")
    sbp = 150 + md * treated + 0.1 * treated * (age - 65) + rng.normal(0, 12, n)
    hazard = 0.002 * np.exp(-0.3 * treated)
    time = rng.exponential(1 / hazard)
    censor = rng.uniform(100, 900, n)
    return pd.DataFrame(
        {
            "source_row": np.arange(1, n + 1),
            "USUBJID": pd.array([f"{seed}-{i:04d}" for i in range(n)], dtype="string"),
            "TRT01P": pd.array(np.where(treated, "intervention", "control"), dtype="string"),
            "AGE": pd.array(age, dtype="Int64"),
            "SEX": pd.array(rng.choice(["F", "M"], n), dtype="string"),
            "DEATH": pd.array(death, dtype="Int64"),
            "SBP": np.round(sbp, 1),
            "AVAL": np.round(np.minimum(time, censor), 2),
            "EVENT": pd.array((time <= censor).astype("int64"), dtype="Int64"),
        }
    )


@pytest.fixture
def review(db):
    review = Review.objects.create(title="Antiplatelets after stroke", status=Review.Status.ANALYSING)
    for position, (name, role, kind, allowed) in enumerate(SCHEMA):
        SchemaVariable.objects.create(
            review=review, position=position, name=name, role=role, type=kind, allowed_values=allowed
        )
    Outcome.objects.create(review=review, name="Death", type="binary", measure="OR", is_primary=True)
    Outcome.objects.create(review=review, name="Systolic blood pressure", type="continuous", measure="MD")
    Outcome.objects.create(review=review, name="Time to stroke", type="survival", measure="HR")
    return review


def outcome(review, name: str) -> Outcome:
    return review.outcomes.get(name=name)


def add_trial(review, number: int, *, status=Status.INCLUDED, table: bool = True, frame=None, **fields) -> Trial:
    trial = Trial.objects.create(
        review=review,
        registry_id=f"NCT0300{number:04d}",
        title=f"STROKE-{number}: a trial",
        status=status,
        year=2000 + number,
        n_randomised=240,
        **fields,
    )
    if table:
        trial.table = make_table(trial, trial_frame(seed=number) if frame is None else frame)
    return trial


@pytest.fixture
def trial(review):
    """The first of four included trials with harmonised tables (the one contributors are assigned to)."""
    return add_trial(review, 1)


@pytest.fixture
def trials(review, trial):
    return [trial] + [add_trial(review, number) for number in (2, 3, 4)]


@pytest.fixture
def eager():
    """Run queued tasks in this process, as the in-process default does without Redis."""
    import apps.analyses.tasks  # noqa: F401  (registers the task)

    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous
