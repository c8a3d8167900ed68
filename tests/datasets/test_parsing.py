"""Every format written by real writers, read into typed tables and dictionaries."""

import datetime
import io
import pickle

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from apps.datasets import selectors
from apps.datasets.formats import SAS7BDAT_MAGIC, detect_format
from apps.datasets.models import DatasetVersion
from apps.datasets.selectors import version_parse_job

from .conftest import stored_bytes

Format = DatasetVersion.Format
pytestmark = pytest.mark.django_db


def entries(version):
    return {entry.name: entry for entry in version.dictionary.all()}


def frame_for_stats() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patid": ["007", "012", "103"],
            "arm": [1.0, 2.0, 1.0],
            "age": [34.5, 51.0, None],
            "randdt": [datetime.date(2020, 1, 5), datetime.date(2020, 2, 1), datetime.date(2020, 3, 9)],
        }
    )


def written(writer, suffix: str, tmp_path, **kwargs) -> bytes:
    path = tmp_path / f"data.{suffix}"
    writer(frame_for_stats(), str(path), **kwargs)
    return path.read_bytes()


LABELS = {
    "column_labels": ["Participant id", "Randomised arm", "Age at entry (years)", "Date of randomisation"],
    "variable_value_labels": {"arm": {1: "Exercise", 2: "Usual care"}},
}


def test_csv_keeps_identifiers_and_na_as_text(ingest):
    content = b"id,arm,age,status,score\n007,1,34,NA,1.5\n012,2,51,alive,\n103,1,,dead,2.25\n"
    version = ingest("trial.csv", content)
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert version.detected_format == Format.CSV
    assert version.read_options == {"encoding": "utf-8", "delimiter": "comma"}
    assert (version.n_rows, version.n_columns) == (3, 5)
    dictionary = entries(version)
    assert {name: entry.type for name, entry in dictionary.items()} == {
        "id": "text",
        "arm": "integer",
        "age": "integer",
        "status": "text",
        "score": "number",
    }
    assert dictionary["status"].n_missing == 0
    assert dictionary["age"].n_missing == 1
    assert (dictionary["age"].minimum, dictionary["age"].maximum) == ("34", "51")
    assert dictionary["arm"].top_values == [["1", 2], ["2", 1]]
    frame = selectors.version_frame(version)
    assert frame["id"].tolist() == ["007", "012", "103"]
    assert frame["status"].tolist() == ["NA", "alive", "dead"]
    assert frame["age"].isna().tolist() == [False, False, True]
    assert str(frame["arm"].dtype) == "Int64"


def test_tsv_in_windows_1252_with_dates(ingest):
    content = (
        "patient\tcentre\trandomised\n1\tSão Paulo\t05/01/2020\n2\tZürich\t31/12/2020\n3\tLyon\tunknown\n"
        "4\tKöln\t13/02/2020\n5\tMálaga\t14/02/2020\n6\tBergen\t15/02/2020\n"
    )
    version = ingest("trial.txt", content.encode("cp1252"))
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert version.read_options == {"encoding": "cp1252", "delimiter": "tab"}
    dictionary = entries(version)
    randomised = dictionary["randomised"]
    assert (randomised.type, randomised.source_format) == ("date", "%d/%m/%Y")
    assert (randomised.n_invalid, randomised.invalid_examples) == (1, ["unknown"])
    assert (randomised.minimum, randomised.maximum) == ("2020-01-05", "2020-12-31")
    frame = selectors.version_frame(version)
    assert frame["centre"].tolist()[:4] == ["São Paulo", "Zürich", "Lyon", "Köln"]
    assert frame["randomised"].iloc[1] == pd.Timestamp("2020-12-31")


def test_utf8_with_bom_and_semicolons(ingest):
    content = "\ufeffnom;âge\nÉlodie;40\nJosé;41\n".encode()
    version = ingest("trial.csv", content)
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert version.read_options == {"encoding": "utf-8-sig", "delimiter": "semicolon"}
    assert list(entries(version)) == ["nom", "âge"]
    assert selectors.version_frame(version)["nom"].tolist() == ["Élodie", "José"]


def test_quoted_values_with_delimiters_and_newlines(ingest):
    content = b'id,comment\n1,"fell, twice"\n2,"line one\nline two"\n3,""\n'
    version = ingest("trial.csv", content)
    assert version.status == DatasetVersion.Status.PARSED, version.error
    frame = selectors.version_frame(version)
    assert frame["comment"].iloc[0] == "fell, twice"
    assert frame["comment"].iloc[1] == "line one\nline two"
    assert pd.isna(frame["comment"].iloc[2])


