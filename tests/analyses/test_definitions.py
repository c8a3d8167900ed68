"""Defining analyses: sensible defaults from the outcome and the schema's roles, only choices that make sense
(each refusal a 400 naming the field and why, changing nothing), and every change audited."""

import pytest

from apps.analyses import services
from apps.analyses.models import Analysis
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.harmonisation.models import SchemaVariable
from apps.harmonisation.services import schema_variable_delete
from apps.reviews.services import outcome_delete
from tests.analyses.conftest import outcome
from tests.factories import OutcomeFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def create(review, analyst, **data):
    return services.analysis_create(review=review, actor=analyst, data={"name": "Primary", **data})


def refused(review, analyst, field: str, **data) -> str:
    before = Analysis.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as caught:
        create(review, analyst, **data)
    assert caught.value.status == 400
    assert field in caught.value.details, caught.value.details
    assert caught.value.message.startswith(f"{field}: ")
    assert (Analysis.objects.count(), AuditEvent.objects.count()) == before
    return caught.value.message


def test_defaults_come_from_the_outcome_and_the_schema_roles(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk)
    assert analysis.measure == "OR"
    assert (analysis.approach, analysis.tau2, analysis.ci, analysis.quadrature) == ("two-stage", "REML", "wald", None)
    assert analysis.treatment.name == "TRT01P"
    assert analysis.outcome_variable.name == "DEATH"  # the binary one, not SBP
    assert analysis.time_variable is None and analysis.event_variable is None
    assert analysis.trials == "included" and analysis.aggregate is False


def test_a_survival_analysis_takes_time_and_event(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Time to stroke").pk, approach="one-stage")
    assert (analysis.time_variable.name, analysis.event_variable.name) == ("AVAL", "EVENT")
    assert analysis.outcome_variable is None
    assert (analysis.tau2, analysis.ci, analysis.quadrature) == ("", "", None)


def test_a_continuous_analysis_defaults_to_the_numeric_outcome(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Systolic blood pressure").pk)
    assert analysis.outcome_variable.name == "SBP" and analysis.measure == "MD"


def test_one_stage_binary_takes_quadrature(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk, approach="one-stage", quadrature=7)
    assert analysis.quadrature == 7
    laplace = create(review, analyst, name="Laplace", outcome=outcome(review, "Death").pk, approach="one-stage")
    assert laplace.quadrature == 1


def test_covariates_keep_their_order_and_are_audited(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk, adjust=["SEX", "AGE"], interaction="AGE")
    assert [variable.name for variable in analysis.adjust_variables] == ["SEX", "AGE"]
    event = AuditEvent.objects.get(object_type="analysis", action=AuditEvent.Action.CREATE)
    assert event.after["adjust"] == ["SEX", "AGE"]
    assert event.after["interaction_id"] == SchemaVariable.objects.get(review=review, name="AGE").pk
    assert event.actor == analyst


@pytest.mark.parametrize(
    ("field", "data", "words"),
    [
        ("measure", {"measure": "MD"}, "does not fit the outcome"),
        ("measure", {"measure": "HR"}, "use OR or RD or RR"),
        ("tau2", {"approach": "one-stage", "tau2": "DL"}, "only two-stage analyses"),
        ("ci", {"approach": "one-stage", "ci": "hksj"}, "only two-stage analyses"),
        ("quadrature", {"quadrature": 5}, "only one-stage analyses of a binary outcome"),
        ("quadrature", {"approach": "one-stage", "quadrature": 0}, "whole number from 1"),
        ("measure", {"approach": "one-stage", "measure": "RR"}, "available two-stage only"),
        ("aggregate", {"approach": "one-stage", "aggregate": True}, "two-stage"),
        ("interaction", {"interaction": "DEATH"}, "must be a covariate"),
        ("interaction", {"interaction": "WEIGHT"}, "is not a variable of the review's schema"),
        ("adjust", {"adjust": ["AGE", "NOPE"]}, "'NOPE' is not a variable"),
        ("adjust", {"adjust": ["TRT01P"]}, "only covariates adjust"),
        ("adjust", {"adjust": ["AGE", "AGE"]}, "listed twice"),
        ("treatment", {"treatment": "AGE"}, "must be a treatment"),
        ("outcome_variable", {"outcome_variable": "SBP"}, "number or an integer"),
        ("time_variable", {"time_variable": "AVAL"}, "does not use it"),
        ("tau2", {"tau2": "XYZ"}, "is not one of"),
        ("approach", {"approach": "three-stage"}, "is not one of"),
        ("adjust", {"measure": "RR", "adjust": ["AGE"]}, "estimates the odds ratio, not the RR"),
        ("interaction", {"measure": "RD", "interaction": "AGE"}, "estimated on the odds ratio, not the RD"),
    ],
)
def test_choices_that_make_no_sense_are_refused_with_the_field_and_why(review, analyst, field, data, words):
    data = {"outcome": outcome(review, "Death").pk, **data}
    if field == "outcome_variable":
        # SBP is a number but not coded 0/1: a binary outcome cannot use it.
        SchemaVariable.objects.filter(review=review, name="SBP").update(allowed_values=[80, 200])
    message = refused(review, analyst, field, **data)
    assert words in message or (field == "outcome_variable" and "coded 0/1" in message), message


def test_an_outcome_of_another_review_is_refused(review, analyst):
    foreign = OutcomeFactory(review=ReviewFactory())
    assert "is not an outcome of this review" in refused(review, analyst, "outcome", outcome=foreign.pk)


def test_a_schema_without_the_needed_role_is_named(review, analyst):
    SchemaVariable.objects.filter(review=review, role="time").delete()
    message = refused(review, analyst, "time_variable", outcome=outcome(review, "Time to stroke").pk)
    assert "no time variable" in message


def test_names_are_unique_per_review(review, analyst):
    create(review, analyst, outcome=outcome(review, "Death").pk)
    assert "already has an analysis named" in refused(review, analyst, "name", outcome=outcome(review, "Death").pk)


def test_changing_the_approach_clears_what_no_longer_applies(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk, tau2="DL", ci="hksj")
    changed = services.analysis_update(analysis=analysis, actor=analyst, data={"approach": "one-stage"})
    assert (changed.tau2, changed.ci, changed.quadrature) == ("", "", 1)
    event = AuditEvent.objects.filter(object_type="analysis", action=AuditEvent.Action.UPDATE).get()
    assert (event.before["tau2"], event.after["tau2"]) == ("DL", "")
    back = services.analysis_update(analysis=changed, actor=analyst, data={"approach": "two-stage"})
    assert (back.tau2, back.ci, back.quadrature) == ("REML", "wald", None)


def test_changing_the_outcome_follows_its_measure_and_variables(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk, measure="RR")
    changed = services.analysis_update(
        analysis=analysis, actor=analyst, data={"outcome": outcome(review, "Time to stroke").pk}
    )
    assert changed.measure == "HR"
    assert (changed.outcome_variable, changed.time_variable.name) == (None, "AVAL")


def test_an_update_that_changes_nothing_writes_no_event(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk)
    services.analysis_update(analysis=analysis, actor=analyst, data={"name": "Primary"})
    assert not AuditEvent.objects.filter(object_type="analysis", action=AuditEvent.Action.UPDATE).exists()


def test_a_refused_update_changes_nothing(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk)
    with pytest.raises(ApplicationError):
        services.analysis_update(analysis=analysis, actor=analyst, data={"approach": "one-stage", "ci": "hksj"})
    analysis.refresh_from_db()
    assert (analysis.approach, analysis.ci) == ("two-stage", "wald")


def test_one_primary_analysis_per_outcome(review, analyst):
    first = create(review, analyst, outcome=outcome(review, "Death").pk, is_primary=True)
    second = create(review, analyst, name="Second", outcome=outcome(review, "Death").pk, is_primary=True)
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    moved = AuditEvent.objects.get(object_type="analysis", object_id=str(first.pk), action="update")
    assert (moved.before["is_primary"], moved.after["is_primary"]) == (True, False)


def test_delete_is_audited_with_the_definition(review, analyst):
    analysis = create(review, analyst, outcome=outcome(review, "Death").pk, adjust=["AGE"])
    services.analysis_delete(analysis=analysis, actor=analyst)
    assert not Analysis.objects.exists()
    event = AuditEvent.objects.get(object_type="analysis", action=AuditEvent.Action.DELETE)
    assert event.before["name"] == "Primary" and event.before["adjust"] == ["AGE"]


def test_an_outcome_or_a_variable_in_use_cannot_be_deleted(review, analyst, coordinator):
    create(review, analyst, outcome=outcome(review, "Death").pk, adjust=["SEX"])
    with pytest.raises(ApplicationError) as caught:
        outcome_delete(outcome=outcome(review, "Death"), actor=coordinator)
    assert caught.value.status == 409 and "analyses" in caught.value.message
    with pytest.raises(ApplicationError) as caught:
        schema_variable_delete(variable=SchemaVariable.objects.get(review=review, name="SEX"), actor=coordinator)
    assert caught.value.status == 409 and "SEX is used by" in caught.value.message
    assert SchemaVariable.objects.filter(review=review, name="SEX").exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).exists()
