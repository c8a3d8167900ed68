"""Malformed files end their parse job as failed with a message naming the problem; the upload is kept."""

import io
import re
import zipfile

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from apps.datasets.models import DatasetVersion
from apps.jobs.models import Job

from .conftest import parse_job, stored_bytes

pytestmark = pytest.mark.django_db
FAILED = DatasetVersion.Status.FAILED


def assert_failed(version, content: bytes, *fragments: str) -> None:
    assert version.status == FAILED
    job = parse_job(version)
    assert job.state == Job.State.FAILED
    assert job.attempts == 1, "bad input must not be retried"
    assert version.error == job.error
    for fragment in fragments:
        assert fragment in version.error
    assert stored_bytes(version) == content


def test_a_ragged_row_names_its_line(ingest):
    content = b"id,arm,age\n1,1,30\n2,2,41\n3,1,52,extra\n4,2,60\n"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "Line 4 has 4 values but the header has 3 columns")


def test_a_short_row_names_its_line(ingest):
    content = b"id,arm,age\n1,1,30\n2,2\n3,1,52\n"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "Line 3 has 2 values but the header has 3 columns", "fewer values")


def test_a_csv_cut_inside_a_quoted_value_is_reported_as_truncated(ingest):
    content = b'id,comment\n1,"fine"\n2,"this note was cut off in the mid'
    version = ingest("trial.csv", content)
    assert_failed(version, content, "The value starting on line 3 opens a quote that is never closed", "truncated")


def test_a_csv_cut_in_the_middle_of_a_row(ingest):
    content = b"id,arm,age\n1,1,30\n2,2,41\n3,1"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "Line 4 has 2 values but the header has 3 columns")


def test_binary_garbage_named_csv(ingest):
    content = bytes(range(256)) * 64
    version = ingest("trial.csv", content)
    assert version.detected_format == DatasetVersion.Format.BINARY
    assert_failed(version, content, "neither text nor a format the app reads")


def test_an_encoding_it_cannot_decode_names_the_byte_and_position(ingest):
    # 0x81 is undefined in Windows-1252 and invalid in UTF-8.
    content = b"id,name\n1,Ana\n2,Bj\x81rn\n"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "neither UTF-8 nor Windows-1252/Latin-1", "byte 0x81 at line 3, column 5")


def test_a_repeated_column_name(ingest):
    content = b"id,age,age\n1,30,31\n"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "The column name 'age' appears twice in the header (columns 2 and 3)")


def test_too_many_rows(ingest, settings):
    settings.DATASET_MAX_ROWS = 3
    content = b"id\n1\n2\n3\n4\n"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "more than 3 rows")


def test_too_many_columns(ingest, settings):
    settings.DATASET_MAX_COLUMNS = 2
    content = b"a,b,c\n1,2,3\n"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "3 columns; the limit is 2")


def test_too_many_rows_in_a_statistical_file(ingest, settings, tmp_path):
    settings.DATASET_MAX_ROWS = 2
    path = tmp_path / "data.sav"
    pyreadstat.write_sav(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), str(path))
    content = path.read_bytes()
    version = ingest("data.sav", content)
    assert_failed(version, content, "more than 2 rows")


def test_an_xlsx_whose_declared_size_is_over_the_limit_is_refused_before_reading(ingest, settings, tmp_path):
    settings.DATASET_XLSX_MAX_UNCOMPRESSED_BYTES = 50_000
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "note"])
    for row in range(2000):
        sheet.append([row, "the same words again and again"])
    path = tmp_path / "big.xlsx"
    workbook.save(path)
    content = path.read_bytes()
    assert len(content) < 50_000
    version = ingest("big.xlsx", content)
    assert_failed(version, content, "unpacks to", "over the limit")


def test_a_truncated_xlsx(ingest, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["id"])
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    content = path.read_bytes()[:1500]
    version = ingest("book.xlsx", content)
    assert version.detected_format == DatasetVersion.Format.XLSX
    assert_failed(version, content, "The Excel workbook is damaged or truncated")