def test_xlsx_with_numbers_text_ids_and_dates(ingest, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Baseline"
    sheet.append(["id", "arm", "weight", "visit", "smoker"])
    sheet.append(["007", 1, 71.5, datetime.datetime(2021, 3, 4), True])
    sheet.append(["012", 2, 80, datetime.datetime(2021, 3, 5), False])
    sheet.append(["103", 1, None, None, True])
    path = tmp_path / "baseline.xlsx"
    workbook.save(path)
    version = ingest("baseline.xlsx", path.read_bytes())
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert version.detected_format == Format.XLSX
    assert version.read_options == {
        "sheet": "Baseline",
        "header_row": 1,
        "chosen_by": "detected",
        "sheets": ["Baseline"],
        "other_sheets": [],
    }
    types = {name: entry.type for name, entry in entries(version).items()}
    assert types == {"id": "text", "arm": "integer", "weight": "number", "visit": "date", "smoker": "boolean"}
    frame = selectors.version_frame(version)
    assert frame["id"].tolist() == ["007", "012", "103"]
    assert frame["weight"].iloc[1] == 80.0
    assert frame["smoker"].tolist() == [True, False, True]


@pytest.mark.parametrize(
    ("writer", "suffix", "fmt", "kwargs"),
    [
        (pyreadstat.write_sav, "sav", Format.SAV, LABELS),
        (pyreadstat.write_dta, "dta", Format.DTA, LABELS),
        (pyreadstat.write_xport, "xpt", Format.XPORT, {"column_labels": LABELS["column_labels"]}),
    ],
)
def test_statistical_formats_keep_labels_and_types(ingest, tmp_path, writer, suffix, fmt, kwargs):
    version = ingest(f"data.{suffix}", written(writer, suffix, tmp_path, **kwargs))
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert version.detected_format == fmt
    dictionary = entries(version)
    assert dictionary["patid"].type == "text"
    assert dictionary["arm"].type == "integer"
    assert dictionary["age"].type == "number"
    assert dictionary["age"].n_missing == 1
    assert dictionary["randdt"].type in ("date", "datetime")
    assert dictionary["randdt"].minimum.startswith("2020-01-05")
    assert dictionary["age"].label == "Age at entry (years)"
    if "variable_value_labels" in kwargs:
        assert dictionary["arm"].value_labels == {"1": "Exercise", "2": "Usual care"}
    frame = selectors.version_frame(version)
    assert frame["patid"].tolist() == ["007", "012", "103"]
    assert frame["arm"].tolist() == [1, 2, 1]


def test_old_stata_format_is_detected(tmp_path):
    # Stata 114 and earlier start with the format number, the byte order and a file type of 1.
    assert detect_format(bytes([114, 2, 1, 0]) + b"\x00" * 100).format == Format.DTA
    assert detect_format(bytes([113, 1, 1, 0]) + b"\x00" * 100).format == Format.DTA


def test_sas7bdat_is_detected_from_its_header():
    # pyreadstat cannot write sas7bdat files; the header below is the format's 32-byte magic number as SAS
    # writes it, followed by the alignment bytes and the start of the header block.
    head = SAS7BDAT_MAGIC + b"\x22\x22\x00\x32\x22\x01\x02\x31" + b"\x00" * 200
    assert detect_format(head).format == Format.SAS7BDAT


def test_a_truncated_sas7bdat_fails_with_a_message(ingest):
    version = ingest("data.sas7bdat", SAS7BDAT_MAGIC + b"\x33\x22\x00\x33\x33\x01\x02\x31" + b"\x00" * 400)
    assert version.status == DatasetVersion.Status.FAILED
    assert version.detected_format == Format.SAS7BDAT
    assert version.error.startswith("The SAS file cannot be read: it is damaged or truncated")


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        (b"a,b\n1,2\n", Format.CSV),
        (b"\x00\x01\x02garbage\xff" * 100, Format.BINARY),
    ],
)
def test_text_and_binary_are_told_apart(content, fmt):
    assert detect_format(content).format == fmt


def test_refused_formats_say_why(tmp_path):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": [1]}), buffer)
    parquet = detect_format(buffer.getvalue())
    assert parquet.refusal.startswith("Parquet files are not accepted")
    pickled = detect_format(pickle.dumps({"a": 1}, protocol=4))
    assert pickled.refusal.startswith("Python pickle files are not accepted: they can run code")


def test_the_parse_job_reports_the_time_of_each_step(ingest):
    version = ingest("steps.csv", b"id,age\n1,40\n2,51\n")
    job = version_parse_job(version)
    assert job.state == "succeeded" and job.progress == 100
    steps = job.result["seconds"]
    # Step names as a set: PostgreSQL's jsonb keeps no key order.
    assert set(steps) == {"read", "type", "write_and_describe"}
    # Each step's duration, in seconds to the millisecond (a fast step may take 0.0).
    assert all(isinstance(seconds, float) and seconds == round(seconds, 3) >= 0 for seconds in steps.values())
    assert (version.status, version.n_rows, version.n_columns) == ("parsed", 2, 2)


def test_reading_stored_bytes_returns_the_upload(ingest):
    content = b"a\n1\n"
    version = ingest("a.csv", content)
    assert stored_bytes(version) == content


def test_windows_line_endings_and_utf16_as_excel_saves_unicode_text(ingest):
    content = "id\tcentre\r\n007\tMálaga\r\n012\tŁódź\r\n".encode("utf-16")
    version = ingest("export.txt", content)
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert version.read_options == {"encoding": "utf-16", "delimiter": "tab"}
    frame = selectors.version_frame(version)
    assert frame["id"].tolist() == ["007", "012"]
    assert frame["centre"].tolist() == ["Málaga", "Łódź"]
