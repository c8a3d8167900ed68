"""Applying mappings to parsed data: the table, the job, the log with its counts, the preview."""

import io

import pandas as pd
import pytest
from celery import current_app

from apps.core.models import AuditEvent
from apps.datasets.storage import dataset_storage
from apps.harmonisation import selectors, services
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.models import Job
from tests.harmonisation.conftest import set_rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Run queued tasks in this process, as the in-process default does without Redis."""
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


def read_table(table: HarmonisedTable) -> pd.DataFrame:
    with dataset_storage().open(table.storage_name, "rb") as handle:
        return pd.read_parquet(io.BytesIO(handle.read()))


def test_harmonised_table_flags_values_and_drops_nothing(mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    table = services.harmonised_table_build(mapping=mapping, actor=analyst)
    frame = read_table(table)
    assert table.n_rows == len(frame) == 6
    assert frame["USUBJID"].tolist() == ["007", "008", "009", "010", "011", "012"]
    assert frame["SEX"].tolist()[:4] == ["M", "F", "M", "F"]
    assert pd.isna(frame["SEX"][4]) and pd.isna(frame["SEX__flag"][4])  # 9 means missing
    assert frame["SEX__flag"][5] == "unmapped source value '3'"
    # Age 17 is below the schema's minimum: kept and flagged.
    assert frame["AGE"][2] == 17 and frame["AGE__flag"][2] == "below minimum 18: 17"
    # 540.48 mg/dL is 30 mmol/L, above the maximum of 25: kept and flagged.
    assert frame["GLUC"][4] == pytest.approx(30.0)
    assert frame["GLUC__flag"][4] == "above maximum 25: 30"
    assert frame["GLUC"][1] == pytest.approx(10.0)
    assert frame["EVENT"].tolist() == [1, 0, 0, 1, 1, 0]
    assert frame["TRT01P"].tolist() == ["intervention", "control"] * 3
    assert str(frame["RANDDT"][0].date()) == "2019-01-05"
    assert table.n_flagged_rows == 3
    assert table.flags["AGE"] == 1 and table.flags["GLUC"] == 1 and table.flags["SEX"] == 1
    assert table.input_hashes["source_sha256"] == mapping.source_version.sha256
    assert table.code_version == services.CODE_VERSION
    assert table.mapping_revision == 8
    event = AuditEvent.objects.get(object_type="harmonisedtable")
    assert event.actor == analyst and event.trial == mapping.trial and event.after["sha256"] == table.sha256


def test_apply_job_end_to_end(mapping, schema, analyst, eager, django_capture_on_commit_callbacks):
    set_rules(mapping, schema, analyst)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.mapping_apply(mapping=mapping, actor=analyst)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.kind == "harmonise" and job.trial == mapping.trial and job.progress == 100
    table = HarmonisedTable.objects.get(pk=job.result["harmonised_table"])
    assert table.job == job and job.result["rows"] == 6 and job.result["flagged_rows"] == 3
    # The job's result says where its time went, step by step.
    assert set(job.result["seconds"]) == {"read", "rules_and_write"}
    assert all(seconds >= 0 for seconds in job.result["seconds"].values())
    # A second delivery of the same job does nothing.
    assert services.mapping_apply_run(job.pk) is None
    assert HarmonisedTable.objects.count() == 1


def test_apply_job_fails_with_a_reason_when_a_rule_breaks(
    mapping, schema, analyst, eager, django_capture_on_commit_callbacks
):
    services.mapping_rule_set(
        mapping=mapping,
        target=schema["AGE"],
        actor=analyst,
        category="expression",
        parameters={"expression": "arm + 1"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = services.mapping_apply(mapping=mapping, actor=analyst)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.attempts == 1
    assert "A rule could not be applied" in job.error and "needs numbers but got text" in job.error


def test_log_after_a_sequence_of_edits(mapping, schema, analyst, coordinator):
    set_rules(mapping, schema, analyst)
    services.harmonised_table_build(mapping=mapping, actor=analyst)
    services.mapping_rule_set(
        mapping=mapping,
        target=schema["GLUC"],
        actor=coordinator,
        category="unit_conversion",
        source_variables=["glu_mgdl"],
        parameters={"from": "mg/dL", "to": "mmol/L", "analyte": "glucose"},
        rationale="Confirmed with the trial statistician: plasma glucose in mg/dL",
        query_reference="Q-7",
    )
    services.mapping_rule_set(
        mapping=mapping,
        target=schema["ITTFL"],
        actor=coordinator,
        category="impossible",
        rationale="The trial did not record the analysis population",
    )
    current = {row["target"]: row for row in selectors.log_rows([mapping])}
    assert list(current) == ["USUBJID", "SEX", "AGE", "GLUC", "TRT01P", "EVENT", "AVAL", "RANDDT", "ITTFL"]
    gluc = current["GLUC"]
    assert gluc["set_by"] == coordinator.username and gluc["query_reference"] == "Q-7"
    assert gluc["rule_revision"] == 2 and gluc["current"] is True
    assert (gluc["units_from"], gluc["units_to"]) == ("mg/dL", "mmol/L")
    assert gluc["factor"] == pytest.approx(1 / 18.016)
    assert gluc["rule"].startswith("GLUC = glu_mgdl * 0.0555")
    # The new revision has not been applied yet, so it has no counts.
    assert gluc["rows_affected"] is None
    age = current["AGE"]
    assert age["set_by"] == analyst.username and age["rows"] == 6
    assert age["rows_affected"] == 5 and age["out_of_range"] == 1 and age["missing"] == 1
    assert age["input_sha256"] == mapping.source_version.sha256 and age["input_version"] == 1
    assert current["SEX"]["rule"] == "SEX = recode(sexn, {'1': 'M', '2': 'F'}); missing: 9"
    assert current["ITTFL"]["status"] == "impossible" and current["ITTFL"]["category"] == "impossible"

    history = [row for row in selectors.log_rows([mapping], history=True) if row["target"] == "GLUC"]
    assert [(row["rule_revision"], row["current"], row["set_by"]) for row in history] == [
        (2, True, coordinator.username),
        (1, False, analyst.username),
    ]
    assert history[1]["superseded_by"] == coordinator.username
    assert history[1]["rows_affected"] == 5  # the counts of the table it produced are kept with it
    assert history[1]["mapping_revision"] < history[0]["mapping_revision"]


def test_preview_computes_the_first_rows_without_a_job(mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    preview = selectors.mapping_preview(mapping, rows=3)
    assert preview["n_rows"] == 3
    assert preview["columns"][:3] == ["source_row", "USUBJID", "USUBJID__flag"]
    assert preview["rows"][2][preview["columns"].index("AGE__flag")] == "below minimum 18: 17"
    assert not Job.objects.exists() and not HarmonisedTable.objects.exists()


def test_preview_reads_the_same_types_as_the_job(version):
    from apps.datasets.selectors import version_frame

    head = selectors.version_head(version, 4)
    whole = version_frame(version)
    assert list(head.dtypes) == list(whole.dtypes)
    pd.testing.assert_frame_equal(head, whole.head(4))
    assert len(selectors.version_head(version, 100)) == 6


def test_a_table_harmonised_in_blocks_is_the_table_harmonised_whole(mapping, schema, analyst, monkeypatch):
    set_rules(mapping, schema, analyst)
    whole = services.harmonised_table_build(mapping=mapping, actor=analyst)
    expected = read_table(whole)
    # Blocks of two rows: the 6 rows come in three blocks, written as the next ones are harmonised.
    HarmonisedTable.objects.all().delete()
    monkeypatch.setattr(services, "BLOCK_ROWS", 2)
    blocks = services.harmonised_table_build(mapping=mapping, actor=analyst)
    frame = read_table(blocks)
    assert frame["source_row"].tolist() == [1, 2, 3, 4, 5, 6]
    # The same values and types: integers with missing values stay integers, dates stay dates.
    assert list(frame.dtypes) == list(expected.dtypes)
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert str(frame["AGE"].dtype) == "Int64" and pd.api.types.is_datetime64_any_dtype(frame["RANDDT"])
    assert (blocks.n_rows, blocks.n_flagged_rows, blocks.flags) == (whole.n_rows, whole.n_flagged_rows, whole.flags)
    by_target = {rule: stats for rule, stats in blocks.rule_stats.items()}
    assert by_target == whole.rule_stats
    assert any(stats["flag_examples"] for stats in blocks.rule_stats.values())
