"""From an uploaded file to the harmonised table: the real parse, its dictionary, the suggestions, the apply."""

import io

import pandas as pd
import pyreadstat
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.datasets import services as dataset_services
from apps.datasets.storage import dataset_storage
from apps.datasets.tasks import dataset_parse_task
from apps.harmonisation import selectors, services
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db


def upload_and_parse(trial, actor, name: str, content: bytes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        version, created = dataset_services.dataset_upload(
            trial=trial, actor=actor, file=SimpleUploadedFile(name, content)
        )
    assert created
    job = Job.objects.filter(target_type="datasets.datasetversion", target_id=str(version.pk)).latest("id")
    dataset_parse_task(job.pk)
    version.refresh_from_db()
    assert version.status == version.Status.PARSED, version.error
    return version


def spss_file(tmp_path) -> bytes:
    """An SPSS file as an academic group sends it: numeric codes with value labels, variable labels."""
    frame = pd.DataFrame(
        {
            "PATID": ["007", "008", "009", "010"],
            "GENDER": [1.0, 2.0, 2.0, 1.0],
            "AGEYRS": [34.0, 71.0, 15.0, 52.0],
            "GROUP": [1.0, 2.0, 1.0, 2.0],
            "FBG": [99.0, 126.1, 180.16, 540.48],
        }
    )
    path = tmp_path / "trial.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=["Patient number", "Sex", "Age at entry (years)", "Randomised group", "Fasting glucose (mg/dL)"],
        variable_value_labels={"GENDER": {1.0: "Male", 2.0: "Female"}, "GROUP": {1.0: "Metformin", 2.0: "Placebo"}},
    )
    return path.read_bytes()


def test_spss_upload_to_harmonised_table(
    trial, schema, analyst, coordinator, tmp_path, django_capture_on_commit_callbacks
):
    version = upload_and_parse(trial, analyst, "trial.sav", spss_file(tmp_path), django_capture_on_commit_callbacks)
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)

    best = {}
    for item in selectors.mapping_suggest(version, trial.review):
        best.setdefault(item["target"], item)
    assert best["USUBJID"]["source"] == "PATID"
    assert best["SEX"]["source"] == "GENDER" and best["SEX"]["parameters"] == {"map": {"1": "M", "2": "F"}}
    assert best["TRT01P"]["category"] == "treatment_arms"
    assert best["TRT01P"]["parameters"] == {"arms": {"1": "intervention", "2": "control"}}
    assert best["GLUC"]["parameters"] == {"from": "mg/dL", "to": "mmol/L", "analyte": "glucose"}
    for name in ("USUBJID", "SEX", "AGE", "TRT01P", "GLUC"):
        item = best[name]
        services.mapping_rule_set(
            mapping=mapping,
            target=schema[name],
            actor=analyst,
            category=item["category"],
            source_variables=item["source_variables"],
            parameters=item["parameters"],
            rationale="Suggestion checked against the SPSS labels",
        )

    table = services.harmonised_table_build(mapping=mapping, actor=coordinator)
    with dataset_storage().open(table.storage_name, "rb") as handle:
        frame = pd.read_parquet(io.BytesIO(handle.read()))
    assert frame["USUBJID"].tolist() == ["007", "008", "009", "010"]
    assert frame["SEX"].tolist() == ["M", "F", "F", "M"]
    assert frame["TRT01P"].tolist() == ["intervention", "control", "intervention", "control"]
    assert frame["AGE"].tolist() == [34, 71, 15, 52] and frame["AGE__flag"][2] == "below minimum 18: 15"
    assert frame["GLUC"].round(3).tolist() == [5.495, 6.999, 10.0, 30.0]
    assert frame["GLUC__flag"][3] == "above maximum 25: 30"
    assert table.input_hashes["source_sha256"] == version.sha256


def test_csv_identifiers_stay_text(trial, schema, analyst, django_capture_on_commit_callbacks):
    content = b"id,sex,age\n007,M,54\n008,F,61\n009,X,17\n"
    version = upload_and_parse(trial, analyst, "trial.csv", content, django_capture_on_commit_callbacks)
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    for target, source in (("USUBJID", "id"), ("SEX", "sex"), ("AGE", "age")):
        services.mapping_rule_set(
            mapping=mapping, target=schema[target], actor=analyst, category="direct", source_variables=[source]
        )
    preview = selectors.mapping_preview(mapping)
    rows = [dict(zip(preview["columns"], row, strict=True)) for row in preview["rows"]]
    assert [row["USUBJID"] for row in rows] == ["007", "008", "009"]
    assert rows[2]["SEX__flag"] == "not an allowed value: 'X'" and rows[2]["SEX"] == "X"
    assert rows[2]["AGE__flag"] == "below minimum 18: 17"
