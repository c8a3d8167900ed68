"""Fixtures for participant data: a review with a trial under a signed agreement, members in every role."""

import datetime
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Membership, Role
from apps.datasets import services
from apps.datasets.models import DatasetVersion
from apps.datasets.storage import dataset_storage
from apps.datasets.tasks import dataset_parse_task
from apps.jobs.models import Job
from apps.reviews.models import Review
from apps.trials.models import Agreement, Trial


@pytest.fixture(autouse=True)
def dataset_root(settings, tmp_path):
    """Each test stores its files in its own directory."""
    root = tmp_path / "datasets"
    settings.STORAGES = {
        **settings.STORAGES,
        "datasets": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    from django.core.files.storage import storages

    storages._storages.pop("datasets", None)
    yield root
    storages._storages.pop("datasets", None)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def review(db):
    return Review.objects.create(title="Exercise for back pain", status=Review.Status.ACQUIRING)


@pytest.fixture
def trial(review):
    trial = Trial.objects.create(review=review, registry_id="NCT01000001", title="BACK-FIT")
    Agreement.objects.create(
        trial=trial,
        status=Agreement.Status.SIGNED,
        signed_on=timezone.localdate() - datetime.timedelta(days=30),
        expires_on=timezone.localdate() + datetime.timedelta(days=335),
    )
    return trial


@pytest.fixture
def other_trial(db):
    other = Review.objects.create(title="Statins after stroke")
    trial = Trial.objects.create(review=other, title="Statin trial")
    Agreement.objects.create(trial=trial, status=Agreement.Status.SIGNED, signed_on=timezone.localdate())
    return trial


@pytest.fixture
def make_member(review):
    def make(role: str, *, trials=(), username: str | None = None):
        user = get_user_model().objects.create_user(username=username or f"{role}-user", password="x")
        membership = Membership.objects.create(review=review, user=user, role=role)
        membership.trials.set(trials)
        return user

    return make


@pytest.fixture
def analyst(make_member):
    return make_member(Role.ANALYST)


@pytest.fixture
def api(analyst):
    client = APIClient()
    client.force_authenticate(analyst)
    return client


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload_file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def parse_job(version: DatasetVersion) -> Job:
    return Job.objects.filter(target_type="datasets.datasetversion", target_id=str(version.pk)).latest("id")


def run_parse(version: DatasetVersion) -> DatasetVersion:
    """Run the version's parse job in this process, as a worker would, and return the refreshed version."""
    dataset_parse_task(parse_job(version).pk)
    version.refresh_from_db()
    return version


@pytest.fixture
def ingest(trial, analyst):
    """Upload bytes as a new version of the trial through the service and parse them."""

    def do(name: str, content: bytes) -> DatasetVersion:
        version, created = services.dataset_upload(trial=trial, actor=analyst, file=upload_file(name, content))
        assert created
        return run_parse(version)

    return do


def stored_bytes(version: DatasetVersion) -> bytes:
    with dataset_storage().open(version.storage_name, "rb") as handle:
        return handle.read()
