"""End to end against R: the 13 BCG vaccine trials (357,347 participants) loaded as a review through the services
(upload, parse, mapping, apply), then pooled in the app two-stage (OR, REML) and one-stage (OR, Laplace); the
results match R's (metafor, glmmTMB) at the contract's tolerances."""

import gzip
import importlib.util
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.files.base import ContentFile

from apps.accounts.models import Role
from apps.analyses import services as analyses
from apps.datasets.selectors import version_parse_job
from apps.datasets.services import dataset_upload
from apps.datasets.tasks import dataset_parse_task
from apps.harmonisation import services as harmonisation
from apps.harmonisation.models import SchemaVariable
from apps.reviews.models import Outcome, Review
from apps.trials.lifecycle import Status
from apps.trials.models import Trial
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


def _checker():
    spec = importlib.util.spec_from_file_location("reference_check", REFERENCE / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_review(coordinator_user) -> tuple[Review, dict[str, Trial]]:
    review = Review.objects.create(title="BCG vaccine against tuberculosis", status=Review.Status.ANALYSING)
    for position, (name, role, kind, allowed) in enumerate(
        [
            ("ID", "participant_id", "text", []),
            ("TREAT", "treatment", "integer", [0, 1]),
            ("TB", "outcome", "integer", [0, 1]),
        ]
    ):
        SchemaVariable.objects.create(
            review=review, position=position, name=name, role=role, type=kind, allowed_values=allowed
        )
    Outcome.objects.create(review=review, name="Tuberculosis", type="binary", measure="OR", is_primary=True)
    with gzip.open(REFERENCE / "data" / "bcg.csv.gz", "rt") as handle:
        rows = pd.read_csv(handle)
    targets = {variable.name: variable for variable in review.schema_variables.all()}
    trials = {}
    for name, group in rows.groupby("trial", sort=True):
        trial = Trial.objects.create(review=review, title=name, status=Status.INCLUDED)
        buffer = io.StringIO()
        group[["id", "treat", "y"]].to_csv(buffer, index=False)
        version, _ = dataset_upload(
            trial=trial, actor=coordinator_user, file=ContentFile(buffer.getvalue().encode(), name="bcg.csv")
        )
        dataset_parse_task(version_parse_job(version).pk)
        version.refresh_from_db()
        assert version.status == "parsed", version.error
        mapping = harmonisation.mapping_create(trial=trial, source_version=version, actor=coordinator_user)
        for target, source in (("ID", "id"), ("TREAT", "treat"), ("TB", "y")):
            harmonisation.mapping_rule_set(
                mapping=mapping,
                target=targets[target],
                actor=coordinator_user,
                category="direct",
                source_variables=[source],
            )
        mapping.refresh_from_db()
        job = harmonisation.mapping_apply(mapping=mapping, actor=coordinator_user)
        harmonisation.mapping_apply_run(job.pk)
        job.refresh_from_db()
        assert job.state == "succeeded", job.error
        trials[name] = trial
    return review, trials


@pytest.fixture
def bcg(db, dataset_root):
    user = UserFactory(username="bcg-coordinator")
    review, trials = _load_review(user)
    MembershipFactory(review=review, user=user, role=Role.COORDINATOR)
    return review, trials, user


def _as_named(result: dict, names: dict[str, str]) -> dict:
    named = json.loads(json.dumps(result))
    for row in named.get("per_trial") or []:
        row["trial"] = names[row["trial"]]
    return named


@pytest.mark.parametrize(
    "options",
    [{"approach": "two-stage", "tau2": "REML", "ci": "wald"}, {"approach": "one-stage", "quadrature": 1}],
    ids=["two-stage OR REML", "one-stage OR Laplace"],
)
def test_bcg_through_the_app_matches_r(bcg, options):
    review, trials, user = bcg
    assert sum(trial.mappings.get().tables.get().n_rows for trial in trials.values()) == 357_347
    analysis = analyses.analysis_create(
        review=review,
        actor=user,
        data={"name": options["approach"], "outcome": review.outcomes.get().pk, **options},
    )
    run, _ = analyses.run_request(analysis=analysis, actor=user)
    analyses.run_execute(run.job_id)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    case = json.loads((REFERENCE / "cases" / "bcg.json").read_text())
    reference = next(
        item
        for item in case["analyses"]
        if all(item["spec"].get(key) == value for key, value in options.items()) and item["spec"]["measure"] == "OR"
    )
    checker = _checker()
    names = {str(trial.pk): name for name, trial in trials.items()}
    problems: list[str] = []
    checker.compare(reference["expect"], _as_named(run.result, names), reference["spec"], [], problems)
    assert problems == []
    assert run.result["pooled"]["k"] == 13
