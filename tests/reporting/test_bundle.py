"""The reproducibility bundle: its manifest, which trials' data it holds, and reproduce.R run for real with R
(metafor, lme4, survival) on the demo's bundle and on analyses of every kind the app offers."""

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import Membership, Role
from apps.analyses.models import AnalysisRun
from apps.core.models import AuditEvent, DataAccessEvent
from apps.demo.builder import DEMO_REGISTRATION
from apps.reporting.models import BundleExport
from apps.reviews.models import Review
from apps.trials.lifecycle import Status
from tests.analyses.conftest import add_trial, outcome, trial_frame
from tests.conftest import add_member
from tests.reporting.conftest import define, run_now, signed

pytestmark = pytest.mark.django_db
RSCRIPT = shutil.which("Rscript")


def bundle_of(api_as, user, review) -> zipfile.ZipFile:
    response = api_as(user).get(f"/api/v1/reviews/{review.pk}/bundle.zip")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def run_reproduce(archive: zipfile.ZipFile, folder) -> subprocess.CompletedProcess:
    assert RSCRIPT, "reproduce.R needs R (apt-get install r-base-core r-cran-metafor r-cran-lme4 r-cran-survival)"
    archive.extractall(folder)
    return subprocess.run(
        [RSCRIPT, "reproduce.R"], cwd=folder, capture_output=True, text=True, timeout=600, check=False
    )


def assert_manifest(archive: zipfile.ZipFile) -> dict:
    manifest = json.loads(archive.read("manifest.json"))
    listed = {item["path"]: item for item in manifest["files"]}
    assert set(listed) == set(archive.namelist()) - {"manifest.json"}
    for path, item in listed.items():
        content = archive.read(path)
        assert item["bytes"] == len(content), path
        assert item["sha256"] == hashlib.sha256(content).hexdigest(), path
    return manifest


# --------------------------------------------------------------------------------------------------- the demo


@pytest.fixture
def demo(dataset_root):
    call_command("load_demo", stdout=StringIO())
    return Review.objects.get(registration=DEMO_REGISTRATION)


