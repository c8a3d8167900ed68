import pytest

from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.harmonisation import selectors, services
from apps.harmonisation.models import MappingRule
from tests.harmonisation.conftest import SOURCE, parsed_version, set_rules

pytestmark = pytest.mark.django_db


def test_schema_variable_create_update_delete_are_audited(review, coordinator):
    variable = services.schema_variable_create(
        review=review, actor=coordinator, name="AGE", type="integer", minimum=18, maximum=100
    )
    assert variable.position == 1
    services.schema_variable_update(variable=variable, actor=coordinator, data={"maximum": 90})
    services.schema_variable_delete(variable=variable, actor=coordinator)
    events = AuditEvent.objects.filter(object_type="schemavariable").order_by("id")
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[1].before["maximum"] == 100 and events[1].after["maximum"] == 90
    assert all(e.actor == coordinator and e.review == review for e in events)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "1bad"}, "name"),
        ({"name": "X", "minimum": 5, "maximum": 1}, "maximum"),
        ({"name": "X", "allowed_values": "M,F"}, "allowed_values"),
        ({"name": "X", "allowed_values": [1, "1"]}, "allowed_values"),
        ({"name": "X", "type": "text", "minimum": 0}, "type"),
        ({"name": "X", "role": "wizard"}, "role"),
    ],
)
def test_schema_variable_refuses_bad_input(review, coordinator, data, field):
    with pytest.raises(ApplicationError) as caught:
        services.schema_variable_create(review=review, actor=coordinator, **data)
    assert field in caught.value.details
    assert not review.schema_variables.exists()


