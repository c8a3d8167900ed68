"""Real SAS7BDAT files (tests/data/sas) uploaded through the API: the format, the dictionary, the typed table, a
mapping applied to it, and a file cut short."""

import datetime
import gzip
import hashlib
import importlib.util
import io
import struct
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.datasets import selectors
from apps.datasets.models import DatasetVersion
from apps.datasets.storage import dataset_storage
from apps.harmonisation import services as harmonisation
from apps.jobs.models import Job

from .conftest import parse_job, run_parse, stored_bytes

pytestmark = pytest.mark.django_db

SAS_DATA = Path(__file__).resolve().parent.parent / "data" / "sas"
SAS7BDAT = DatasetVersion.Format.SAS7BDAT
IRIS_SHA256 = "b25ae02490f8f8e384e4dab3011e26fc8d26b7f28da113d269153faa16e65dcf"
# Each fixture, the name it is uploaded under (the extension must not matter) and the encoding its header names.
TRIAL_FILES = [
    ("trial.sas7bdat", "data.bin", "UTF-8"),
    ("trial_rle.sas7bdat", "baseline.csv", "UTF-8"),
    ("trial_wlatin1.sas7bdat", "trial_wlatin1.sas7bdat", "WINDOWS-1252"),
]


def fixture_script():
    """The script that wrote the trial files, for the values it wrote (it runs nothing when imported)."""
    spec = importlib.util.spec_from_file_location("sas_fixtures", SAS_DATA / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def post(api, trial, content: bytes, name: str):
    data = {"file": SimpleUploadedFile(name, content)}
    return api.post(f"/api/v1/trials/{trial.pk}/datasets/", data, format="multipart")


def upload_and_parse(api, trial, content: bytes, name: str) -> dict:
    """Upload through the API, run the parse job as the worker would, and return the version's detail."""
    response = post(api, trial, content, name)
    assert response.status_code == 202, response.content
    version = run_parse(DatasetVersion.objects.get(pk=response.json()["id"]))
    return api.get(f"/api/v1/datasets/{version.pk}/").json()


def dictionary(detail: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in detail["dictionary"]}


VISIT_LABEL = "Date and time of the first visit"
# What the dictionary says of each variable of the trial files: label, type, SAS format, missing, min, max.
TRIAL_DICTIONARY = {
    "SUBJID": ("Participant identifier", "text", "$8.", 0, "", ""),
    "ARM": ("Randomised arm", "integer", "ARMF", 0, "1", "2"),
    "AGE": ("Age at randomisation (years)", "number", "8.2", 2, "34.5", "67.25"),
    "VISITS": ("Number of visits attended", "integer", "BEST12", 0, "0", "12"),
    "RANDDT": ("Date of randomisation", "date", "DATE9", 1, "2019-12-31", "2020-06-30"),
    # Personal data: the dictionary gives no range of dates of birth (the earliest and latest are people's).
    "BRTHDT": ("Date of birth", "date", "YYMMDD10", 0, "", ""),
    "VISITDTM": (VISIT_LABEL, "datetime", "DATETIME20", 1, "2020-01-02T08:00:00", "2020-07-01T23:59:59"),
    # A blank SAS text value is SAS's missing text value.
    "CENTRE": ("Recruiting centre", "text", "$20.", 1, "", ""),
    "COMMENT": ("Investigator's comment", "text", "$1000.", 4, "", ""),
}


@pytest.mark.parametrize(("fixture", "upload_name", "encoding"), TRIAL_FILES)
def test_a_sas_file_is_read_with_its_labels_formats_and_types(api, trial, fixture, upload_name, encoding):
    content = (SAS_DATA / fixture).read_bytes()
    detail = upload_and_parse(api, trial, content, upload_name)
    assert detail["status"] == "parsed", detail["error"]
    assert detail["detected_format"] == SAS7BDAT
    assert detail["original_name"] == upload_name
    assert detail["read_options"] == {"encoding": encoding}
    assert (detail["n_rows"], detail["n_columns"]) == (6, 9)
    entries = dictionary(detail)
    assert list(entries) == list(TRIAL_DICTIONARY)
    described = {
        name: (e["label"], e["type"], e["source_format"], e["n_missing"], e["minimum"], e["maximum"])
        for name, e in entries.items()
    }
    assert described == TRIAL_DICTIONARY
    assert [value for value, _ in entries["SUBJID"]["top_values"]] == ["007", "012", "0500", "103", "2040", "981"]
    assert entries["ARM"]["top_values"] == [["1", 3], ["2", 3]]
    assert entries["CENTRE"]["n_distinct"] == 5
    assert entries["AGE"]["value_labels"] == {}


@pytest.mark.parametrize(("fixture", "upload_name", "encoding"), TRIAL_FILES)
def test_the_typed_table_holds_the_values_sas_stored(api, trial, fixture, upload_name, encoding):
    detail = upload_and_parse(api, trial, (SAS_DATA / fixture).read_bytes(), upload_name)
    frame = selectors.version_frame(DatasetVersion.objects.get(pk=detail["id"]))
    assert frame["SUBJID"].tolist() == ["007", "012", "103", "2040", "0500", "981"]
    assert str(frame["SUBJID"].dtype) == "string"
    assert frame["ARM"].tolist() == [1, 2, 1, 2, 2, 1] and str(frame["ARM"].dtype) == "Int64"
    # . and the special missing value .A are both missing.
    assert frame["AGE"].isna().tolist() == [False, False, True, False, True, False]
    assert frame["AGE"].dropna().tolist() == [34.5, 51.0, 67.25, 45.0]
    assert frame["RANDDT"].iloc[0] == pd.Timestamp("2020-01-05") and pd.isna(frame["RANDDT"].iloc[5])
    assert frame["BRTHDT"].iloc[3] == pd.Timestamp("1952-01-01")
    assert frame["VISITDTM"].iloc[1] == pd.Timestamp("2020-02-01 14:00:15") and pd.isna(frame["VISITDTM"].iloc[2])
    assert frame["CENTRE"].tolist()[:3] == ["Zürich", "São Paulo", "Málaga"]
    assert pd.isna(frame["CENTRE"].iloc[3])
    comments = frame["COMMENT"].tolist()
    assert comments[1] == "Withdrew consent"
    assert comments[2] == fixture_script().LONG_COMMENT and len(comments[2]) == 674
    assert [pd.isna(value) for value in comments] == [True, False, False, True, True, True]


def test_every_value_written_comes_back(api, trial):
    """The whole table against the script's own rows, so a value the checks above skip cannot go wrong unseen."""
    script = fixture_script()
    detail = upload_and_parse(api, trial, (SAS_DATA / "trial_rle.sas7bdat").read_bytes(), "trial_rle.sas7bdat")
    frame = selectors.version_frame(DatasetVersion.objects.get(pk=detail["id"]))
    for variable in script.VARIABLES:
        for row, written in enumerate(variable.values):
            read = frame[variable.name].iloc[row]
            if written in (None, "") or isinstance(written, script.Special):
                assert pd.isna(read), (variable.name, row, read)
            elif isinstance(written, datetime.date):
                assert read == pd.Timestamp(written), (variable.name, row, read)
            else:
                assert read == written, (variable.name, row, read)


def test_a_file_written_by_sas_itself(api, trial):
    content = gzip.decompress((SAS_DATA / "iris.sas7bdat.gz").read_bytes())
    assert hashlib.sha256(content).hexdigest() == IRIS_SHA256
    detail = upload_and_parse(api, trial, content, "iris.sas7bdat")
    assert detail["status"] == "parsed", detail["error"]
    assert detail["detected_format"] == SAS7BDAT
    assert detail["read_options"] == {"encoding": "WINDOWS-1252"}
    assert (detail["n_rows"], detail["n_columns"]) == (150, 5)
    entries = dictionary(detail)
    assert {name: (e["type"], e["source_format"], e["label"]) for name, e in entries.items()} == {
        "Sepal_Length": ("number", "BEST12", ""),
        "Sepal_Width": ("number", "BEST12", ""),
        "Petal_Length": ("number", "BEST12", ""),
        "Petal_Width": ("number", "BEST12", ""),
        "Species": ("text", "$6", ""),
    }
    assert (entries["Sepal_Length"]["minimum"], entries["Sepal_Length"]["maximum"]) == ("4.3", "7.9")
    assert (entries["Petal_Width"]["minimum"], entries["Petal_Width"]["maximum"]) == ("0.1", "2.5")
    assert entries["Species"]["top_values"] == [["setosa", 50], ["versic", 50], ["virgin", 50]]
    frame = selectors.version_frame(DatasetVersion.objects.get(pk=detail["id"]))
    assert frame.iloc[0].tolist() == [5.1, 3.5, 1.4, 0.2, "setosa"]
    assert frame["Sepal_Length"].sum() == pytest.approx(876.5)


def test_a_mapping_of_a_sas_upload_builds_the_harmonised_table(api, trial, review, analyst, coordinator):
    detail = upload_and_parse(api, trial, (SAS_DATA / "trial.sas7bdat").read_bytes(), "data.bin")
    version = DatasetVersion.objects.get(pk=detail["id"])
    schema = {
        spec["name"]: harmonisation.schema_variable_create(review=review, actor=coordinator, **spec)
        for spec in [
            dict(name="USUBJID", role="participant_id", type="text"),
            dict(name="TRT01P", role="treatment", type="category", allowed_values=["intervention", "control"]),
            dict(name="RANDDT", role="randomisation_date", type="date"),
            dict(name="AGE", role="covariate", type="number", unit="year", minimum=40, maximum=100),
        ]
    }
    mapping = harmonisation.mapping_create(trial=trial, source_version=version, actor=analyst)
    rules = [
        ("USUBJID", "direct", ["SUBJID"], {}),
        ("TRT01P", "treatment_arms", ["ARM"], {"arms": {"1": "intervention", "2": "control"}}),
        ("RANDDT", "direct", ["RANDDT"], {}),
        ("AGE", "direct", ["AGE"], {}),
    ]
    for target, category, sources, parameters in rules:
        harmonisation.mapping_rule_set(
            mapping=mapping,
            target=schema[target],
            actor=analyst,
            category=category,
            source_variables=sources,
            parameters=parameters,
            rationale="ARMF format: 1 = exercise, 2 = usual care",
        )

    table = harmonisation.harmonised_table_build(mapping=mapping, actor=coordinator)
    with dataset_storage().open(table.storage_name, "rb") as handle:
        frame = pd.read_parquet(io.BytesIO(handle.read()))
    assert frame["USUBJID"].tolist() == ["007", "012", "103", "2040", "0500", "981"]
    assert frame["TRT01P"].tolist() == ["intervention", "control", "intervention", "control", "control", "intervention"]
    randomised = pd.to_datetime(frame["RANDDT"])
    assert randomised.iloc[:5].tolist() == [
        pd.Timestamp(day) for day in ("2020-01-05", "2020-02-01", "2020-03-09", "2019-12-31", "2020-06-30")
    ]
    assert pd.isna(randomised.iloc[5])
    assert frame["AGE"].iloc[0] == 34.5 and frame["AGE__flag"].iloc[0] == "below minimum 40: 34.5"
    assert frame["AGE"].iloc[[2, 4]].isna().all()
    assert table.input_hashes["source_sha256"] == version.sha256


def sas_layout(content: bytes) -> tuple[int, int, int]:
    """Header size, page size and page count from a 64-bit SAS header (alignment byte 0x33 at offset 32)."""
    assert content[32] == 0x33, "the fixtures are 64-bit SAS files"
    header_size, page_size, page_count = struct.unpack_from("<IIQ", content, 196)
    return header_size, page_size, page_count


@pytest.mark.parametrize("fixture", ["trial.sas7bdat", "trial_rle.sas7bdat"])
def test_a_sas_file_cut_inside_its_pages_fails_and_is_kept(api, trial, fixture):
    whole = (SAS_DATA / fixture).read_bytes()
    header_size, page_size, page_count = sas_layout(whole)
    assert len(whole) == header_size + page_size * page_count
    # Halfway through the last page: the second data page of the plain file, the compressed rows of the other.
    content = whole[: header_size + page_size * (page_count - 1) + page_size // 2]
    response = post(api, trial, content, fixture)
    assert response.status_code == 202, response.content
    version = run_parse(DatasetVersion.objects.get(pk=response.json()["id"]))
    assert version.status == DatasetVersion.Status.FAILED
    assert version.detected_format == SAS7BDAT
    assert version.error.startswith("The SAS file cannot be read: it is damaged or truncated")
    job = parse_job(version)
    assert (job.state, job.attempts, job.error) == (Job.State.FAILED, 1, version.error)
    assert stored_bytes(version) == content
    assert not version.dictionary.exists() and not version.parquet_name
    failed = api.get(f"/api/v1/datasets/{version.pk}/").json()
    assert (failed["status"], failed["error"]) == ("failed", version.error)


@pytest.mark.parametrize(("writer", "suffix"), [(pyreadstat.write_sav, "sav"), (pyreadstat.write_dta, "dta")])
def test_an_empty_text_value_is_missing_in_spss_and_stata_files_too(ingest, tmp_path, writer, suffix):
    path = tmp_path / f"centres.{suffix}"
    writer(pd.DataFrame({"centre": ["Zürich", "", "Lyon"]}), str(path))
    version = ingest(path.name, path.read_bytes())
    assert version.status == DatasetVersion.Status.PARSED, version.error
    entry = version.dictionary.get(name="centre")
    assert (entry.type, entry.n_missing, entry.n_distinct) == ("text", 1, 2)
    assert selectors.version_frame(version)["centre"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("fixture", ["trial.sas7bdat", "trial_rle.sas7bdat"])
@pytest.mark.parametrize(
    ("setting", "limit", "message"),
    [("DATASET_MAX_ROWS", 5, "more than 5 rows"), ("DATASET_MAX_COLUMNS", 8, "9 columns; the limit is 8")],
)
def test_the_row_and_column_limits_apply_to_sas_files(ingest, settings, fixture, setting, limit, message):
    setattr(settings, setting, limit)
    content = (SAS_DATA / fixture).read_bytes()
    version = ingest(fixture, content)
    assert version.status == DatasetVersion.Status.FAILED
    assert message in version.error
    assert stored_bytes(version) == content
