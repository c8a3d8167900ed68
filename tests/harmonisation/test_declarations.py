"""A version read again with new declarations leaves its harmonised table out of date: the check state says so,
and applying the mapping again builds a new table from the new parse instead of returning the stored one."""

import io

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.checks import selectors as check_selectors
from apps.datasets import services as dataset_services
from apps.datasets.storage import dataset_storage
from apps.datasets.tasks import dataset_parse_task
from apps.harmonisation import services
from apps.harmonisation.models import Mapping
from apps.jobs.models import Job
from tests.harmonisation.test_from_upload import upload_and_parse

pytestmark = pytest.mark.django_db

CSV = b"id,sex,age\n007,M,54\n008,F,-99\n009,M,61\n"


def table_values(table, column: str) -> list:
    with dataset_storage().open(table.storage_name, "rb") as handle:
        return pd.read_parquet(io.BytesIO(handle.read()))[column].tolist()


def check_state(user, trial) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/trials/{trial.pk}/check-state/").json()


def checks_page(user, trial) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("checks:trial-checks", args=[trial.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def applied(trial, schema, analyst, django_capture_on_commit_callbacks):
    """The CSV uploaded, parsed, mapped and applied: (mapping, table)."""
    version = upload_and_parse(trial, analyst, "trial.csv", CSV, django_capture_on_commit_callbacks)
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    for target, source in (("USUBJID", "id"), ("SEX", "sex"), ("AGE", "age")):
        services.mapping_rule_set(
            mapping=mapping, target=schema[target], actor=analyst, category="direct", source_variables=[source]
        )
    return mapping, services.harmonised_table_build(mapping=mapping, actor=analyst)


def test_reading_again_with_declarations_puts_the_table_out_of_date(
    applied, trial, analyst, django_capture_on_commit_callbacks
):
    mapping, table = applied
    version = mapping.source_version
    assert table.input_hashes["parsed_table"] == version.parquet_name
    assert table_values(table, "AGE") == [54, -99, 61]
    assert check_state(analyst, trial)["out_of_date"] is None

    with django_capture_on_commit_callbacks(execute=False):
        dataset_services.dataset_declarations_set(
            version=version, actor=analyst, declarations={"variables": {"age": {"missing_codes": ["-99"]}}}
        )
    waiting = check_state(analyst, trial)["out_of_date"]
    assert waiting["action"] == "await_parse" and waiting["mapping"] == mapping.pk
    assert "is being read again with new declarations" in waiting["reason"]
    # Nothing to apply while the data are being read: the checks page offers no apply button then.
    apply_url = reverse("harmonisation:mapping-apply", args=[mapping.pk])
    assert "is being read again" in checks_page(analyst, trial) and apply_url not in checks_page(analyst, trial)

    dataset_parse_task(Job.objects.filter(kind="dataset_parse").latest("id").pk)
    version.refresh_from_db()
    behind = check_state(analyst, trial)["out_of_date"]
    assert behind["action"] == "reapply_mapping" and behind["mapping"] == mapping.pk
    assert f"Version {version.number} of the data was read again with new declarations" in behind["reason"]
    assert f"Apply mapping {mapping.number} again" in behind["reason"]
    assert apply_url in checks_page(analyst, trial)

    # The same rules on the data read again: a new table, not the one stored for the first parse.
    rebuilt = services.harmonised_table_build(mapping=Mapping.objects.get(pk=mapping.pk), actor=analyst)
    assert rebuilt.pk != table.pk and rebuilt.input_sha256 != table.input_sha256
    assert rebuilt.input_hashes["parsed_table"] == version.parquet_name != table.input_hashes["parsed_table"]
    assert table_values(rebuilt, "AGE") == [54, pd.NA, 61]
    assert check_selectors.out_of_date(trial, rebuilt) is None


def test_a_table_built_before_the_parse_was_named_is_judged_by_the_parse_time(applied, trial):
    mapping, table = applied
    table.input_hashes.pop("parsed_table")
    table.save(update_fields=["input_hashes"])
    assert check_selectors.out_of_date(trial, table) is None
    version = mapping.source_version
    version.parsed_at = table.created_at + pd.Timedelta(minutes=1)
    version.save(update_fields=["parsed_at"])
    assert check_selectors.out_of_date(trial, table).action == check_selectors.REAPPLY
