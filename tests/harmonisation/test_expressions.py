import math

import numpy as np
import pandas as pd
import pytest

from apps.harmonisation.expressions import FUNCTIONS, ExpressionError, evaluate, evaluate_with_losses, parse


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "weight": [70.0, 80.0, None, 0.0],
            "height": [1.75, 2.0, 1.6, 0.0],
            "sex": ["M", "F", None, "F"],
            "start": ["2020-01-01", "2020-02-01", None, "2020-03-01"],
            "end": ["2020-01-11", "2020-01-01", "2020-01-01", "not a date"],
            "Age (years)": [30, 40, 50, 60],
        }
    )


def values(series):
    return [None if pd.isna(v) else v for v in series]


def test_arithmetic_is_vectorised_and_missing_propagates(frame):
    bmi = evaluate("weight / height ** 2", frame)
    assert bmi[0] == pytest.approx(70 / 1.75**2)
    assert bmi[1] == pytest.approx(20.0)
    # A missing weight and a division by zero both give a missing value, never an infinity.
    assert values(bmi)[2:] == [None, None]


def test_functions(frame):
    assert evaluate("log(weight)", frame)[0] == pytest.approx(math.log(70))
    assert values(evaluate("log(weight)", frame))[3] is None  # log(0) is missing
    assert evaluate("sqrt(height * 4)", frame)[1] == pytest.approx(math.sqrt(8))
    assert evaluate("exp(0) + abs(-2)", frame)[0] == pytest.approx(3.0)
    assert values(evaluate("round(weight / 3, 1)", frame)) == [23.3, 26.7, None, 0.0]
    assert values(evaluate("min(weight, 75)", frame)) == [70.0, 75.0, 75.0, 0.0]
    assert values(evaluate("max(weight, height)", frame)) == [70.0, 80.0, 1.6, 0.0]
    assert values(evaluate("coalesce(weight, 99)", frame)) == [70.0, 80.0, 99.0, 0.0]
    assert values(evaluate("days_between(start, end)", frame)) == [10.0, -31.0, None, None]
    assert values(evaluate('col("Age (years)") * 12', frame)) == [360.0, 480.0, 600.0, 720.0]


def test_overflow_gives_missing_not_a_hang(frame):
    assert values(evaluate("9 ** 9 ** 9", frame)) == [None] * 4
    assert values(evaluate("exp(1000)", frame)) == [None] * 4


def test_comparisons_and_three_valued_logic(frame):
    assert values(evaluate("sex == 'M'", frame)) == [True, False, None, False]
    assert values(evaluate("weight > 75 and sex == 'F'", frame)) == [False, True, None, False]
    # missing or True is True: Kleene logic, as in SQL.
    assert values(evaluate("weight > 75 or isnull(sex)", frame)) == [False, True, True, False]
    assert values(evaluate("not weight > 75", frame)) == [True, False, None, True]
    assert values(evaluate("0 < weight < 75", frame)) == [True, False, None, False]
    assert values(evaluate("sex in ('M', 'F')", frame)) == [True, True, None, True]
    assert values(evaluate("weight not in (70, 0)", frame)) == [False, True, None, False]


def test_if_else_keeps_missing_conditions_missing(frame):
    assert values(evaluate("1 if sex == 'M' else 2", frame)) == [1.0, 2.0, None, 2.0]
    assert values(evaluate("'obese' if weight / height ** 2 >= 30 else 'not obese'", frame)) == [
        "not obese",
        "not obese",
        None,
        None,
    ]


def test_text_and_conversions(frame):
    assert values(evaluate("'id-' + sex", frame)) == ["id-M", "id-F", None, "id-F"]
    assert values(evaluate("number(text(weight)) + 1", frame)) == [71.0, 81.0, None, 1.0]


def test_parse_reports_the_columns_read():
    assert parse("weight / height ** 2 + col('Age (years)')").columns == ("weight", "height", "Age (years)")


