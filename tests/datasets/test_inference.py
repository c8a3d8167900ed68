"""Type rules for text columns: a type only when every value agrees, nothing silently converted."""

import datetime

import pyarrow as pa
import pytest

from apps.datasets.inference import infer_text_column, type_declared_column
from apps.datasets.readers import column_names, detect_delimiter
from apps.jobs.errors import JobInputError


def infer(values):
    return infer_text_column(pa.array(values, type=pa.string()))


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["1", "2", " 3 ", ""], "integer"),
        (["007", "12"], "text"),
        (["-0", "0", "10"], "integer"),
        (["1.5", "2", "-3e2", ".5"], "number"),
        (["1.5", "NA", "2"], "text"),
        (["1", "2", "n/a"], "text"),
        (["12345678901234567890"], "text"),
        (["0.5", "007.5"], "number"),
        (["TRUE", "FALSE", ""], "boolean"),
        (["yes", "no"], "text"),
        (["", "  "], "text"),
        (["2020-01-01T10:30:00", "2020-01-02T11:00:00"], "datetime"),
        (["P001", "P002"], "text"),
        (["inf", "1"], "text"),
        (["5/1/2020", "12/1/2020", "13/1/2020"], "date"),
        (["01JAN2020", "15feb2021"], "date"),
        (["+5", "7"], "integer"),
        (["1", "-123456789012345678"], "integer"),
        (["1", "+123456789012345678"], "integer"),
        (["1", "1234567890123456789"], "text"),
        (["0x1F", "12"], "text"),
        (["-007", "5"], "text"),
        (["5", "1.5"], "number"),
        ([" 1.5", "2 "], "number"),
        (["\u00a0", "3"], "integer"),
    ],
)
def test_types(values, kind):
    assert infer(values).type == kind


def test_a_plus_sign_and_spaces_are_read_as_integers():
    assert infer(["+5", " 7", "-2"]).array.to_pylist() == [5, 7, -2]
    assert infer(["1", "-123456789012345678"]).array.to_pylist() == [1, -123456789012345678]


def test_integers_keep_missing_values_missing():
    column = infer(["1", "", "3"])
    assert column.array.to_pylist() == [1, None, 3]


def test_text_keeps_its_spaces_and_na():
    column = infer([" a ", "NA", ""])
    assert column.array.to_pylist() == [" a ", "NA", None]


def test_dates_count_and_show_what_did_not_parse():
    values = [f"{day:02d}/03/2021" for day in range(1, 10)] + ["31/02/2021", "unknown"]
    column = infer(values)
    assert (column.type, column.source_format) == ("date", "%d/%m/%Y")
    assert column.n_invalid == 2
    assert column.invalid_examples == ["31/02/2021", "unknown"]
    assert column.array.to_pylist()[0] == datetime.date(2021, 3, 1)


def test_month_first_dates_are_recognised_when_day_first_fails():
    column = infer(["12/31/2020", "01/15/2021", "02/28/2021"])
    assert (column.type, column.source_format) == ("date", "%m/%d/%Y")


def test_a_text_column_with_a_few_dates_stays_text():
    assert infer(["2020-01-01", "see notes", "refused", "moved away", "n/a"]).type == "text"


def test_a_column_whose_dates_stop_after_the_sample_stays_text():
    values = ["2020-01-01"] * 1000 + ["withdrawn"] * 1000
    assert infer(values).type == "text"


def test_declared_doubles_holding_whole_numbers_become_integers():
    column = type_declared_column(pa.array([1.0, 2.0, float("nan")]))
    assert (column.type, column.array.to_pylist()) == ("integer", [1, 2, None])
    assert type_declared_column(pa.array([1.5, 2.0])).type == "number"


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1,5;2;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('name,comment\nx,"a; b; c"\n', ","),
        ("single\n1\n2\n", ","),
    ],
)
def test_delimiters(sample, delimiter):
    assert detect_delimiter(sample) == delimiter


def test_empty_header_names_are_numbered_and_repeats_refused():
    assert column_names(["id", "", "age"]) == ["id", "column_2", "age"]
    with pytest.raises(JobInputError, match="'id' appears twice"):
        column_names(["id", "id"])
