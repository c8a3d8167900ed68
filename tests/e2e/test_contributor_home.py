"""A trial team's member, in Chromium: logging in lands on their own home (their trials, the next steps, their
agreement), which follows to the step's page and passes axe-core."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accessibility import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "contributor-home.png"


@pytest.fixture
def contributor_trials(tracked_trial):
    """Two trials assigned to "tomas": one waiting for its data under an agreement that ends soon, one whose
    checks raised a query."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role
    from apps.checks.models import CheckResult, CheckRun, Finding
    from apps.datasets.models import DatasetVersion
    from apps.harmonisation.models import HarmonisedTable, Mapping
    from apps.trials.lifecycle import Status
    from apps.trials.models import Agreement, Trial

    review = tracked_trial.review
    today = timezone.localdate()
    waiting = Trial.objects.create(
        review=review,
        registry_id="ISRCTN2000002",
        title="Pilates for back pain",
        n_randomised=120,
        status=Status.AGREEMENT_SIGNED,
    )
    Agreement.objects.create(
        trial=waiting,
        title="Data-sharing agreement with Leeds",
        status=Agreement.Status.SIGNED,
        signed_on=today - datetime.timedelta(days=340),
        expires_on=today + datetime.timedelta(days=12),
    )
    checked = Trial.objects.create(
        review=review,
        registry_id="NCT03000003",
        title="Yoga in primary care",
        n_randomised=1,
        status=Status.DATA_RECEIVED,
    )
    Agreement.objects.create(
        trial=checked,
        title="Vivli data use agreement",
        status=Agreement.Status.SIGNED,
        signed_on=today - datetime.timedelta(days=30),
        expires_on=today + datetime.timedelta(days=700),
    )
    version = DatasetVersion.objects.create(
        trial=checked,
        number=1,
        sha256="1" * 64,
        size=10,
        original_name="yoga.csv",
        storage_name="yoga",
        status=DatasetVersion.Status.PARSED,
    )
    mapping = Mapping.objects.create(trial=checked, source_version=version, number=1, revision=1)
    table = HarmonisedTable.objects.create(
        mapping=mapping, mapping_revision=1, storage_name="t", sha256="2" * 64, code_version="test", n_rows=1
    )
    run = CheckRun.objects.create(review=review, trial=checked, harmonised_table=table, state="succeeded")
    result = CheckResult.objects.create(
        run=run, code="arm_sizes", title="Arm sizes match the publication", status="fail", sentence="Arm sizes differ."
    )
    Finding.objects.create(result=result, trial=checked)
    user = get_user_model().objects.create_user(username="tomas", password=PASSWORD, first_name="Tomas")
    membership = Membership.objects.create(review=review, user=user, role=Role.CONTRIBUTOR)
    membership.trials.set([waiting, checked])
    return waiting, checked


def test_a_contributor_lands_on_their_home(page, live_server, log_in, contributor_trials):
    waiting, checked = contributor_trials
    log_in("tomas")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your trials")
    expect(page.get_by_role("heading", name="Pipeline")).to_have_count(0)
    expect(page.get_by_text("Response rate")).to_have_count(0)
    expect(page.get_by_text("This agreement expires in 12 days")).to_be_visible()
    expect(page.get_by_role("link", name="Answer 1 open query")).to_be_visible()
    expect(page.get_by_role("link", name="BACK-FIT")).to_have_count(0)
    assert axe_violations(page) == []
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("link", name="Upload your data").click()
    expect(page).to_have_url(f"{live_server.url}/trials/{waiting.pk}/datasets/upload/")
