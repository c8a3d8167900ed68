import csv
import io

import pytest

from apps.harmonisation.csv_export import escape_cell, to_csv


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2", "'-2"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("age >= 18", "age >= 18"),
        ("", ""),
        (None, ""),
        (True, "true"),
        (42, "42"),
        (-0.5, "-0.5"),  # a number is written as a number: spreadsheets do not run it
    ],
)
def test_escape_cell(value, expected):
    assert escape_cell(value) == expected


def test_to_csv_quotes_and_escapes_every_cell_including_headers():
    text = to_csv([{"a": '=HYPERLINK("x")', "=b": "plain, with comma"}], ["a", "=b"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["a", "'=b"], ['\'=HYPERLINK("x")', "plain, with comma"]]