def test_a_variable_with_rules_cannot_be_deleted(mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    with pytest.raises(ApplicationError) as caught:
        services.schema_variable_delete(variable=schema["AGE"], actor=analyst)
    assert caught.value.status == 409


def test_mapping_needs_a_parsed_version_of_the_same_trial(trial, other_trial, version, analyst):
    with pytest.raises(ApplicationError, match="another trial"):
        services.mapping_create(trial=other_trial, source_version=version, actor=analyst)
    version.status = version.Status.FAILED
    version.save()
    with pytest.raises(ApplicationError, match="not parsed"):
        services.mapping_create(trial=trial, source_version=version, actor=analyst)


def test_mapping_numbers_follow_each_other(trial, version, analyst):
    first = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    second = services.mapping_create(trial=trial, source_version=parsed_version(trial, number=2), actor=analyst)
    assert (first.number, second.number) == (1, 2)


def test_rule_checked_against_the_versions_columns(mapping, schema, analyst):
    with pytest.raises(ApplicationError, match="Unknown source variable 'gender'"):
        services.mapping_rule_set(
            mapping=mapping, target=schema["SEX"], actor=analyst, category="direct", source_variables=["gender"]
        )
    with pytest.raises(ApplicationError, match="Unknown column 'weight'"):
        services.mapping_rule_set(
            mapping=mapping,
            target=schema["AGE"],
            actor=analyst,
            category="expression",
            parameters={"expression": "weight"},
        )
    with pytest.raises(ApplicationError, match="Say why"):
        services.mapping_rule_set(mapping=mapping, target=schema["ITTFL"], actor=analyst, category="impossible")
    assert not MappingRule.objects.exists()


def test_rule_edits_keep_history(mapping, schema, analyst, coordinator):
    first = services.mapping_rule_set(
        mapping=mapping, target=schema["AGE"], actor=analyst, category="direct", source_variables=["age"]
    )
    # Setting the same rule again changes nothing.
    assert (
        services.mapping_rule_set(
            mapping=mapping, target=schema["AGE"], actor=analyst, category="direct", source_variables=["age"]
        )
        == first
    )
    second = services.mapping_rule_set(
        mapping=mapping,
        target=schema["AGE"],
        actor=coordinator,
        category="expression",
        parameters={"expression": "round(age)"},
        rationale="Ages given with decimals in v2",
        query_reference="Q-12",
    )
    first.refresh_from_db()
    mapping.refresh_from_db()
    assert (first.revision, second.revision) == (1, 2)
    assert first.superseded_at is not None and first.superseded_by == coordinator
    assert second.is_current and second.source_variables == ["age"]
    assert mapping.revision == 2
    assert MappingRule.objects.filter(mapping=mapping, target=schema["AGE"]).count() == 2
    events = AuditEvent.objects.filter(object_type="mappingrule").order_by("id")
    assert [(e.action, e.actor) for e in events] == [
        ("create", analyst),
        ("update", coordinator),
        ("create", coordinator),
    ]


def test_rule_remove_keeps_the_withdrawn_rule(mapping, schema, analyst):
    rule = services.mapping_rule_set(
        mapping=mapping, target=schema["AGE"], actor=analyst, category="direct", source_variables=["age"]
    )
    services.mapping_rule_remove(mapping=mapping, target=schema["AGE"], actor=analyst)
    rule.refresh_from_db()
    assert rule.superseded_at is not None
    assert selectors.current_rules(mapping) == []


def test_review_by_a_second_person(mapping, schema, analyst, coordinator):
    set_rules(mapping, schema, analyst)
    with pytest.raises(ApplicationError, match="someone other"):
        services.mapping_mark_reviewed(mapping=mapping, actor=analyst)
    reviewed = services.mapping_mark_reviewed(mapping=mapping, actor=coordinator)
    assert reviewed.reviewed_by == coordinator and reviewed.reviewed_revision == reviewed.revision


def test_apply_refuses_an_empty_mapping(mapping, analyst):
    with pytest.raises(ApplicationError, match="no rules"):
        services.mapping_apply(mapping=mapping, actor=analyst)


def test_suggestions_from_the_dictionary(version, schema, review):
    found = {}
    for item in selectors.mapping_suggest(version, review):
        found.setdefault(item["target"], item)
    assert found["USUBJID"]["source"] == "patid"
    assert found["SEX"]["category"] == "recode" and found["SEX"]["parameters"]["map"] == {"1": "M", "2": "F"}
    assert found["GLUC"]["parameters"] == {"from": "mg/dL", "to": "mmol/L", "analyte": "glucose"}
    assert found["EVENT"]["parameters"] == {"expression": "1 - cnsr"}
    assert found["RANDDT"]["source"] == "randdt"


def test_a_new_version_starts_from_the_previous_rules(trial, mapping, schema, analyst, coordinator):
    set_rules(mapping, schema, analyst)
    renamed = parsed_version(trial, SOURCE.rename(columns={"sexn": "sex_code"}), number=2)
    second = services.mapping_create(trial=trial, source_version=renamed, actor=coordinator, copy_rules_from=mapping)
    copied = {rule.target.name: rule for rule in selectors.current_rules(second)}
    assert set(copied) == {"USUBJID", "SEX", "AGE", "GLUC", "TRT01P", "EVENT", "AVAL", "RANDDT"}
    assert copied["GLUC"].parameters == {"from": "mg/dL", "analyte": "glucose"}
    assert copied["GLUC"].rationale == "Trial reports mg/dL" and copied["GLUC"].set_by == coordinator
    # The renamed variable cannot be read any more: the gap is written in the log, not hidden.
    assert copied["SEX"].category == "undetermined" and copied["SEX"].status == "partial"
    assert copied["SEX"].rationale.startswith("Not copied from mapping 1: Unknown source variable 'sexn'")
    assert len(selectors.current_rules(mapping)) == 8  # the first mapping is untouched


def test_rules_are_copied_only_within_a_trial(trial, other_trial, mapping, analyst):
    with pytest.raises(ApplicationError, match="same trial"):
        services.mapping_create(
            trial=other_trial, source_version=parsed_version(other_trial), actor=analyst, copy_rules_from=mapping
        )
