"""Workbooks as trial teams send them: notes sheets, titles above the header, merged cells, dictionary sheets;
the sheet and header row found (or declared), and what cannot be a table refused with the sheets named."""

import datetime
import io
import zipfile

import openpyxl
import pytest
from django.test import Client

from apps.datasets import selectors, workbooks
from apps.datasets.models import DatasetVersion
from apps.jobs.errors import JobInputError

from .conftest import client_for, parse_job, run_parse, stored_bytes

pytestmark = pytest.mark.django_db
PARSED, FAILED = DatasetVersion.Status.PARSED, DatasetVersion.Status.FAILED


def saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def notes_sheet(workbook, title="Notes"):
    sheet = workbook.create_sheet(title)
    sheet["A1"] = "BACK-FIT trial: participant data export"
    sheet.merge_cells("A1:F1")
    sheet["A3"] = "Exported on 2024-03-01 by the trial statistician."
    sheet["A4"] = "Missing values are left blank."
    sheet["A5"] = "Questions to the data manager."
    return sheet


def data_sheet(workbook, title="Data", rows=12, *, header_row=3):
    sheet = workbook.create_sheet(title)
    sheet["A1"] = "Baseline and outcome data (ITT population)"
    sheet.merge_cells("A1:E1")
    # Row 2 is blank; the header is on row 3.
    for column, name in enumerate(["patid", "arm", "age", "weight", "randdate"], start=1):
        sheet.cell(row=header_row, column=column, value=name)
    for index in range(rows):
        sheet.append(
            [f"P{index:03d}", 1 + index % 2, 30 + index, 60.5 + index, datetime.datetime(2021, 1, 1 + index % 28)]
        )
    return sheet


def dictionary_sheet(workbook):
    sheet = workbook.create_sheet("Dictionary")
    sheet.append(["Variable", "Label", "Codes"])
    for name, label, codes in [
        ("patid", "Participant", ""),
        ("arm", "Arm", "1=Exercise, 2=Usual care"),
        ("age", "Age (years)", ""),
        ("weight", "Weight (kg)", ""),
        ("randdate", "Randomisation date", ""),
    ]:
        sheet.append([name, label, codes])
    return sheet


def book(*builders) -> openpyxl.Workbook:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for build in builders:
        build(workbook)
    return workbook


def test_the_data_sheet_is_read_under_its_title_not_the_notes_sheet_before_it(ingest):
    content = saved(book(notes_sheet, data_sheet, dictionary_sheet))
    version = ingest("export.xlsx", content)
    assert version.status == PARSED, version.error
    assert (version.n_rows, version.n_columns) == (12, 5)
    assert version.read_options == {
        "sheet": "Data",
        "header_row": 3,
        "chosen_by": "detected",
        "sheets": ["Notes", "Data", "Dictionary"],
        "other_sheets": ["Notes", "Dictionary"],
    }
    types = {entry.name: entry.type for entry in version.dictionary.all()}
    assert types == {"patid": "text", "arm": "integer", "age": "integer", "weight": "number", "randdate": "date"}
    frame = selectors.version_frame(version)
    assert frame["patid"].tolist()[:2] == ["P000", "P001"]
    assert frame["weight"].iloc[-1] == 71.5


def test_the_api_and_the_page_say_which_sheet_and_header_row_were_read(ingest, analyst, client):
    version = ingest("export.xlsx", saved(book(notes_sheet, data_sheet, dictionary_sheet)))
    detail = client_for(analyst).get(f"/api/v1/datasets/{version.pk}/").json()
    assert detail["read_options"]["sheet"] == "Data" and detail["read_options"]["header_row"] == 3
    assert detail["read_options"]["other_sheets"] == ["Notes", "Dictionary"]
    client.force_login(analyst)
    page = client.get(f"/datasets/{version.pk}/").content.decode()
    assert "Read from sheet 'Data', header on row 3; other sheets, not read: 'Notes', 'Dictionary'." in page


