"""Fixtures for the check runs: a review with the checks' schema, members in every role, harmonised tables."""

import hashlib
import io

import pytest
from celery import current_app
from django.core.files.base import ContentFile

from apps.checks.models import CheckSettings
from apps.datasets.storage import store_once
from apps.harmonisation.models import HarmonisedTable, Mapping, SchemaVariable
from apps.harmonisation.services import harmonised_name
from apps.reviews.models import Review
from apps.trials.models import Trial
from tests.checks.data import FACTS, VARIABLES, trial_frame
from tests.harmonisation.conftest import dataset_root, parsed_version  # noqa: F401  (fixture reused)


@pytest.fixture
def review(db):
    review = Review.objects.create(title="Antihypertensives after stroke", status=Review.Status.ACQUIRING)
    for position, variable in enumerate(VARIABLES):
        SchemaVariable.objects.create(
            review=review,
            position=position,
            name=variable.name,
            role=variable.role,
            type=variable.type,
            unit=variable.unit,
            allowed_values=list(variable.allowed_values),
            minimum=variable.minimum,
            maximum=variable.maximum,
        )
    return review


def published(trial: Trial, **fields) -> Trial:
    """The trial's published numbers and its check settings, as FACTS has them."""
    for name, value in fields.items():
        setattr(trial, name, value)
    trial.save()
    CheckSettings.objects.create(
        trial=trial,
        recruitment_start=FACTS.recruitment_start,
        recruitment_end=FACTS.recruitment_end,
        data_cutoff=FACTS.data_cutoff,
        ids_sequential=FACTS.ids_sequential,
    )
    return trial


@pytest.fixture
def trial(review):
    trial = Trial.objects.create(review=review, registry_id="NCT02000001", title="BP-LOW")
    return published(trial, result_n_intervention=100, result_n_control=100)


@pytest.fixture
def other_trial(review):
    trial = Trial.objects.create(review=review, registry_id="NCT02000002", title="BP-ALT")
    return published(trial, result_n_intervention=100, result_n_control=100)


def make_table(trial: Trial, frame=None, number: int = 1) -> HarmonisedTable:
    """A harmonised table of the trial holding `frame`, as the apply job leaves it."""
    frame = trial_frame() if frame is None else frame
    version = parsed_version(trial, number=number)
    mapping = Mapping.objects.create(trial=trial, source_version=version, number=number, revision=1)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    content = buffer.getvalue()
    sha256 = hashlib.sha256(content).hexdigest()
    name = store_once(harmonised_name(sha256), ContentFile(content))
    return HarmonisedTable.objects.create(
        mapping=mapping,
        mapping_revision=1,
        storage_name=name,
        sha256=sha256,
        code_version="test",
        input_hashes={},
        n_rows=len(frame),
    )


@pytest.fixture
def eager():
    """Run queued tasks in this process, as the in-process default does without Redis."""
    import apps.checks.tasks  # noqa: F401  (registers the task)
    import apps.harmonisation.tasks  # noqa: F401

    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous
