"""The services and selectors the API and the pages share: ids checked against the trial, suggestions accepted."""

import pytest

from apps.core.errors import ApplicationError
from apps.harmonisation import selectors, services
from apps.harmonisation.models import SchemaVariable
from tests.factories import ReviewFactory
from tests.harmonisation.conftest import parsed_version

pytestmark = pytest.mark.django_db


def test_mapping_create_by_ids_takes_only_the_trials_own_objects(trial, other_trial, version, analyst):
    foreign_version = parsed_version(other_trial)
    with pytest.raises(ApplicationError) as raised:
        services.mapping_create_by_ids(trial=trial, source_version_id=foreign_version.pk, actor=analyst)
    assert raised.value.status == 400 and "source_version" in raised.value.details
    foreign = services.mapping_create(trial=other_trial, source_version=foreign_version, actor=analyst)
    with pytest.raises(ApplicationError) as raised:
        services.mapping_create_by_ids(
            trial=trial, source_version_id=version.pk, actor=analyst, copy_rules_from_id=foreign.pk
        )
    assert "copy_rules_from" in raised.value.details
    first = services.mapping_create_by_ids(trial=trial, source_version_id=version.pk, actor=analyst, note="n")
    second = services.mapping_create_by_ids(
        trial=trial, source_version_id=version.pk, actor=analyst, copy_rules_from_id=first.pk
    )
    assert (first.number, second.number, first.note) == (1, 2, "n")


def test_a_suggestion_is_stored_with_a_rationale_saying_so(mapping, schema, analyst):
    suggestion = {"category": "direct", "source_variables": ["patid"], "parameters": {}, "reason": "same name"}
    rule = services.mapping_suggestion_accept(
        mapping=mapping, target=schema["USUBJID"], actor=analyst, suggestion=suggestion
    )
    assert rule.source_variables == ["patid"]
    assert rule.rationale == f"Suggested (same name), accepted by {analyst.get_username()}."
    assert rule.origin == "suggestion" and rule.suggestion == {"source": None, "score": None, "reason": "same name"}
    for unreadable in ([], {"source_variables": ["patid"]}, {"category": "direct", "parameters": "x"}):
        with pytest.raises(ApplicationError, match="could not be read"):
            services.mapping_suggestion_accept(
                mapping=mapping, target=schema["AGE"], actor=analyst, suggestion=unreadable
            )


def test_schema_target_finds_only_the_reviews_variables(review, schema):
    other = SchemaVariable.objects.create(review=ReviewFactory(), name="AGE")
    assert selectors.schema_target(review.pk, schema["AGE"].pk) == schema["AGE"]
    assert selectors.schema_target(review.pk, str(schema["AGE"].pk)) == schema["AGE"]
    assert selectors.schema_target(review.pk, other.pk) is None
    assert selectors.schema_target(review.pk, "abc") is None and selectors.schema_target(review.pk, None) is None


def test_a_schema_update_from_a_stale_copy_keeps_a_concurrent_change(review, schema, analyst, coordinator):
    stale = SchemaVariable.objects.get(pk=schema["AGE"].pk)
    services.schema_variable_update(variable=schema["AGE"], actor=coordinator, data={"unit": "month"})
    updated = services.schema_variable_update(variable=stale, actor=analyst, data={"label": "Age at entry"})
    stored = SchemaVariable.objects.get(pk=stale.pk)
    assert (stored.unit, stored.label) == ("month", "Age at entry") and updated.unit == "month"
