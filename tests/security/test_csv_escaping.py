"""CSV cells that a spreadsheet would run as a formula are escaped, however the sign is hidden."""

import csv
import io

import pytest

from apps.checks.csv_rows import rows_csv
from apps.harmonisation.csv_export import escape_cell, stream_csv, to_csv


@pytest.mark.parametrize(
    "value",
    [
        " =1+1",
        "  +cmd",
        "\n-2+3",
        "\u00a0@SUM(A1)",  # no-break space
        '\u3000=HYPERLINK("x")',  # ideographic space
        '\uff1dHYPERLINK("x")',  # fullwidth equals
        "\uff0b1",  # fullwidth plus
        "\uff0d1",  # fullwidth hyphen-minus
        "\uff20SUM(A1)",  # fullwidth commercial at
        "\ufe66cmd",  # small equals
        " \uff1d1",  # whitespace then fullwidth
        "\u22121+1",  # minus sign
    ],
)
def test_hidden_formula_starts_are_escaped(value):
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["a=1", " plain", "\uff21bc", "x-1", "1 + 1", "   "])
def test_text_that_is_no_formula_is_kept(value):
    assert escape_cell(value) == value


def test_every_export_path_escapes_them():
    import pandas as pd

    row = {"a": " =1", "b": "\uff0b2"}
    assert list(csv.reader(io.StringIO(to_csv([row], ["a", "b"]))))[1] == ["' =1", "'\uff0b2"]
    streamed = "".join(stream_csv(["a", "b"], [[(" =1", "\uff0b2")]]))
    assert list(csv.reader(io.StringIO(streamed)))[1] == ["' =1", "'\uff0b2"]
    frame = pd.DataFrame({" @x": ["\t=1", " -2"]})
    rows = list(csv.reader(io.StringIO(rows_csv(frame))))
    assert rows == [["' @x"], ["'\t=1"], ["' -2"]]