def test_a_group_row_of_merged_cells_above_the_header_gives_way_to_it(ingest):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Outcomes"
    sheet["A1"] = "Trial XYZ"
    sheet.merge_cells("A1:E1")
    sheet["B3"], sheet["D3"] = "Baseline", "Week 12"
    sheet.merge_cells("B3:C3")
    sheet.merge_cells("D3:E3")
    sheet.append(["id", "pain_0", "function_0", "pain_12", "function_12"])
    for index in range(6):
        sheet.append([index + 1, 7 - index % 3, 20 + index, 4 + index % 2, 30 - index])
    version = ingest("outcomes.xlsx", saved(workbook))
    assert version.status == PARSED, version.error
    assert version.read_options["header_row"] == 4
    names = [entry.name for entry in version.dictionary.all()]
    assert names == ["id", "pain_0", "function_0", "pain_12", "function_12"]
    assert version.n_rows == 6


def test_an_unnamed_index_column_and_a_table_away_from_a1(ingest):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    # As pandas writes a frame with its index: the index column has no name. The table starts in column B.
    sheet["C2"], sheet["D2"], sheet["E2"] = "id", "arm", "age"
    for index in range(4):
        sheet.cell(row=3 + index, column=2, value=index)
        sheet.cell(row=3 + index, column=3, value=f"S{index}")
        sheet.cell(row=3 + index, column=4, value="A" if index % 2 else "B")
        sheet.cell(row=3 + index, column=5, value=40 + index)
    version = ingest("frame.xlsx", saved(workbook))
    assert version.status == PARSED, version.error
    assert version.read_options["first_column"] == "B" and version.read_options["header_row"] == 2
    assert [entry.name for entry in version.dictionary.all()] == ["column_1", "id", "arm", "age"]
    assert selectors.version_frame(version)["column_1"].tolist() == [0, 1, 2, 3]


def test_notes_below_the_table_after_a_blank_row_are_left_out_and_reported(ingest):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "arm", "age"])
    for index in range(5):
        sheet.append([index, 1, 50 + index])
    sheet.append([])
    sheet.append(["* age at randomisation"])
    sheet.append(["Source: trial database, locked 2023-11-30"])
    version = ingest("notes.xlsx", saved(workbook))
    assert version.status == PARSED, version.error
    assert version.n_rows == 5
    assert version.read_options["rows_left_out"] == "8-9"


def test_declaring_the_sheet_and_header_row_through_the_api_reads_them(ingest, analyst):
    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Summary"
    summary.append(["centre", "n", "mean_age", "sd_age"])
    for index in range(30):
        summary.append([f"C{index}", 10 + index, 50.5, 9.1])
    data = workbook.create_sheet("Patients")
    data.append(["exported 2024", None])
    data.append(["id", "age"])
    for index in range(8):
        data.append([index, 40 + index])
    version = ingest("book.xlsx", saved(workbook))
    # The largest table is the summary: read unless the uploader says otherwise.
    assert version.read_options["sheet"] == "Summary"
    client = client_for(analyst)
    url = f"/api/v1/datasets/{version.pk}/declarations/"
    refused = client.put(url, {"sheet": "Participants"}, format="json")
    assert refused.status_code == 400
    assert "no sheet 'Participants'; its sheets are 'Summary', 'Patients'" in refused.json()["error"]["message"]
    response = client.put(url, {"sheet": "Patients", "header_row": 2}, format="json")
    assert response.status_code == 202, response.json()
    version = run_parse(version)
    assert version.status == PARSED, version.error
    assert version.read_options["sheet"] == "Patients" and version.read_options["chosen_by"] == "declaration"
    assert [entry.name for entry in version.dictionary.all()] == ["id", "age"]
    assert version.n_rows == 8
    assert client.get(url).json()["declarations"] == {"sheet": "Patients", "header_row": 2}


def test_a_declared_header_row_that_is_empty_fails_with_a_message(ingest, analyst):
    version = ingest("export.xlsx", saved(book(notes_sheet, data_sheet)))
    response = client_for(analyst).put(
        f"/api/v1/datasets/{version.pk}/declarations/", {"sheet": "Data", "header_row": 2}, format="json"
    )
    assert response.status_code == 202
    version = run_parse(version)
    assert version.status == FAILED
    assert "Row 2 of sheet 'Data', declared as the header row, is empty" in version.error
    # The dictionary still shown is the earlier reading's, and the page says so.
    client = Client()
    client.force_login(analyst)
    page = client.get(f"/datasets/{version.pk}/").content.decode()
    assert 'id="earlier-reading"' in page and "this dictionary is from the reading before" in page


