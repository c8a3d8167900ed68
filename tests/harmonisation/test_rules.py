import numpy as np
import pandas as pd
import pytest

from apps.harmonisation import rules
from apps.harmonisation.rules import Rule, RuleError, Target, apply_rule, check_rule, code_key, harmonise


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "patid": ["007", "008", "009", "010"],
            "sex": [1, 2, 9, 3],
            "age": [34, 150, None, "x"],
            "glu": [90.08, 180.16, None, 36.032],
            "arm": ["Drug 10 mg", "Placebo", "Drug 10 mg", "Open label"],
            "madrs": [10, 20, 30, None],
            "randdt": ["2020-01-01", "2020-02-01", None, "31/02/2020"],
        }
    )


def values(series):
    return [None if pd.isna(v) else v for v in series]


def test_code_key_matches_numbers_and_text():
    assert code_key(1) == code_key(1.0) == code_key("1") == code_key(" 1 ") == "1"
    assert code_key(1.5) == "1.5"
    assert code_key(None) is None and code_key(float("nan")) is None
    assert code_key(True) == "1"


def test_direct_keeps_identifiers_as_text(frame):
    outcome = apply_rule(Rule("USUBJID", rules.DIRECT, ("patid",)), Target("USUBJID", rules.TEXT), frame)
    assert values(outcome.values) == ["007", "008", "009", "010"]
    assert outcome.executable == "USUBJID = patid"
    assert outcome.stats["rows_affected"] == 4


def test_recode_with_missing_codes_and_unmapped_values_flagged(frame):
    rule = Rule("SEX", rules.RECODE, ("sex",), {"map": {"1": "M", "2": "F"}, "missing": [9]})
    outcome = apply_rule(rule, Target("SEX", rules.CATEGORY, allowed_values=("M", "F")), frame)
    assert values(outcome.values) == ["M", "F", None, None]
    # 9 means missing by the rule; 3 is a code the rule does not cover, so it is named in the flag.
    assert values(outcome.flags) == [None, None, None, "unmapped source value '3'"]
    assert outcome.stats["unmapped"] == 1
    assert outcome.stats["missing"] == 2


def test_recode_to_a_code_outside_the_schema_is_refused():
    with pytest.raises(RuleError, match="Not allowed codes for SEX: X"):
        check_rule(
            Rule("SEX", rules.RECODE, ("sex",), {"map": {"1": "X"}}),
            Target("SEX", rules.CATEGORY, allowed_values=("M", "F")),
        )


def test_out_of_range_and_invalid_values_are_flagged_not_dropped(frame):
    outcome = apply_rule(
        Rule("AGE", rules.DIRECT, ("age",)), Target("AGE", rules.INTEGER, minimum=18, maximum=100), frame
    )
    assert values(outcome.values) == [34, 150, None, None]
    assert values(outcome.flags) == [None, "above maximum 100: 150", None, "not a number: 'x'"]
    assert outcome.stats["out_of_range"] == 1
    assert outcome.stats["flagged"] == 2


def test_unit_conversion_records_units_and_factor(frame):
    rule = Rule("GLUC", rules.UNIT_CONVERSION, ("glu",), {"from": "mg/dL", "analyte": "glucose"})
    target = Target("GLUC", rules.NUMBER, unit="mmol/L", minimum=3.0, maximum=30.0)
    outcome = apply_rule(rule, target, frame)
    assert values(outcome.values)[2] is None
    assert outcome.values[0] == pytest.approx(5.0)
    assert outcome.values[3] == pytest.approx(2.0)
    assert values(outcome.flags)[3] == "below minimum 3: 2"
    assert (outcome.units_from, outcome.units_to) == ("mg/dL", "mmol/L")
    assert outcome.factor == pytest.approx(1 / 18.016)


def test_linear_scale_needs_its_source():
    target = Target("HAMD", rules.NUMBER)
    with pytest.raises(RuleError, match="citation"):
        check_rule(Rule("HAMD", rules.LINEAR_SCALE, ("madrs",), {"slope": 0.8, "intercept": 1}), target)
    with pytest.raises(RuleError, match="slope"):
        check_rule(Rule("HAMD", rules.LINEAR_SCALE, ("madrs",), {"slope": "x", "source": "ref"}), target)


def test_linear_scale(frame):
    rule = Rule("HAMD", rules.LINEAR_SCALE, ("madrs",), {"slope": 0.8, "intercept": 1, "source": "Published equating"})
    outcome = apply_rule(rule, Target("HAMD", rules.NUMBER), frame)
    assert values(outcome.values) == [9.0, 17.0, 25.0, None]
    assert "Published equating" in outcome.executable


