"""Text files as trial teams send them: titles above the header, decimal commas and thousands separators,
header-only files, many ragged rows."""

import pandas as pd
import pyreadstat
import pytest

from apps.datasets import selectors
from apps.datasets.models import DatasetVersion

from .conftest import client_for, parse_job, run_parse, stored_bytes

pytestmark = pytest.mark.django_db
PARSED, FAILED = DatasetVersion.Status.PARSED, DatasetVersion.Status.FAILED


def entries(version) -> dict:
    return {entry.name: entry for entry in version.dictionary.all()}


def declare(version, analyst, body) -> DatasetVersion:
    response = client_for(analyst).put(f"/api/v1/datasets/{version.pk}/declarations/", body, format="json")
    assert response.status_code == 202, response.json()
    return run_parse(version)


# ---------------------------------------------------------------------------------------------- titles


def test_a_title_and_a_blank_line_above_the_header_are_passed_over(ingest):
    content = b"BACK-FIT participant data, exported 2024-03-01\n\nid;arm;age\n1;A;30\n2;B;41\n"
    version = ingest("export.csv", content)
    assert version.status == PARSED, version.error
    assert version.read_options == {"encoding": "utf-8", "delimiter": "semicolon", "header_row": 3}
    assert list(entries(version)) == ["id", "arm", "age"]
    assert selectors.version_frame(version)["age"].tolist() == [30, 41]


def test_a_title_padded_with_delimiters_as_a_spreadsheet_saves_it(ingest):
    content = b"Trial XYZ;;;\nData locked 2023-11-30;;;\nid;arm;age;sex\n1;A;30;F\n2;B;41;M\n3;A;52;F\n"
    version = ingest("export.csv", content)
    assert version.status == PARSED, version.error
    assert version.read_options["header_row"] == 3
    assert list(entries(version)) == ["id", "arm", "age", "sex"]


def test_a_declared_header_line_is_read_as_the_header(ingest, analyst):
    content = b"id,arm\nx,y\nid,arm\n1,A\n2,B\n"
    version = ingest("export.csv", content)
    assert selectors.version_frame(version)["id"].tolist() == ["x", "id", "1", "2"]
    version = declare(version, analyst, {"header_row": 3})
    assert version.status == PARSED, version.error
    assert version.read_options["header_row"] == 3
    assert selectors.version_frame(version)["id"].tolist() == [1, 2]


# ---------------------------------------------------------------------------------------- header only


@pytest.mark.parametrize(
    "content",
    [b"id,arm,age\r\n", b"id;arm;age\n\n\n", b"Trial ABC\n\nid;arm;age\n"],
    ids=["header", "header-and-blank-lines", "title-and-header"],
)
def test_a_file_with_a_header_and_no_rows_is_refused(ingest, content):
    version = ingest("empty.csv", content)
    assert version.status == FAILED
    assert "has a header row (id, arm, age) but no data rows: it holds no participant data" in version.error
    assert parse_job(version).attempts == 1
    assert stored_bytes(version) == content


def test_a_statistical_file_without_rows_is_refused(ingest, tmp_path):
    path = tmp_path / "empty.sav"
    empty = pd.DataFrame({"id": pd.Series([], dtype="float64"), "age": pd.Series([], dtype="float64")})
    pyreadstat.write_sav(empty, str(path))
    version = ingest("empty.sav", path.read_bytes())
    assert version.status == FAILED
    assert "The SPSS file declares its variables (id, age) but holds no rows" in version.error


# ------------------------------------------------------------------------------------- decimal commas


EUROPEAN = (
    "patid;gewicht;dosis;alter;größe;bemerkung\n"
    "001;72,5;1.250,75;34;1,82;keine\n"
    "002;80,1;980,5;41;1,75;\n"
    "003;65;1 020,0;29;1,68;leicht\n"
    "004;91,25;12,5;57;1,90;keine\n"
).encode("cp1252")