@pytest.mark.parametrize(
    "text, fragment, position",
    [
        ("__import__('os').system('ls')", "Only the listed functions", 1),
        ("open('x')", "Unknown function open()", 1),
        ("weight.real", "Attribute access", 1),
        ("weight[0]", "Indexing", 1),
        ("lambda: 1", "lambda", 1),
        ("[x for x in weight]", "comprehension", 1),
        ("f'{weight}'", "f-string", 1),
        ("(x := 1)", "Assignment", 2),
        ("weight % 2", "operator %", 1),
        ("weight // 2", "operator //", 1),
        ("{'a': 1}", "dictionary", 1),
        ("weight + ", "Syntax error", None),
        ("", "empty", None),
        ("round(weight, digits=1)", "no named arguments", 1),
        ("log(weight, 2)", "log() got 2 argument(s)", 1),
        ("weight in height", "list of values", 11),
    ],
)
def test_refused_constructs(frame, text, fragment, position):
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, frame)
    assert fragment in caught.value.message
    if position is not None:
        assert caught.value.position == position


def test_unknown_column_is_named_with_its_position_and_a_suggestion(frame):
    with pytest.raises(ExpressionError) as caught:
        evaluate("weight / heigth ** 2", frame)
    assert "Unknown column 'heigth'" in caught.value.message
    assert "Did you mean height?" in caught.value.message
    assert caught.value.position == 10
    assert caught.value.status == 400


def test_unknown_function_suggests_the_close_one(frame):
    with pytest.raises(ExpressionError) as caught:
        evaluate("lgo(weight)", frame)
    assert "Unknown function lgo(). Did you mean log()?" in caught.value.message


def test_text_in_arithmetic_is_a_clear_error(frame):
    with pytest.raises(ExpressionError) as caught:
        evaluate("sex + 1", frame)
    assert "needs numbers but got text" in caught.value.message
    with pytest.raises(ExpressionError):
        evaluate("sex > 1", frame)


def test_limits_on_size():
    with pytest.raises(ExpressionError, match="longer than"):
        parse("1 + " * 600 + "1")
    with pytest.raises(ExpressionError, match="too long"):
        parse("+".join(["x"] * 600))
    with pytest.raises(ExpressionError, match="nested more than"):
        parse("-" * 300 + "x")
    with pytest.raises(ExpressionError, match="too many nested parentheses"):
        parse("(" * 300 + "x" + ")" * 300)
    # A long but flat sum of a hundred columns is fine.
    frame = pd.DataFrame({f"x{i}": [1.0] for i in range(100)})
    assert evaluate(" + ".join(f"x{i}" for i in range(100)), frame)[0] == 100.0


def test_every_listed_function_has_help():
    assert all(function.help for function in FUNCTIONS.values())
    assert {"log", "exp", "sqrt", "abs", "round", "min", "max", "isnull", "coalesce", "days_between"} <= set(FUNCTIONS)


def test_date_reads_a_column_with_one_day_month_order_and_flags_what_that_order_does_not_read():
    frame = pd.DataFrame({"dt": ["12/03/2020", "13/03/2020", "03/12/2020", "2020-03-12", None]})
    result, losses = evaluate_with_losses("date(dt)", frame)
    # Days first (13/03 says so): 12 March, 13 March, 3 December; the ISO date is not of this column's form.
    assert [value.date().isoformat() if pd.notna(value) else None for value in result] == [
        "2020-03-12", "2020-03-13", "2020-12-03", None, None
    ]  # fmt: skip
    assert [index for loss in losses for index in np.flatnonzero(np.asarray(loss.mask, dtype=bool))] == [3]
    german = pd.DataFrame({"dt": ["12.03.2020", "01.02.2021"]})
    assert [value.date().isoformat() for value in evaluate("date(dt)", german)] == ["2020-03-12", "2021-02-01"]
    iso_times = pd.DataFrame({"dt": ["2020-03-12T10:00:00+01:00", "2021-02-01T08:30:00+01:00"]})
    assert evaluate("date(dt)", iso_times).notna().all()