def test_treatment_arms(frame):
    rule = Rule(
        "TRT01P", rules.TREATMENT_ARMS, ("arm",), {"arms": {"Drug 10 mg": "intervention", "Placebo": "control"}}
    )
    target = Target("TRT01P", rules.CATEGORY, allowed_values=("intervention", "control"))
    outcome = apply_rule(rule, target, frame)
    assert values(outcome.values) == ["intervention", "control", "intervention", None]
    assert values(outcome.flags)[3] == "unmapped source value 'Open label'"


def test_expression_rule_fills_its_source_variables(frame):
    checked = check_rule(
        Rule("RANDDT", rules.EXPRESSION, (), {"expression": "date(randdt)"}), Target("RANDDT", rules.DATE)
    )
    assert checked.source_variables == ("randdt",)
    outcome = apply_rule(checked, Target("RANDDT", rules.DATE), frame)
    assert str(outcome.values[0].date()) == "2020-01-01"
    assert values(outcome.values)[2:] == [None, None]


def test_impossible_rule_gives_an_empty_column(frame):
    outcome = apply_rule(Rule("ITTFL", rules.IMPOSSIBLE), Target("ITTFL", rules.CATEGORY), frame)
    assert values(outcome.values) == [None] * 4
    assert outcome.executable == "ITTFL = missing (impossible)"


@pytest.mark.parametrize(
    "rule, message",
    [
        (Rule("X", "magic", ("age",)), "Unknown rule category"),
        (Rule("X", rules.DIRECT, ()), "exactly one source variable"),
        (Rule("X", rules.DIRECT, ("nope",)), "Unknown source variable 'nope'"),
        (Rule("X", rules.IMPOSSIBLE, ("age",)), "reads no source variable"),
        (Rule("X", rules.RECODE, ("sex",), {"map": {}}), '"map"'),
        (Rule("X", rules.UNIT_CONVERSION, ("glu",), {"from": "mg/dL", "to": "mmol/L"}), "analyte"),
    ],
)
def test_invalid_rules(frame, rule, message):
    with pytest.raises(Exception, match=message):
        check_rule(rule, Target("X", rules.NUMBER), list(frame.columns))


def test_harmonise_builds_the_table_in_schema_order_with_flags(frame, tmp_path):
    targets = [Target("USUBJID", rules.TEXT), Target("AGE", rules.INTEGER, minimum=18, maximum=100), Target("BMI")]
    table, outcomes = harmonise(
        frame, targets, [Rule("AGE", rules.DIRECT, ("age",)), Rule("USUBJID", rules.DIRECT, ("patid",))]
    )
    assert list(table.columns) == ["source_row", "USUBJID", "USUBJID__flag", "AGE", "AGE__flag"]
    assert len(table) == len(frame)
    assert list(table["source_row"]) == [1, 2, 3, 4]
    assert set(outcomes) == {"USUBJID", "AGE"}
    # The table survives a Parquet round trip with its types.
    table.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert back["USUBJID"].tolist() == ["007", "008", "009", "010"]
    assert back["AGE__flag"][1] == "above maximum 100: 150"


def test_harmonise_reports_progress_per_rule(frame):
    calls = []
    harmonise(
        frame,
        [Target("USUBJID", rules.TEXT), Target("AGE", rules.INTEGER)],
        [Rule("USUBJID", rules.DIRECT, ("patid",)), Rule("AGE", rules.DIRECT, ("age",))],
        on_progress=lambda done, total, name: calls.append((done, total, name)),
    )
    assert calls == [(1, 2, "USUBJID"), (2, 2, "AGE")]


def test_numbers_already_typed_are_taken_as_they_are_and_whole_numbers_stay_exact():
    typed = pd.DataFrame(
        {
            "big": pd.array([2**60 + 1, None, -(2**55) - 3], dtype="Int64"),
            "dose": [1.5, float("nan"), 80.25],
            "count": pd.array([3, None, 90], dtype="Int64"),
        }
    )
    exact = apply_rule(Rule("ID", rules.DIRECT, ("big",)), Target("ID", rules.INTEGER), typed)
    assert exact.values.tolist() == [2**60 + 1, pd.NA, -(2**55) - 3]
    assert str(exact.values.dtype) == "Int64" and exact.stats["flagged"] == 0
    dose = apply_rule(Rule("DOSE", rules.DIRECT, ("dose",)), Target("DOSE", rules.NUMBER, maximum=80), typed)
    assert dose.values.tolist()[0] == 1.5 and pd.isna(dose.values[1])
    assert (dose.stats["missing"], dose.stats["out_of_range"]) == (1, 1)
    assert dose.flags.tolist()[2] == "above maximum 80: 80.25"
    # An integer column read as a number: missing stays missing, nothing is flagged as not a number.
    count = apply_rule(Rule("N", rules.DIRECT, ("count",)), Target("N", rules.NUMBER, minimum=5), typed)
    assert count.values.dtype == "float64" and count.values.isna().tolist() == [False, True, False]
    assert count.flag_counts == {"below minimum 5: 3": 1}