def test_a_truncated_stata_file(ingest, tmp_path):
    path = tmp_path / "data.dta"
    pyreadstat.write_dta(pd.DataFrame({"x": [float(i) for i in range(500)]}), str(path))
    content = path.read_bytes()[:-800]
    version = ingest("data.dta", content)
    assert_failed(version, content, "The Stata file cannot be read: it is damaged or truncated")


def test_a_truncated_spss_file(ingest, tmp_path):
    path = tmp_path / "data.sav"
    pyreadstat.write_sav(pd.DataFrame({"x": [float(i) for i in range(500)]}), str(path))
    content = path.read_bytes()[:300]
    version = ingest("data.sav", content)
    assert_failed(version, content, "The SPSS file cannot be read")


def test_a_file_with_only_blank_lines(ingest):
    content = b"\n\n   \n"
    version = ingest("trial.csv", content)
    assert_failed(version, content, "The file is empty")


def test_a_zip_bomb_disguised_as_a_workbook_is_refused_by_its_declared_size(ingest, settings):
    settings.DATASET_XLSX_MAX_UNCOMPRESSED_BYTES = 10 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    content = buffer.getvalue()
    version = ingest("book.xlsx", content)
    assert_failed(version, content, "unpacks to 21 MB")


def _with_sheet_xml(workbook_bytes: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through change()."""
    source, target = zipfile.ZipFile(io.BytesIO(workbook_bytes)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            archive.writestr(item, change(data) if item.filename == "xl/worksheets/sheet1.xml" else data)
    return target.getvalue()


def test_a_workbook_that_declares_the_whole_sheet_as_its_size_is_read_at_once(ingest):
    import re
    import time

    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "age"])
    for index in range(30):
        workbook.active.append([f"P{index}", 40 + index])
    buffer = io.BytesIO()
    workbook.save(buffer)

    def claim_everything(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
        last = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>end</t></is></c></row>'
        return xml.replace(b"</sheetData>", last + b"</sheetData>")

    started = time.monotonic()
    version = ingest("dimension.xlsx", _with_sheet_xml(buffer.getvalue(), claim_everything))
    assert time.monotonic() - started < 60
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert (version.n_rows, version.n_columns) == (30, 2)
    assert version.read_options["rows_left_out"] == "1048576"


@pytest.mark.parametrize(
    ("content", "names"),
    [
        (b"patient_id,age,sex\r001,45,M\r002,51,F\r003,60,M\r", ["patient_id", "age", "sex"]),  # classic Mac
        ("patient_id\tage_group\tcrp\r\n1\t\u226565\t12.5\r\n2\t<65\t3.0\r\n".encode("utf-16"),
         ["patient_id", "age_group", "crp"]),  # UTF-16 whose characters hold the byte of a quote
        (b"patient_id;Gewicht, kg;Temperatur, max\r\n1;72,5;38,5\r\n2;80,1;37,9\r\n3;65,0;39,2\r\n",
         ["patient_id", "Gewicht, kg", "Temperatur, max"]),  # commas in names, semicolons between them
    ],
)  # fmt: skip
def test_text_files_as_other_systems_write_them(ingest, content, names):
    version = ingest("export.csv", content)
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert [entry.name for entry in version.dictionary.order_by("position")] == names
    assert version.n_rows >= 2


def test_a_header_without_a_line_end_or_rows_says_so(ingest):
    version = ingest("header.tsv", b"patient_id\tage\tsex")
    assert version.status == DatasetVersion.Status.FAILED
    assert "has a header row (patient_id, age, sex) but no data rows" in version.error


def test_a_stray_quote_is_named_by_its_line(ingest):
    version = ingest("quote.csv", b'patient_id,device,age\n001,catheter,45\n002,12" catheter,51\n')
    assert version.status == DatasetVersion.Status.FAILED
    assert version.error.startswith("Line 3 holds an unbalanced quote character")


@pytest.mark.parametrize(
    ("content", "names", "rows"),
    [
        (b"Study: ANZ-CAP;Exported: 2024-03-01;;\npatient_id;arm;age;death_28d\nP1;A;45;0\nP2;B;51;1\n",
         ["patient_id", "arm", "age", "death_28d"], 2),
        (b",Baseline,,Outcome\npatient_id,age,sex,death_28d\nP1,45,M,0\nP2,51,F,1\nP3,60,M,0\n",
         ["patient_id", "age", "sex", "death_28d"], 3),
        # An unnamed index column (as pandas writes it) keeps its header.
        (b",patient_id,age,sex\n0,P1,45,M\n1,P2,51,F\n", ["column_1", "patient_id", "age", "sex"], 2),
    ],
)  # fmt: skip
def test_a_csv_header_is_found_under_a_study_line_or_a_group_row(ingest, content, names, rows):
    version = ingest("export.csv", content)
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert [entry.name for entry in version.dictionary.order_by("position")] == names
    assert version.n_rows == rows


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("data.xls", b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook '
         b'xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet/></Workbook>', "Excel 2003 XML spreadsheet"),
        ("data.xls", b"<html><body><table><tr><td>id</td><td>age</td></tr></table></body></html>", "HTML page"),
        ("data.csv", b'[{"id": 1, "age": 40}, {"id": 2, "age": 51}]', "JSON files are not accepted"),
    ],
)  # fmt: skip
def test_documents_that_are_not_tables_are_refused_at_upload_for_what_they_are(trial, analyst, name, content, fragment):
    from apps.core.errors import ApplicationError
    from apps.datasets import services

    from .conftest import upload_file

    with pytest.raises(ApplicationError, match=re.escape(fragment)) as refused:
        services.dataset_upload(trial=trial, actor=analyst, file=upload_file(name, content))
    assert refused.value.status == 415
    assert not DatasetVersion.objects.exists()


def test_an_opendocument_spreadsheet_is_told_to_be_saved_as_xlsx(trial, analyst):
    from apps.core.errors import ApplicationError
    from apps.datasets import services

    from .conftest import upload_file

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(ApplicationError, match=r"OpenDocument spreadsheet \(.ods\) files are not accepted: save"):
        services.dataset_upload(trial=trial, actor=analyst, file=upload_file("data.ods", buffer.getvalue()))


def test_a_utf8_file_with_one_line_in_another_encoding_names_that_line(ingest):
    lines = ["id,city"] + [f"{index},Zürich" for index in range(20)]
    content = ("\n".join(lines) + "\n").encode() + "21,Besançon\n".encode("cp1252") + "22,Genève\n".encode()
    version = ingest("cities.csv", content)
    assert version.status == DatasetVersion.Status.FAILED
    assert version.error.startswith("The file is UTF-8 text but byte 0xE7 at line 22, column 9 is not")
    # A file all in Windows-1252 is still read as such.
    latin = ingest("latin.csv", "id,city\n1,Besançon\n2,Genève\n".encode("cp1252"))
    assert latin.status == DatasetVersion.Status.PARSED and latin.read_options["encoding"] == "cp1252"


def test_a_header_declared_below_many_note_lines_is_read(ingest, analyst):
    from apps.datasets import services
    from apps.datasets.tasks import dataset_parse_task

    content = ("\n".join(f"# note {index}" for index in range(60)) + "\npatient_id,age,sex\n1,45,M\n2,51,F\n").encode()
    version = ingest("notes.csv", content)
    job = services.dataset_declarations_set(version=version, actor=analyst, declarations={"header_row": 61})
    dataset_parse_task(job.pk)
    version.refresh_from_db()
    assert version.status == DatasetVersion.Status.PARSED, version.error
    assert [entry.name for entry in version.dictionary.order_by("position")] == ["patient_id", "age", "sex"]
    assert version.n_rows == 2