def test_a_one_column_sheet_is_not_read_while_another_sheet_holds_a_table(ingest, analyst):
    version = ingest("export.xlsx", saved(book(notes_sheet, data_sheet)))
    client_for(analyst).put(f"/api/v1/datasets/{version.pk}/declarations/", {"sheet": "Notes"}, format="json")
    version = run_parse(version)
    assert version.status == FAILED
    assert "'Notes'" in version.error and "fewer than two columns" in version.error
    assert "Other sheets hold a table: 'Data' (a table of 5 columns and 12 rows, header on row 3)" in version.error


def test_a_workbook_that_failed_can_be_declared_from_its_page(ingest, analyst, client):
    version = ingest("export.xlsx", saved(book(notes_sheet, data_sheet)))
    client_for(analyst).put(f"/api/v1/datasets/{version.pk}/declarations/", {"sheet": "Notes"}, format="json")
    version = run_parse(version)
    assert version.status == FAILED
    client.force_login(analyst)
    page = client.get(f"/datasets/{version.pk}/").content.decode()
    assert 'name="sheet"' in page and '<option value="Data">Data</option>' in page
    response = client.post(f"/datasets/{version.pk}/declarations/", {"sheet": "Data", "header_row": "3"})
    assert response.status_code == 302
    version = run_parse(version)
    assert version.status == PARSED, version.error
    assert version.declarations == {"sheet": "Data", "header_row": 3}


def test_a_workbook_without_any_table_fails_naming_its_sheets(ingest):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Cover"
    workbook.active["A1"] = 2024
    workbook.active["B1"] = 3.5
    notes_sheet(workbook, "README")
    content = saved(workbook)
    version = ingest("empty.xlsx", content)
    assert version.status == FAILED
    assert "No sheet of the workbook holds a table" in version.error
    assert "'Cover' (no table" in version.error and "'README' (no table" in version.error
    assert stored_bytes(version) == content


def test_a_workbook_with_a_header_and_no_rows_is_refused(ingest):
    workbook = book(notes_sheet)
    sheet = workbook.create_sheet("Data")
    sheet.append(["Trial ABC"])
    sheet.append([])
    sheet.append(["id", "arm", "age"])
    version = ingest("header.xlsx", saved(workbook))
    assert version.status == FAILED
    assert "sheet 'Data' (header on row 3) has a header row (id, arm, age) but no data rows" in version.error


def test_text_cells_with_decimal_commas_in_a_workbook_are_numbers(ingest):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "weight", "dose"])
    for index, (weight, dose) in enumerate([("72,5", "1.250,0"), ("80,1", "980,5"), ("65", "1.000")]):
        sheet.append([index, weight, dose])
    version = ingest("eu.xlsx", saved(workbook))
    assert version.status == PARSED, version.error
    frame = selectors.version_frame(version)
    assert frame["weight"].tolist() == [72.5, 80.1, 65.0]
    assert frame["dose"].tolist() == [1250.0, 980.5, 1000.0]
    assert version.dictionary.get(name="weight").source_format == 'decimal ","'


# --------------------------------------------------------------------------------------- hostile workbooks