@pytest.mark.parametrize("target_type", [rules.NUMBER, rules.INTEGER])
def test_infinities_are_flagged_and_missing_never_kept_or_crashing(target_type):
    source = pd.DataFrame({"w": ["72", "inf", "-Infinity", "1e400", "80"], "x": [72.0, np.inf, -np.inf, 3.0, 80.0]})
    for rule in (
        Rule("W", rules.DIRECT, ("w",)),
        Rule("W", rules.DIRECT, ("x",)),
        Rule("W", rules.EXPRESSION, (), {"expression": "number(w)"}),
    ):
        outcome = apply_rule(rule, Target("W", target_type), source)
        assert outcome.values.isna().tolist()[1:3] == [True, True], rule
        assert outcome.stats["flagged"] >= 2 and outcome.flags.notna().tolist()[1:3] == [True, True], rule
        assert outcome.values.tolist()[0] == 72 and outcome.values.tolist()[4] == 80


@pytest.mark.parametrize(
    ("category", "parameters", "unknown"),
    [
        (rules.TREATMENT_ARMS, {"arms": {"A": "intervention", "B": "control"}, "extra": 1}, "extra"),
        (rules.LINEAR_SCALE, {"slop": 0.8, "slope": 0.8, "source": "Smith 2020"}, "slop"),
        (rules.DIRECT, {"map": {"1": "M"}}, "map"),
    ],
)
def test_a_parameter_the_rule_does_not_read_is_refused_not_ignored(frame, category, parameters, unknown):
    source = () if category == rules.EXPRESSION else ("arm",)
    with pytest.raises(RuleError, match=f"Unknown parameters for a .* rule: {unknown}"):
        check_rule(
            Rule("X", category, source, parameters), Target("X", rules.CATEGORY), list(frame.columns), strict=True
        )
    # A stored rule runs without what it does not read.
    check_rule(Rule("X", category, source, parameters), Target("X", rules.CATEGORY), list(frame.columns))


def test_numbers_too_large_for_a_whole_number_and_mixed_offsets_are_flagged_not_crashing():
    source = pd.DataFrame(
        {
            "n": ["1e300", "1e20", "42"],
            "big": pd.array([2**64 - 1, 7, None], dtype="UInt64"),
            "when": ["2021-03-01T10:00:00+01:00", "2021-07-01T10:00:00+02:00", "x"],
        }
    )
    for column, flagged in (("n", 2), ("big", 1)):
        outcome = apply_rule(Rule("N", rules.DIRECT, (column,)), Target("N", rules.INTEGER), source)
        assert outcome.stats["flagged"] == flagged, column
        assert str(outcome.values.dtype) == "Int64"
    text = apply_rule(Rule("N", rules.DIRECT, ("n",)), Target("N", rules.INTEGER), source)
    assert text.values.tolist()[2] == 42
    assert text.flags.tolist()[:2] == ["too large for a whole number: 1e+300", "too large for a whole number: 1e+20"]
    dates = apply_rule(Rule("D", rules.DIRECT, ("when",)), Target("D", rules.DATE), source)
    assert dates.values.notna().tolist() == [True, True, False] and dates.stats["flagged"] == 1


def test_the_rule_form_leaves_another_categorys_parameters_behind_but_not_a_misspelt_one(review):
    from django.http import QueryDict

    from apps.harmonisation.forms import RuleForm
    from apps.harmonisation.models import SchemaVariable

    target = SchemaVariable.objects.create(review=review, name="GLUC", type="number", unit="mmol/L")

    def cleaned(parameters: str):
        data = QueryDict(mutable=True)
        data.update({"target": str(target.pk), "category": "direct", "source_variables": "glu",
                     "parameters": parameters})  # fmt: skip
        form = RuleForm(data, review=review)
        assert form.is_valid(), form.errors
        return form.cleaned_data["parameters"]

    # A suggested conversion's "to", left in the JSON field when the rule is made direct, is dropped.
    assert cleaned('{"to": "mmol/L", "from": "mg/dL"}') == {}
    # A parameter no category reads stays, for the service to refuse by name.
    assert cleaned('{"slop": 0.8}') == {"slop": 0.8}
