"""Audit events: every create, change, delete and transition, with before/after values, in the same
transaction as the write it describes."""

import datetime

import pytest

from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.trials import services
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, Trial
from tests.factories import (
    AgreementFactory,
    ContactAttemptFactory,
    ContactFactory,
    EthicsApprovalFactory,
    ReviewFactory,
    TrialFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_creating_a_trial_records_its_values():
    actor = UserFactory()
    review = ReviewFactory()
    trial = services.trial_create(review=review, actor=actor, title="T", registry_id="NCT1", n_randomised=120)
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_id) == ("create", "trial", str(trial.pk))
    assert (event.actor, event.review, event.trial) == (actor, review, trial)
    assert event.before is None
    assert event.after["n_randomised"] == 120 and event.after["status"] == "identified"


def test_updating_records_before_and_after():
    trial = TrialFactory(citation="Old 2010")
    services.trial_update(trial=trial, actor=UserFactory(), data={"citation": "New 2011", "year": 2011})
    event = AuditEvent.objects.get()
    assert event.action == "update"
    assert (event.before["citation"], event.after["citation"]) == ("Old 2010", "New 2011")
    assert event.changed_fields == ["citation", "year"]


def test_an_update_that_changes_nothing_writes_nothing():
    trial = TrialFactory(citation="Same")
    services.trial_update(trial=trial, actor=UserFactory(), data={"citation": "Same"})
    assert not AuditEvent.objects.exists()


def test_a_transition_is_audited_with_the_status_before_and_after():
    trial = TrialFactory(status=Status.IDENTIFIED)
    services.trial_transition(trial=trial, to_status=Status.ELIGIBLE, actor=UserFactory())
    event = AuditEvent.objects.get()
    assert event.action == "transition"
    assert (event.before["status"], event.after["status"]) == ("identified", "eligible")


@pytest.mark.parametrize(
    ("factory", "update", "delete", "kwarg", "change"),
    [
        (ContactFactory, services.contact_update, services.contact_delete, "contact", {"institution": "Oslo"}),
        (
            ContactAttemptFactory,
            services.contact_attempt_update,
            services.contact_attempt_delete,
            "attempt",
            {"note": "x"},
        ),
        (AgreementFactory, services.agreement_update, services.agreement_delete, "agreement", {"conditions": "Remote"}),
        (EthicsApprovalFactory, services.approval_update, services.approval_delete, "approval", {"reference": "R-9"}),
    ],
)
def test_tracking_records_are_audited_on_update_and_delete(factory, update, delete, kwarg, change):
    record = factory()
    actor = UserFactory()
    update(**{kwarg: record}, actor=actor, data=change)
    delete(**{kwarg: record}, actor=actor)
    updated, deleted = AuditEvent.objects.order_by("id")
    field, value = next(iter(change.items()))
    assert updated.action == "update" and updated.after[field] == value
    assert deleted.action == "delete" and deleted.after is None and deleted.before[field] == value
    assert deleted.trial == record.trial and deleted.review == record.trial.review


def test_creating_each_tracking_record_is_audited():
    trial = TrialFactory()
    actor = UserFactory()
    contact = services.contact_create(trial=trial, actor=actor, name="Dr Ng")
    services.contact_attempt_create(
        trial=trial, actor=actor, contact=contact, date=datetime.date(2026, 3, 1), channel="email", outcome="replied"
    )
    services.agreement_create(trial=trial, actor=actor, status="sent")
    services.approval_create(trial=trial, actor=actor, side="receiving", body="REC")
    created = AuditEvent.objects.filter(action="create", trial=trial).values_list("object_type", flat=True)
    assert sorted(created) == ["agreement", "contact", "contactattempt", "ethicsapproval"]


def test_a_refused_write_leaves_no_event_and_no_change():
    trial = TrialFactory(result_ci_low=0.6, result_ci_high=1.1)
    with pytest.raises(ApplicationError) as refused:
        services.trial_update(trial=trial, actor=UserFactory(), data={"result_ci_low": 1.5})
    assert "result_ci_low" in refused.value.details
    assert not AuditEvent.objects.exists()
    assert Trial.objects.get(pk=trial.pk).result_ci_low == 0.6


def test_the_event_is_rolled_back_with_a_write_that_fails_after_it(monkeypatch):
    """The event and the write share a transaction: a failure after the event is written undoes both."""
    trial = TrialFactory(status=Status.IDENTIFIED)
    real_audit_record = services.audit_record

    def audit_then_fail(**kwargs):
        real_audit_record(**kwargs)
        assert AuditEvent.objects.count() == 1
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "audit_record", audit_then_fail)
    with pytest.raises(RuntimeError):
        services.trial_transition(trial=trial, to_status=Status.ELIGIBLE, actor=UserFactory())
    assert not AuditEvent.objects.exists()
    assert not trial.transitions.exists()
    assert Trial.objects.get(pk=trial.pk).status == Status.IDENTIFIED


def test_events_survive_the_deletion_of_their_trial():
    trial = TrialFactory()
    trial_id = trial.pk
    ContactAttemptFactory(trial=trial, contact=ContactFactory(trial=trial))
    services.trial_delete(trial=trial, actor=UserFactory())
    events = AuditEvent.objects.order_by("id")
    assert [(event.action, event.object_type) for event in events] == [
        ("delete", "contactattempt"),
        ("delete", "contact"),
        ("delete", "trial"),
    ]
    trial_event = events.last()
    assert (trial_event.object_id, trial_event.trial) == (str(trial_id), None)
    assert trial_event.before["title"] == trial.title


def test_history_endpoint_shows_before_and_after(api_as):
    from apps.accounts.models import Role
    from tests.factories import MembershipFactory

    membership = MembershipFactory(role=Role.REVIEWER)
    trial = TrialFactory(review=membership.review)
    agreement = AgreementFactory(trial=trial, status=Agreement.Status.SENT)
    client = api_as(membership.user)
    response = client.patch(f"/api/v1/agreements/{agreement.pk}/", {"status": "negotiating"}, format="json")
    assert response.status_code == 200
    history = client.get(f"/api/v1/trials/{trial.pk}/history/").json()["results"]
    assert history[0]["actor"] == membership.user.username
    assert (history[0]["before"]["status"], history[0]["after"]["status"]) == ("sent", "negotiating")
