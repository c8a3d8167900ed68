"""The helpers every service saves and audits with (apps.core.services), and outcome_delete, tested directly."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile

from apps.accounts.models import Role
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.core.services import (
    assign_fields,
    audit_record,
    locked_copy,
    save_and_audit,
    snapshot,
    update_and_audit,
    validate,
)
from apps.reviews.models import Outcome
from apps.reviews.services import outcome_delete
from tests.factories import (
    AgreementFactory,
    MembershipFactory,
    OutcomeFactory,
    ReviewFactory,
    TrialFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def row(instance) -> dict:
    return type(instance).objects.filter(pk=instance.pk).values().get()


# ------------------------------------------------------------------------------------------------ snapshot


def test_a_snapshot_holds_ids_iso_dates_file_names_and_no_timestamps():
    agreement = AgreementFactory(
        status="signed", signed_on=datetime.date(2026, 1, 12), expires_on=datetime.date(2027, 1, 11)
    )
    agreement.document.save("dsa.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    data = snapshot(agreement)
    assert data["trial_id"] == agreement.trial_id and "trial" not in data
    assert (data["signed_on"], data["expires_on"]) == ("2026-01-12", "2027-01-11")
    assert data["document"] == agreement.document.name and data["document"].endswith(".pdf")
    assert "created_at" not in data and "updated_at" not in data
    assert data["id"] == agreement.pk and data["status"] == "signed"


def test_a_snapshot_lists_many_to_many_ids_sorted():
    review = ReviewFactory()
    first, second = TrialFactory(review=review), TrialFactory(review=review)
    membership = MembershipFactory(review=review, role=Role.CONTRIBUTOR, trials=[second, first])
    assert snapshot(membership)["trials"] == sorted([first.pk, second.pk])
    assert snapshot(Outcome(review=review, name="Unsaved", type="binary", measure="OR"))["id"] is None


# ---------------------------------------------------------------------------------------------- audit_record


def test_an_audit_event_names_the_object_and_its_values():
    actor, outcome = UserFactory(), OutcomeFactory(name="x" * 200, measure="RR")
    event = audit_record(
        actor=actor, action=AuditEvent.Action.UPDATE, instance=outcome, before={"a": 1}, after={"a": 2}
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor, stored.action, stored.object_type, stored.object_id) == (
        actor,
        "update",
        "outcome",
        str(outcome.pk),
    )
    assert stored.object_repr == str(outcome) and len(stored.object_repr) == 205
    assert (stored.before, stored.after, stored.review, stored.trial) == ({"a": 1}, {"a": 2}, None, None)


def test_an_audit_event_of_a_worker_or_anonymous_actor_has_no_actor():
    outcome = OutcomeFactory()
    for actor in (None, AnonymousUser()):
        event = audit_record(actor=actor, action=AuditEvent.Action.TRANSITION, instance=outcome)
        assert AuditEvent.objects.get(pk=event.pk).actor is None


def test_a_long_representation_is_cut_to_255_characters():
    outcome = OutcomeFactory(name="y" * 200)
    outcome.name = "z" * 300  # unsaved: the representation only
    event = audit_record(actor=None, action=AuditEvent.Action.UPDATE, instance=outcome)
    assert AuditEvent.objects.get(pk=event.pk).object_repr == ("z" * 300 + " (OR)")[:255]


# -------------------------------------------------------------------------------------------- save_and_audit


def test_save_and_audit_writes_only_the_fields_named_and_records_before_and_after():
    actor, outcome = UserFactory(), OutcomeFactory(description="old", is_primary=False)
    before = snapshot(outcome)
    outcome.description = "new"
    outcome.is_primary = True  # changed in memory, not named: not written
    save_and_audit(outcome, actor=actor, before=before, review=outcome.review, fields=["description"])
    stored = row(outcome)
    assert (stored["description"], stored["is_primary"]) == ("new", False)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.review) == ("update", actor, outcome.review)
    assert (event.before["description"], event.after["description"]) == ("old", "new")


def test_save_and_audit_takes_the_action_it_is_given():
    outcome = OutcomeFactory()
    save_and_audit(outcome, actor=None, before=None, review=outcome.review, action=AuditEvent.Action.TRANSITION)
    assert AuditEvent.objects.get().action == "transition"


# ------------------------------------------------------------------------------------- validate, assign_fields


def test_validate_names_each_bad_field_and_changes_nothing():
    outcome = OutcomeFactory(name="Mortality")
    outcome.type = "weekly"
    outcome.measure = "XX"
    with pytest.raises(ApplicationError) as refused:
        validate(outcome)
    assert refused.value.code == "invalid"
    assert set(refused.value.details) == {"type", "measure"}
    assert refused.value.message.startswith("Invalid input. ")
    assert "type: Value 'weekly' is not a valid choice." in refused.value.message
    assert row(outcome)["type"] == "binary"
    validate(outcome, exclude=["type", "measure"])  # excluded fields are not checked


def test_validate_puts_errors_of_the_whole_record_under_non_field_errors():
    first = OutcomeFactory(name="Mortality")
    duplicate = Outcome(review=first.review, name="Mortality", type="binary", measure="OR")
    with pytest.raises(ApplicationError) as refused:
        validate(duplicate)
    assert list(refused.value.details) == ["non_field_errors"]
    assert "__all__" not in refused.value.details


def test_assign_fields_sets_the_changed_fields_and_returns_their_names():
    outcome = OutcomeFactory(name="Mortality", description="same")
    changed = assign_fields(
        instance=outcome, data={"name": "Death", "description": "same"}, allowed={"name", "description"}
    )
    assert changed == ["name"]
    assert (outcome.name, row(outcome)["name"]) == ("Death", "Mortality")  # set, not saved


def test_assign_fields_refuses_unknown_fields_and_sets_none():
    outcome = OutcomeFactory(name="Mortality")
    with pytest.raises(ApplicationError) as refused:
        assign_fields(instance=outcome, data={"name": "Death", "review": 1, "id": 5}, allowed={"name"})
    assert refused.value.message == "These fields cannot be set here: id, review."
    assert refused.value.details == {
        "review": ["This field cannot be set here."],
        "id": ["This field cannot be set here."],
    }
    assert outcome.name == "Mortality"


# --------------------------------------------------------------------------------- locked_copy, update_and_audit


def test_locked_copy_reads_the_stored_row_again():
    outcome = OutcomeFactory(name="Mortality")
    Outcome.objects.filter(pk=outcome.pk).update(name="Death")
    assert locked_copy(outcome).name == "Death" and outcome.name == "Mortality"


def test_update_and_audit_writes_the_change_and_one_event():
    actor, outcome = UserFactory(), OutcomeFactory(name="Mortality", description="")
    saved = update_and_audit(
        instance=outcome, actor=actor, data={"description": "All-cause"}, allowed={"description"}, review=outcome.review
    )
    assert row(outcome)["description"] == "All-cause" and saved.description == "All-cause"
    event = AuditEvent.objects.get()
    assert (event.before["description"], event.after["description"], event.actor) == ("", "All-cause", actor)


def test_update_and_audit_with_no_change_writes_nothing():
    outcome = OutcomeFactory(description="same")
    stored = row(outcome)
    update_and_audit(
        instance=outcome, actor=None, data={"description": "same"}, allowed={"description"}, review=outcome.review
    )
    assert row(outcome) == stored  # updated_at too
    assert not AuditEvent.objects.exists()


def test_update_and_audit_keeps_a_change_made_since_the_caller_read_the_row():
    outcome = OutcomeFactory(name="Mortality", description="")
    Outcome.objects.filter(pk=outcome.pk).update(name="Renamed elsewhere")
    update_and_audit(
        instance=outcome, actor=None, data={"description": "x"}, allowed={"description"}, review=outcome.review
    )
    assert (row(outcome)["name"], row(outcome)["description"]) == ("Renamed elsewhere", "x")
    assert AuditEvent.objects.get().before["name"] == "Renamed elsewhere"


def test_update_and_audit_refused_by_validation_or_by_the_services_check_writes_nothing():
    outcome = OutcomeFactory(type="binary", measure="OR")
    stored = row(outcome)
    with pytest.raises(ApplicationError):
        update_and_audit(instance=outcome, actor=None, data={"type": "weekly"}, allowed={"type"}, review=None)

    def refuse(instance):
        raise ApplicationError("measure: not for this type.", details={"measure": ["not for this type."]})

    with pytest.raises(ApplicationError, match="not for this type"):
        update_and_audit(
            instance=outcome, actor=None, data={"measure": "RR"}, allowed={"measure"}, review=None, check=refuse
        )
    assert row(outcome) == stored
    assert not AuditEvent.objects.exists()


def test_update_and_audit_sets_the_services_own_fields_along_with_a_change():
    outcome = OutcomeFactory(is_primary=False, description="")
    update_and_audit(
        instance=outcome,
        actor=None,
        data={"description": "Primary now"},
        allowed={"description"},
        review=outcome.review,
        also_set={"is_primary": True},
    )
    assert (row(outcome)["description"], row(outcome)["is_primary"]) == ("Primary now", True)
    assert AuditEvent.objects.get().after["is_primary"] is True


# ------------------------------------------------------------------------------------------------ outcome_delete


def test_outcome_delete_removes_the_outcome_and_audits_what_it_was():
    actor = UserFactory()
    outcome = OutcomeFactory(name="Mortality", measure="RR", description="At 90 days")
    kept = OutcomeFactory(review=outcome.review, name="Stroke")
    before = snapshot(outcome)
    outcome_delete(outcome=outcome, actor=actor)
    assert not Outcome.objects.filter(pk=outcome.pk).exists()
    assert list(Outcome.objects.filter(review=outcome.review).values_list("pk", flat=True)) == [kept.pk]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.review, event.trial) == ("delete", actor, outcome.review, None)
    assert (event.object_type, event.object_id, event.object_repr) == ("outcome", str(before["id"]), "Mortality (RR)")
    assert event.before == before and event.after is None


def test_outcome_delete_audits_the_stored_row_not_a_stale_copy():
    outcome = OutcomeFactory(name="Mortality")
    Outcome.objects.filter(pk=outcome.pk).update(description="Edited elsewhere")
    outcome_delete(outcome=outcome, actor=None)
    event = AuditEvent.objects.get()
    assert event.before["description"] == "Edited elsewhere" and event.actor is None
