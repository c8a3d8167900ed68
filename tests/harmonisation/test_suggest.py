import pytest

from apps.harmonisation import rules
from apps.harmonisation.suggest import SchemaTarget, SourceVariable, detect_unit, suggest


@pytest.fixture
def schema():
    return [
        SchemaTarget("participant", "participant_id", rules.TEXT),
        SchemaTarget("SEX", "covariate", rules.CATEGORY, allowed_values=("M", "F")),
        SchemaTarget("AGE", "covariate", rules.NUMBER, unit="year", description="Age at randomisation"),
        SchemaTarget("arm", "treatment", rules.CATEGORY, allowed_values=("intervention", "control")),
        SchemaTarget("event", "event", rules.INTEGER, allowed_values=(0, 1)),
        SchemaTarget("time", "time", rules.NUMBER, unit="day"),
        SchemaTarget("glucose", "covariate", rules.NUMBER, unit="mmol/L", description="Fasting plasma glucose"),
        SchemaTarget("weight", "covariate", rules.NUMBER, unit="kg", description="Body weight"),
        SchemaTarget("RANDDT", "randomisation_date", rules.DATE),
        SchemaTarget("smoker", "covariate", rules.CATEGORY, allowed_values=("yes", "no")),
    ]


@pytest.fixture
def adam_file():
    """Variables as an industry sponsor's ADaM extract names them."""
    return [
        SourceVariable("USUBJID", "Unique Subject Identifier"),
        SourceVariable("SEXN", "Sex (N)", {1: "Male", 2: "Female"}),
        SourceVariable("AGE", "Age (years)"),
        SourceVariable("TRT01P", "Planned Treatment for Period 01", values=("Drug X 10 mg", "Placebo")),
        SourceVariable("CNSR", "Censor"),
        SourceVariable("AVAL", "Analysis Value (days)"),
        SourceVariable("GLUC", "Fasting glucose (mg/dL)"),
        SourceVariable("WTBL", "Body weight at baseline (lb)"),
        SourceVariable("RANDDT", "Date of Randomization"),
        SourceVariable("XYZ", "Investigator site"),
    ]


def best(suggestions):
    found = {}
    for item in suggestions:
        found.setdefault(item.target, item)
    return found


def test_cdisc_names_are_recognised(schema, adam_file):
    found = best(suggest(adam_file, schema))
    assert found["participant"].source == "USUBJID"
    assert found["RANDDT"].source == "RANDDT" and found["RANDDT"].score == 1.0
    assert found["AGE"].source == "AGE" and found["AGE"].category == rules.DIRECT
    assert found["time"].source == "AVAL"


def test_value_labels_give_a_recode(schema, adam_file):
    sex = best(suggest(adam_file, schema))["SEX"]
    assert sex.source == "SEXN"
    assert (sex.category, sex.parameters) == (rules.RECODE, {"map": {"1": "M", "2": "F"}})


def test_treatment_arms_guess_the_comparator(schema, adam_file):
    arm = best(suggest(adam_file, schema))["arm"]
    assert arm.category == rules.TREATMENT_ARMS
    assert arm.parameters == {"arms": {"Drug X 10 mg": "intervention", "Placebo": "control"}}


def test_censoring_flag_becomes_an_event_expression(schema, adam_file):
    event = best(suggest(adam_file, schema))["event"]
    assert event.category == rules.EXPRESSION
    assert event.parameters == {"expression": "1 - CNSR"}
    assert event.source_variables == []


def test_units_in_labels_give_conversions_with_the_analyte(schema, adam_file):
    found = best(suggest(adam_file, schema))
    assert found["glucose"].category == rules.UNIT_CONVERSION
    assert found["glucose"].parameters == {"from": "mg/dL", "to": "mmol/L", "analyte": "glucose"}
    assert found["weight"].source == "WTBL"
    assert found["weight"].parameters == {"from": "lb", "to": "kg"}


def test_every_suggestion_is_a_valid_rule(schema, adam_file):
    columns = [source.name for source in adam_file]
    targets = {t.name: rules.Target(t.name, t.type, t.unit, t.allowed_values) for t in schema}
    suggestions = suggest(adam_file, schema)
    # Every target that resembles a column gets one (smoker resembles none).
    assert {item.target for item in suggestions} == {t.name for t in schema} - {"smoker"}
    for item in suggestions:
        rule = rules.Rule(item.target, item.category, tuple(item.source_variables), item.parameters)
        checked = rules.check_rule(rule, targets[item.target], columns)  # raises RuleError when it cannot run
        assert (checked.category, checked.parameters) == (item.category, item.parameters)
        assert set(checked.source_variables) <= set(columns)


def test_nothing_is_suggested_without_a_resemblance(schema, adam_file):
    found = best(suggest(adam_file, schema))
    assert "smoker" not in found
    assert all(item.source != "XYZ" for item in suggest(adam_file, schema))