def bomb(rows_of_padding: int = 40_000_000) -> bytes:
    """A workbook whose sheet has distinct headers, one data row, then tens of MB of whitespace: it packs to a
    few tens of KB and unpacks a thousand times larger. Read in full it would parse."""
    sheet = (
        (
            b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
            b'<c r="B1" t="inlineStr"><is><t>age</t></is></c></row>'
            b'<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>30</v></c></row>'
        )
        + b" " * rows_of_padding
        + b"</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_the_bomb_would_be_read_without_the_check():
    # The same construction, small enough to read: openpyxl reads it as a two-column table with distinct
    # headers, so only the container check stands between the large one and a full read.
    workbook = openpyxl.load_workbook(io.BytesIO(bomb(rows_of_padding=1000)), read_only=True)
    assert list(workbook["Data"].iter_rows(values_only=True)) == [("id", "age"), (1, 30)]


def test_a_zip_bomb_with_distinct_headers_is_refused_by_its_ratio_before_reading(ingest, settings):
    settings.DATASET_XLSX_MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024  # the total is allowed: the ratio is not
    content = bomb()
    assert len(content) < 200_000
    version = ingest("results.xlsx", content)
    assert version.status == FAILED
    assert "part 'xl/worksheets/sheet1.xml' unpacks from" in version.error
    assert "to 40 MB" in version.error and "times its packed size (the limit is 100)" in version.error
    assert parse_job(version).attempts == 1


def test_each_size_limit_names_the_sizes(ingest, settings):
    settings.DATASET_XLSX_MAX_UNCOMPRESSED_BYTES = 10_000_000
    version = ingest("results.xlsx", bomb())
    assert "unpacks to 40 MB" in version.error and "over the limit of 10 MB" in version.error
    assert "(from " in version.error and " KB)" in version.error


def test_a_real_large_workbook_passes_the_ratio_check(ingest, settings):
    settings.DATASET_XLSX_MAX_RATIO = 100
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    sheet.append(["id", "arm", "note"])
    for index in range(30_000):
        sheet.append([index, index % 2, "no adverse event reported at this visit"])
    content = saved(workbook)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        part = archive.getinfo("xl/worksheets/sheet1.xml")
    assert part.file_size > workbooks.RATIO_CHECKED_FROM_BYTES
    version = ingest("big.xlsx", content)
    assert version.status == PARSED, version.error
    assert version.n_rows == 30_000


class EndlessSheet:
    """A sheet that yields rows for ever, counting how many were taken."""

    title = "Data"

    def __init__(self):
        self.taken = 0

    def iter_rows(self, values_only=True):
        yield ("id", "age")
        while True:
            self.taken += 1
            yield (self.taken, 30)


def test_rows_are_counted_while_streaming_and_reading_stops_over_the_cap():
    sheet = EndlessSheet()
    limits = workbooks.WorkbookLimits(max_rows=1000, max_columns=10, max_uncompressed_bytes=10**9, max_ratio=100)
    with pytest.raises(JobInputError, match="Sheet 'Data' has more than 1,000 rows"):
        workbooks.stream_sheet(sheet, limits)
    assert sheet.taken <= 1000 + workbooks.HEADER_SCAN_ROWS


def test_a_workbook_over_the_row_cap_fails(ingest, settings):
    settings.DATASET_MAX_ROWS = 20
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "age"])
    for index in range(200):
        workbook.active.append([index, 40])
    version = ingest("rows.xlsx", saved(workbook))
    assert version.status == FAILED
    assert "more than 20 rows" in version.error


def test_a_small_data_sheet_wins_over_a_larger_dictionary_describing_it(ingest):
    workbook = openpyxl.Workbook()
    codebook = workbook.active
    codebook.title = "Sheet1"
    codebook.append(["Variable", "Label", "Type", "Codes"])
    for name in ["id", "arm", "age", "sex", "sbp", "dbp"]:
        codebook.append([name, f"The {name}", "numeric", ""])
    data = workbook.create_sheet("Sheet2")
    data.append(["id", "arm", "age", "sex", "sbp", "dbp"])
    data.append([1, 1, 54, "F", 140, 90])
    data.append([2, 2, 61, "M", 150, 95])
    # 24 cells of codebook against 12 of data: the codebook is larger, but it lists the data's columns.
    version = ingest("tiny.xlsx", saved(workbook))
    assert version.status == PARSED, version.error
    assert version.read_options["sheet"] == "Sheet2"
    assert version.n_rows == 2


def test_a_sheet_named_for_the_data_wins_over_a_summary_of_similar_size(ingest):
    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Summary"
    summary.append(["centre", "n", "mean_age"])
    for index in range(8):
        summary.append([f"C{index}", 10 + index, 50.5])
    data = workbook.create_sheet("Trial data")
    data.append(["id", "age", "arm"])
    for index in range(6):
        data.append([index, 40 + index, index % 2])
    version = ingest("book.xlsx", saved(workbook))
    assert version.read_options["sheet"] == "Trial data"