def test_decimal_commas_in_a_semicolon_file_are_numbers(ingest):
    version = ingest("daten.csv", EUROPEAN)
    assert version.status == PARSED, version.error
    dictionary = entries(version)
    assert {name: entry.type for name, entry in dictionary.items()} == {
        "patid": "text",
        "gewicht": "number",
        "dosis": "number",
        "alter": "integer",
        "größe": "number",
        "bemerkung": "text",
    }
    assert dictionary["gewicht"].source_format == 'decimal ","'
    frame = selectors.version_frame(version)
    assert frame["gewicht"].tolist() == [72.5, 80.1, 65.0, 91.25]
    assert frame["dosis"].tolist() == [1250.75, 980.5, 1020.0, 12.5]
    assert frame["größe"].tolist() == [1.82, 1.75, 1.68, 1.90]
    assert frame["patid"].tolist() == ["001", "002", "003", "004"]


def test_grouping_commas_in_a_comma_file_are_thousands(ingest):
    content = b'id,income,visits\n1,"1,234.50",3\n2,"12,000",4\n3,980.25,2\n'
    version = ingest("income.csv", content)
    frame = selectors.version_frame(version)
    assert frame["income"].tolist() == [1234.5, 12000.0, 980.25]


def test_a_value_readable_either_way_follows_the_files_delimiter(ingest, trial, analyst):
    semicolons = ingest("a.csv", b"id;dose\n1;1,234\n2;2,500\n")
    assert selectors.version_frame(semicolons)["dose"].tolist() == [1.234, 2.5]
    commas = ingest("b.csv", b'id,dose\n1,"1,234"\n2,"2,500"\n')
    assert selectors.version_frame(commas)["dose"].tolist() == [1234, 2500]


def test_a_column_mixing_decimal_marks_stays_text(ingest):
    version = ingest("mixed.csv", b"id;value\n1;12,5\n2;12.5\n3;7\n")
    assert entries(version)["value"].type == "text"
    assert selectors.version_frame(version)["value"].tolist() == ["12,5", "12.5", "7"]


def test_a_file_wide_decimal_mark_decides_the_readings_either_way(ingest, analyst):
    version = ingest("a.csv", b"id;dose;weight\n1;1,234;1.500\n2;2,500;2.250\n")
    frame = selectors.version_frame(version)
    assert frame["dose"].tolist() == [1.234, 2.5] and frame["weight"].tolist() == [1.5, 2.25]
    version = declare(version, analyst, {"decimal": "."})
    assert selectors.version_frame(version)["dose"].tolist() == [1234, 2500]
    version = declare(version, analyst, {"decimal": ","})
    frame = selectors.version_frame(version)
    assert frame["dose"].tolist() == [1.234, 2.5]
    assert frame["weight"].tolist() == [1500, 2250]