def test_suggestions_are_ranked_best_first(schema):
    sources = [SourceVariable("agegrp", "Age group"), SourceVariable("age", "Age")]
    ranked = [item for item in suggest(sources, schema) if item.target == "AGE"]
    assert [item.source for item in ranked] == ["age", "agegrp"]
    assert ranked[0].score > ranked[1].score


@pytest.mark.parametrize(
    "label, unit",
    [
        ("Glucose (mg/dL)", "mg/dL"),
        ("Height [cm]", "cm"),
        ("Weight, lb", "lb"),
        ("Age", ""),
        ("Follow-up (days)", "day"),
    ],
)
def test_detect_unit(label, unit):
    assert detect_unit(label) == unit


def test_a_zero_one_flag_goes_to_the_schemas_yes_and_no(schema):
    ittfl = SchemaTarget("ITTFL", "other", rules.CATEGORY, allowed_values=("Y", "N"))
    found = suggest([SourceVariable("ITT", "Intention-to-treat population", values=("1", "0"))], [ittfl])
    assert found[0].category == rules.RECODE and found[0].parameters == {"map": {"1": "Y", "0": "N"}}


ARM = SchemaTarget("TRT01P", "treatment", rules.CATEGORY, allowed_values=("intervention", "control"))
EVENT_TARGET = SchemaTarget("OSEVENT", "event", rules.INTEGER, allowed_values=(0, 1))
SEX_TARGET = SchemaTarget("SEX", "covariate", rules.CATEGORY, allowed_values=("male", "female"))


def rule_of(target, source):
    found = suggest([source], [target])
    return (found[0].category, found[0].parameters) if found else None


def test_codes_that_are_no_arm_are_left_out_of_a_suggested_arm_mapping():
    text = SourceVariable("treatment", values=("Dexamethasone", "Placebo", "Unknown"), type="text", n_distinct=3)
    assert rule_of(ARM, text) == (
        rules.TREATMENT_ARMS,
        {"arms": {"Dexamethasone": "intervention", "Placebo": "control"}},
    )
    labelled = SourceVariable(
        "ARM", value_labels={1: "Hydrocortisone", 2: "Placebo", 9: "Not randomised (registry patient)"}, type="integer"
    )
    assert rule_of(ARM, labelled) == (rules.TREATMENT_ARMS, {"arms": {"1": "intervention", "2": "control"}})
    # "Mother" is no "other": whole words only.
    mothers = SourceVariable("arm", values=("Mother and baby unit", "Usual care"), type="text", n_distinct=2)
    assert rule_of(ARM, mothers)[1]["arms"] == {"Mother and baby unit": "intervention", "Usual care": "control"}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({0: "Death", 1: "Censored"}, (rules.RECODE, {"map": {"0": 1, "1": 0}})),
        ({0: "Alive at last contact", 1: "Died"}, (rules.DIRECT, {})),
        ({1: "No event", 0: "Event"}, (rules.RECODE, {"map": {"1": 0, "0": 1}})),
        ({0: "Censored", 1: "Relapse"}, (rules.DIRECT, {})),
        ({0: "Décès", 1: "Vivant"}, (rules.RECODE, {"map": {"0": 1, "1": 0}})),
        # Labels that say nothing of the direction: no suggestion rather than a copy that may swap them.
        ({0: "Type A", 1: "Type B"}, None),
    ],
)
def test_an_event_is_read_from_its_labels_in_the_right_direction_or_not_suggested(labels, expected):
    source = SourceVariable("STATUS", value_labels=labels, type="integer", n_distinct=2, values=(0, 1))
    assert rule_of(EVENT_TARGET, source) == expected


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (("H", "F"), {"map": {"H": "male", "F": "female"}}),  # French: homme, femme
        (("H", "M"), {"map": {"H": "male", "M": "female"}}),  # Spanish: hombre, mujer
        (("M", "F", "U"), {"map": {"M": "male", "F": "female"}, "missing": ["U"]}),
        (("Male", "Female", "Unknown"), {"map": {"Male": "male", "Female": "female"}, "missing": ["Unknown"]}),
    ],
)
def test_sex_codes_are_read_by_their_pair_and_never_half_recoded(codes, expected):
    source = SourceVariable("SEX", values=codes, type="text", n_distinct=len(codes))
    assert rule_of(SEX_TARGET, source) == (rules.RECODE, expected)


def test_a_recode_that_would_leave_codes_unmatched_is_not_suggested():
    source = SourceVariable("SEX", values=("M", "F", "X"), type="text", n_distinct=3)
    assert rule_of(SEX_TARGET, source) is None


@pytest.mark.parametrize("label", ["Relapse-free", "Progression free", "Not relapsed", "Never progressed"])
def test_a_label_that_denies_the_event_reads_as_no_event(label):
    source = SourceVariable(
        "STATUS", value_labels={0: label, 1: "Relapse"}, type="integer", n_distinct=2, values=(0, 1)
    )
    assert rule_of(EVENT_TARGET, source) == (rules.DIRECT, {})