def test_reproduce_r_reproduces_every_analysis_of_the_demo(api_as, demo, tmp_path):
    analyst = Membership.objects.get(review=demo, role=Role.ANALYST).user
    archive = bundle_of(api_as, analyst, demo)
    manifest = assert_manifest(archive)
    assert len(manifest["analyses"]) == 3
    assert manifest["trials_withheld"] == []
    for entry in manifest["analyses"]:
        folder = entry["folder"]
        for name in ("spec.json", "result.json", "run.json", "stage-one.csv"):
            assert f"{folder}/{name}" in archive.namelist()
        run = AnalysisRun.objects.get(pk=entry["run"])
        assert json.loads(archive.read(f"{folder}/spec.json")) == run.spec
        assert json.loads(archive.read(f"{folder}/result.json")) == run.result
    for name in ("README.md", "reproduce.R", "schema.csv", "harmonisation-log.csv"):
        assert name in archive.namelist()
    assert any(name.startswith("dictionaries/") for name in archive.namelist())
    done = run_reproduce(archive, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "reproduced 3/3 analyses"
    assert "pooled estimate" in done.stdout and "DIFFERS" not in done.stdout


# --------------------------------------------------------------------------------------------------- every kind


ANALYSES = [
    # Two-stage: every tau2 estimator, both intervals, adjustment (numbers and a text factor), interactions.
    {"name": "Death OR adjusted, DL, HKSJ", "outcome": "Death", "adjust": ["AGE", "SEX"], "tau2": "DL", "ci": "hksj"},
    {"name": "Death RR, PM", "outcome": "Death", "measure": "RR", "tau2": "PM"},
    {"name": "Death RD, SJ", "outcome": "Death", "measure": "RD", "tau2": "SJ"},
    {"name": "Death RD, FE", "outcome": "Death", "measure": "RD", "tau2": "FE"},
    {"name": "Death OR with published results, EB, HKSJ", "outcome": "Death", "tau2": "EB", "ci": "hksj",
     "aggregate": True},
    {"name": "Death OR, interaction with age, REML", "outcome": "Death", "interaction": "AGE", "tau2": "REML"},
    {"name": "SBP MD, interaction with sex, ML", "outcome": "Systolic blood pressure", "adjust": ["AGE"],
     "interaction": "SEX", "tau2": "ML"},
    {"name": "SBP MD, REML, HKSJ", "outcome": "Systolic blood pressure", "tau2": "REML", "ci": "hksj"},
    {"name": "Stroke HR adjusted, interaction with age, HE", "outcome": "Time to stroke", "adjust": ["SEX"],
     "interaction": "AGE", "tau2": "HE"},
    # One-stage: linear and logistic mixed models, Cox stratified by trial; covariates and interactions.
    {"name": "SBP one-stage, adjusted, interaction", "outcome": "Systolic blood pressure", "approach": "one-stage",
     "adjust": ["AGE", "SEX"], "interaction": "AGE"},
    {"name": "Death one-stage Laplace, adjusted", "outcome": "Death", "approach": "one-stage", "adjust": ["AGE"]},
    {"name": "Death one-stage, 5-point quadrature", "outcome": "Death", "approach": "one-stage", "quadrature": 5},
    {"name": "Stroke one-stage Cox, interaction with sex", "outcome": "Time to stroke", "approach": "one-stage",
     "adjust": ["AGE"], "interaction": "SEX"},
]  # fmt: skip


def test_reproduce_r_reproduces_analyses_of_every_kind(api_as, schema_review, dataset_root, tmp_path):
    review = schema_review
    gaps = trial_frame(seed=5)
    gaps.loc[:7, "AGE"] = None  # participants the models leave out, as the app does
    gaps.loc[20:24, "DEATH"] = None
    gaps.loc[30:33, "TRT01P"] = "crossover"  # neither the intervention's code nor the control's
    trials = [add_trial(review, number) for number in (1, 2, 3, 4)] + [add_trial(review, 5, frame=gaps)]
    for trial in trials:
        signed(trial, may_leave=True)
    # Trials without IPD whose published odds ratios are pooled beside the IPD.
    for number in (6, 7):
        published = {"result_measure": "OR", "result_estimate": 0.7 + number / 100, "result_ci_low": 0.45}
        add_trial(
            review, number, status=Status.DECLINED, table=False, aggregate_available=True, result_ci_high=1.2,
            **published,
        )  # fmt: skip
    for definition in ANALYSES:
        data = {**definition, "outcome": outcome(review, definition["outcome"]).pk}
        run_now(define(review, **data))
    coordinator = add_member(review, Role.COORDINATOR)
    archive = bundle_of(api_as, coordinator, review)
    manifest = assert_manifest(archive)
    assert len(manifest["analyses"]) == len(ANALYSES)
    done = run_reproduce(archive, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"reproduced {len(ANALYSES)}/{len(ANALYSES)} analyses"
    assert done.stdout.count("  reproduced\n") == len(ANALYSES)
    assert "interaction within trials" in done.stdout and "interaction estimate" in done.stdout


# --------------------------------------------------------------------------------------------------- withheld data


def test_trials_whose_data_stay_on_the_platform_are_represented_by_their_stage_one_estimates(
    api_as, schema_review, dataset_root, tmp_path
):
    review = schema_review
    trials = [add_trial(review, number) for number in (1, 2, 3, 4)]
    for trial in trials[:3]:
        signed(trial, may_leave=True)
    signed(trials[3], may_leave=False)
    death = outcome(review, "Death").pk
    two_stage = run_now(define(review, name="Two-stage", outcome=death, tau2="REML"))
    run_now(define(review, name="One-stage", outcome=death, approach="one-stage"))
    analyst = add_member(review, Role.ANALYST)
    archive = bundle_of(api_as, analyst, review)
    manifest = assert_manifest(archive)
    assert manifest["trials_withheld"] == [trials[3].pk]
    assert sorted(manifest["trials_with_data"]) == sorted(trial.pk for trial in trials[:3])
    held = [item for item in json.loads(archive.read(f"analyses/analysis-{two_stage.analysis_id}/run.json"))["inputs"]]
    files = {item["trial"]: item["file"] for item in held}
    assert files[trials[3].pk] is None
    for trial in trials[:3]:
        assert files[trial.pk] in archive.namelist()
    assert len([name for name in archive.namelist() if name.startswith("data/")]) == 3
    stage_one = archive.read(f"analyses/analysis-{two_stage.analysis_id}/stage-one.csv").decode()
    assert f'"{trials[3].pk}","platform"' in stage_one
    assert "provider's platform" in archive.read("README.md").decode()

    done = run_reproduce(archive, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "reproduced 1/2 analyses"
    assert "trials pooled with the app's stage-one estimates" in done.stdout
    assert "NOT RE-RUN: a one-stage model needs every trial's rows" in done.stdout

    export = BundleExport.objects.get(review=review)
    assert export.created_by == analyst and export.trials_withheld == [trials[3].pk]
    assert AuditEvent.objects.filter(object_type="bundleexport", object_id=str(export.pk), actor=analyst).exists()
    # The tables that left with it are reads in the access log, one per trial; the withheld trial is not.
    reads = DataAccessEvent.objects.filter(object_type="bundleexport", object_id=str(export.pk))
    assert sorted(reads.values_list("trial_id", flat=True)) == sorted(export.trials_with_data)
    assert trials[3].pk not in export.trials_with_data and export.trials_with_data
    assert {(read.actor, read.action) for read in reads} == {(analyst, "download")}


# --------------------------------------------------------------------------------------------------- access


def test_only_coordinators_and_analysts_take_the_bundle(api_as, schema_review, dataset_root, outsider):
    review = schema_review
    trial = add_trial(review, 1)
    signed(trial, may_leave=True)
    reviewer = add_member(review, Role.REVIEWER)
    analyst = add_member(review, Role.ANALYST)
    refused = api_as(reviewer).get(f"/api/v1/reviews/{review.pk}/bundle.zip")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert api_as(outsider).get(f"/api/v1/reviews/{review.pk}/bundle.zip").status_code == 404
    empty = api_as(analyst).get(f"/api/v1/reviews/{review.pk}/bundle.zip")
    assert empty.status_code == 409 and empty.json()["error"]["code"] == "nothing_to_bundle"
    assert not BundleExport.objects.exists()


def test_whether_the_data_may_leave_the_platform_is_an_audited_agreement_field(api_as, schema_review):
    trial = add_trial(schema_review, 1, table=False)
    agreement = signed(trial, may_leave=False)
    reviewer = add_member(schema_review, Role.REVIEWER)
    response = api_as(reviewer).patch(
        f"/api/v1/agreements/{agreement.pk}/", {"data_may_leave_platform": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["data_may_leave_platform"] is True
    event = AuditEvent.objects.get(object_type="agreement", object_id=str(agreement.pk), action="update")
    assert event.before["data_may_leave_platform"] is False and event.after["data_may_leave_platform"] is True
    assert event.actor == reviewer