def test_a_hidden_sheet_is_not_read_while_a_visible_one_holds_a_table(ingest):
    def old_export(workbook):
        sheet = data_sheet(workbook, "old_export_v1", rows=200)
        sheet.sheet_state = "hidden"

    version = ingest("hidden.xlsx", saved(book(lambda w: data_sheet(w, "Sheet1", rows=20), old_export)))
    assert version.status == PARSED, version.error
    assert (version.read_options["sheet"], version.n_rows) == ("Sheet1", 20)
    assert version.read_options["hidden_sheets"] == ["old_export_v1"]


def test_other_sheets_holding_tables_are_named_and_the_page_warns(ingest, analyst, client):
    version = ingest(
        "arms.xlsx", saved(book(lambda w: data_sheet(w, "Placebo", rows=40), lambda w: data_sheet(w, "Dexa", rows=38)))
    )
    assert version.status == PARSED, version.error
    assert version.read_options["sheet"] == "Placebo"
    assert version.read_options["other_tables"] == ["Dexa: 38 rows, 5 columns"]
    client.force_login(analyst)
    page = client.get(f"/datasets/{version.pk}/").content.decode()
    assert 'id="other-tables"' in page and "Dexa: 38 rows, 5 columns" in page
    # A notes sheet holds no table: nothing to warn of.
    plain = ingest("plain.xlsx", saved(book(notes_sheet, data_sheet)))
    assert "other_tables" not in plain.read_options


def test_a_repeated_name_in_a_workbook_is_named_by_its_sheet_row_and_columns(ingest):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    for column, name in zip("CDEF", ["patid", "age", "sex", "age"], strict=True):
        sheet[f"{column}2"] = name
    for row in range(3, 8):
        for column, value in zip("CDEF", [f"P{row}", 40 + row, "M", 41 + row], strict=True):
            sheet[f"{column}{row}"] = value
    version = ingest("twice.xlsx", saved(workbook))
    assert version.status == FAILED
    assert "'age' appears twice in the header (columns D and F of row 2, sheet 'Data')" in version.error


@pytest.mark.parametrize(
    "foot",
    [
        [["Total", "", 1500, None, 1865.3]],
        [[], ["Mean (SD)", "", 45.2, None, 70.1], ["Total", "", 1500, None, 1865.3]],
        [["* age at randomisation, in years"]],
    ],
)
def test_totals_means_and_footnotes_under_the_data_are_no_participants(ingest, foot):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patid", "arm", "age", "sex", "weight"])
    for index in range(25):
        sheet.append([f"P{index:03d}", "AB"[index % 2], 40 + index, "MF"[index % 2], 70.0 + index])
    for row in foot:
        sheet.append(row)
    version = ingest("totals.xlsx", saved(workbook))
    assert version.status == PARSED, version.error
    assert version.n_rows == 25
    assert version.read_options["rows_left_out"]
    assert version.dictionary.get(name="age").maximum == "64"


def test_a_last_participant_with_only_an_id_is_kept(ingest):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patid", "arm", "age"])
    for index in range(10):
        sheet.append([f"NB{index:03d}", "AB"[index % 2], 40 + index])
    sheet.append(["NB999"])
    version = ingest("ids.xlsx", saved(workbook))
    assert version.status == PARSED and version.n_rows == 11


def test_a_declared_decimal_comma_reads_a_workbooks_text_cells_and_keeps_its_number_cells(ingest, analyst):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patid", "gewicht"])
    for index in range(15):
        sheet.append([f"P{index:02d}", 70.5 + index])  # number cells
    for index in range(5):
        sheet.append([f"Q{index:02d}", f"{72 + index},5"])  # text typed with a decimal comma
    version = ingest("gewicht.xlsx", saved(workbook))
    assert version.dictionary.get(name="gewicht").type == "text"  # two marks in one column: text until declared
    response = client_for(analyst).put(
        f"/api/v1/datasets/{version.pk}/declarations/", {"variables": {"gewicht": {"decimal": ","}}}, format="json"
    )
    assert response.status_code == 202
    version = run_parse(version)
    entry = version.dictionary.get(name="gewicht")
    assert (entry.type, entry.n_invalid, entry.minimum, entry.maximum) == ("number", 0, "70.5", "84.5")