def test_a_variables_decimal_mark_reads_it_and_counts_what_fails(ingest, analyst):
    version = ingest("a.csv", b"id;value\n1;12,5\n2;12.5\n3;7\n4;\n")
    version = declare(version, analyst, {"variables": {"value": {"decimal": ","}}})
    value = entries(version)["value"]
    assert (value.type, value.n_invalid, value.invalid_examples) == ("number", 1, ["12.5"])
    assert value.source_format == 'decimal "," (declared)'
    values = selectors.version_frame(version)["value"]
    assert values[0] == 12.5 and pd.isna(values[1]) and values[2] == 7.0 and pd.isna(values[3])
    assert b"12.5" in stored_bytes(version)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"decimal": ";"}, "decimal", 'the decimal mark is "," or "."'),
        ({"variables": {"visit": {"decimal": ","}}}, "variables.visit.decimal", "holds date values"),
        ({"variables": {"dose": {"decimal": ",", "date_format": "%Y"}}}, "variables.dose", "not both"),
        ({"header_row": 0}, "header_row", "counted from 1"),
        ({"header_row": "3"}, "header_row", "counted from 1"),
        ({"sheet": "Data"}, "sheet", "only an Excel workbook has sheets"),
    ],
)
def test_bad_declarations_of_how_the_file_is_written_are_refused(ingest, analyst, body, field, message):
    version = ingest("a.csv", b"id;dose;visit\n1;1,5;2020-01-01\n2;2,5;2020-02-01\n")
    response = client_for(analyst).put(f"/api/v1/datasets/{version.pk}/declarations/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["details"] and message in error["message"]
    version.refresh_from_db()
    assert version.declarations == {} and version.status == PARSED


def test_a_decimal_mark_does_not_apply_to_statistical_files(ingest, analyst, tmp_path):
    path = tmp_path / "d.sav"
    pyreadstat.write_sav(pd.DataFrame({"x": [1.5, 2.5]}), str(path))
    version = ingest("d.sav", path.read_bytes())
    response = client_for(analyst).put(f"/api/v1/datasets/{version.pk}/declarations/", {"decimal": ","}, format="json")
    assert response.status_code == 400
    assert "store their numbers as numbers" in response.json()["error"]["message"]


# --------------------------------------------------------------------------------------------- ragged


def test_many_ragged_lines_name_the_first_twenty_with_their_counts_and_the_total(ingest):
    lines = ["id,arm,age"]
    bad = []
    for index in range(1, 101):
        if index % 4 == 0:
            lines.append(f"{index},A")  # short
            bad.append((index + 1, 2))
        elif index % 9 == 0:
            lines.append(f"{index},B,40,extra")  # long
            bad.append((index + 1, 4))
        else:
            lines.append(f"{index},A,40")
    content = ("\n".join(lines) + "\n").encode()
    version = ingest("ragged.csv", content)
    assert version.status == FAILED
    assert f"{len(bad)} lines do not have the header's 3 values" in version.error
    named = ", ".join(f"line {line} has {count}" for line, count in bad[:20])
    assert named in version.error
    assert f"and {len(bad) - 20} more" in version.error
    assert f"line {bad[20][0]} has" not in version.error


def test_ragged_lines_under_a_title_are_counted_from_the_header(ingest):
    content = b"Export\n\nid;arm;age\n1;A;30\n2;B\n3;A;50;x\n"
    version = ingest("ragged.csv", content)
    assert version.status == FAILED
    assert "2 lines do not have the header's 3 values" in version.error
    assert "line 5 has 2, line 6 has 4" in version.error


def test_rows_of_delimiters_only_are_not_participants(ingest):
    content = b"id;arm;age\n1;A;30\n;;\n2;B;41\n;;\n; ;\n"
    version = ingest("export.csv", content)
    assert version.status == PARSED, version.error
    assert version.n_rows == 2 and version.read_options["blank_rows_skipped"] == 3
    assert selectors.version_frame(version)["age"].tolist() == [30, 41]
    # A row with any value is kept whole.
    version = ingest("partial.csv", b"id;arm;age\n1;A;30\n;;52\n")
    assert version.n_rows == 2 and "blank_rows_skipped" not in version.read_options


def test_a_header_over_rows_of_delimiters_only_holds_no_data(ingest):
    version = ingest("empty.csv", b"id;arm;age\n;;\n;;\n")
    assert version.status == FAILED
    assert "has a header row (id, arm, age) but no data rows" in version.error


def test_swiss_apostrophes_group_thousands(ingest):
    version = ingest("ch.csv", b"id;dose\n1;1'234.50\n2;980\n")
    assert selectors.version_frame(version)["dose"].tolist() == [1234.5, 980.0]


def test_a_value_with_grouping_points_and_a_decimal_comma_settles_the_files_points(ingest):
    content = (
        b"id;platelets;ldh;cost;dose\n1;1.234,5;250;12.500;0.5\n2;987,0;1.020;9.800;1.25\n3;1.500,25;300;15.000;2.5\n"
    )
    version = ingest("labs.csv", content)
    assert version.status == "parsed", version.error
    entries = {entry.name: entry for entry in version.dictionary.all()}
    assert (entries["ldh"].minimum, entries["ldh"].maximum) == ("250", "1020")  # not 1.02
    assert (entries["cost"].minimum, entries["cost"].maximum) == ("9800", "15000")
    assert (entries["platelets"].minimum, entries["platelets"].maximum) == ("987.0", "1500.25")
    assert (entries["dose"].type, entries["dose"].maximum) == ("number", "2.5")  # points that cannot group
    assert version.read_options["decimal_found"].startswith('","')
    # Without such a value nothing says the points group thousands: 1.020 is a decimal.
    plain = ingest("plain.csv", b"id;ldh\n1;250\n2;1.020\n3;300\n")
    assert plain.dictionary.get(name="ldh").minimum == "1.02" and "decimal_found" not in plain.read_options


def test_a_quoted_value_with_both_marks_in_a_comma_split_file_changes_nothing(ingest):
    version = ingest("us.csv", b'id,note,dose\n1,"1.234,5",12.500\n2,none,9.750\n')
    assert version.dictionary.get(name="dose").maximum == "12.5" and "decimal_found" not in version.read_options
