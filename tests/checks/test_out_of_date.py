"""Checks fall out of date when newer data are parsed or the rules change after the apply; the pages and the API
say so, with the action to take."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.checks import selectors
from apps.harmonisation.models import HarmonisedTable, Mapping
from tests.checks.conftest import make_table
from tests.checks.test_runs import run_checks
from tests.harmonisation.conftest import parsed_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked_table(trial, analyst, eager, django_capture_on_commit_callbacks):
    table = make_table(trial)
    run_checks(table, analyst, django_capture_on_commit_callbacks)
    return table


def integrity_row(user, trial) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    body = client.get(f"/api/v1/reviews/{trial.review_id}/integrity/").json()
    return next(row for row in body["trials"] if row["trial"] == trial.pk) | {"counts": body["counts"]}


def page(user, name, *args) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_checks_up_to_date_after_the_apply(checked_table, trial, analyst):
    row = integrity_row(analyst, trial)
    assert row["out_of_date"] is None and row["check_state"] == "checked"
    assert row["counts"]["trials_out_of_date"] == 0
    assert "Out of date" not in page(analyst, "checks:trial-checks", trial.pk)


def test_rules_changed_after_the_apply_ask_for_a_reapply(checked_table, trial, analyst):
    mapping = checked_table.mapping
    Mapping.objects.filter(pk=mapping.pk).update(revision=2)  # a rule changed since the table was made
    row = integrity_row(analyst, trial)
    assert row["out_of_date"]["action"] == "reapply_mapping" and row["out_of_date"]["mapping"] == mapping.pk
    assert "changed after it was applied" in row["out_of_date"]["reason"]
    assert "Re-apply the mapping" in row["out_of_date"]["reason"]
    assert row["counts"]["trials_out_of_date"] == 1
    trial_page = page(analyst, "checks:trial-checks", trial.pk)
    assert "Out of date" in trial_page
    assert reverse("harmonisation:mapping-apply", args=[mapping.pk]) in trial_page
    assert "Out of date" in page(analyst, "checks:review-integrity", trial.review_id)
    # The re-applied revision's table brings the checks up to date (they then run on it).
    HarmonisedTable.objects.create(
        mapping=mapping,
        mapping_revision=2,
        storage_name=checked_table.storage_name,
        sha256=checked_table.sha256,
        code_version="test",
        n_rows=checked_table.n_rows,
    )
    assert selectors.data_check_state(trial).out_of_date is None


def test_a_newer_parsed_version_asks_for_a_mapping_of_it(checked_table, trial, reviewer):
    parsed_version(trial, number=2)
    row = integrity_row(reviewer, trial)
    assert row["out_of_date"]["action"] == "map_newer_version"
    assert "Version 2 of the data was parsed" in row["out_of_date"]["reason"]
    trial_page = page(reviewer, "checks:trial-checks", trial.pk)
    assert "Out of date" in trial_page and reverse("harmonisation:trial-mappings", args=[trial.pk]) in trial_page


def test_the_trials_check_state_through_the_api(checked_table, trial, other_trial, contributor, outsider):
    client = APIClient()
    client.force_authenticate(contributor)
    url = f"/api/v1/trials/{trial.pk}/check-state/"
    body = client.get(url).json()
    assert body["check_state"] == "checked" and body["harmonised_table"] == checked_table.pk
    assert body["out_of_date"] is None and body["unresolved_findings"] == []
    Mapping.objects.filter(pk=checked_table.mapping_id).update(revision=3)
    behind = client.get(url).json()["out_of_date"]
    assert behind["action"] == "reapply_mapping" and behind["mapping"] == checked_table.mapping_id
    assert client.get(f"/api/v1/trials/{other_trial.pk}/check-state/").status_code == 404
    client.force_authenticate(outsider)
    assert client.get(url).status_code == 404
