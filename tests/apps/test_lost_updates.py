"""An update applies its fields to the stored row, not to the copy the request loaded: a change made in
between (a status transition, another person's edit) is kept, never written back to its old value."""

import threading

import pytest
from django.db import connection, transaction

from apps.core.models import AuditEvent
from apps.reviews.models import Outcome, Review
from apps.reviews.services import outcome_update, review_update
from apps.trials.lifecycle import Status
from apps.trials.models import ContactAttempt, Trial
from apps.trials.services import contact_attempt_update, trial_transition, trial_update
from tests.factories import ContactAttemptFactory, OutcomeFactory, ReviewFactory, TrialFactory


@pytest.mark.django_db
def test_a_trial_edit_from_a_stale_copy_does_not_undo_a_transition():
    trial = TrialFactory(status=Status.IDENTIFIED)
    loaded_by_the_patch = Trial.objects.get(pk=trial.pk)
    trial_transition(trial=trial, to_status=Status.ELIGIBLE, actor=None)
    trial_update(trial=loaded_by_the_patch, actor=None, data={"title": "Renamed while it moved"})
    trial.refresh_from_db()
    assert trial.status == Status.ELIGIBLE
    assert trial.screening_decision == Trial.ScreeningDecision.INCLUDED
    assert trial.title == "Renamed while it moved"


@pytest.mark.django_db
def test_the_update_audit_event_records_the_stored_values_before_the_change():
    trial = TrialFactory(status=Status.IDENTIFIED)
    stale = Trial.objects.get(pk=trial.pk)
    trial_transition(trial=trial, to_status=Status.ELIGIBLE, actor=None)
    trial_update(trial=stale, actor=None, data={"year": 2001})
    event = AuditEvent.objects.filter(object_type="trial", action=AuditEvent.Action.UPDATE).latest("id")
    assert event.before["status"] == Status.ELIGIBLE
    assert event.changed_fields == ["year"]


@pytest.mark.django_db
def test_two_edits_of_one_outcome_from_stale_copies_both_stay():
    outcome = OutcomeFactory()
    first, second = Outcome.objects.get(pk=outcome.pk), Outcome.objects.get(pk=outcome.pk)
    outcome_update(outcome=first, actor=None, data={"description": "Death from any cause by day 30."})
    outcome_update(outcome=second, actor=None, data={"name": "All-cause mortality at 30 days"})
    outcome.refresh_from_db()
    assert outcome.description == "Death from any cause by day 30."
    assert outcome.name == "All-cause mortality at 30 days"


@pytest.mark.django_db
def test_two_edits_of_one_review_from_stale_copies_both_stay():
    review = ReviewFactory()
    first, second = Review.objects.get(pk=review.pk), Review.objects.get(pk=review.pk)
    review_update(review=first, actor=None, data={"question": "Does it work?"})
    review_update(review=second, actor=None, data={"registration": "PROSPERO CRD42026000777"})
    review.refresh_from_db()
    assert (review.question, review.registration) == ("Does it work?", "PROSPERO CRD42026000777")


@pytest.mark.django_db
def test_a_contact_attempt_edit_from_a_stale_copy_keeps_the_other_change():
    attempt = ContactAttemptFactory()
    first, second = ContactAttempt.objects.get(pk=attempt.pk), ContactAttempt.objects.get(pk=attempt.pk)
    contact_attempt_update(attempt=first, actor=None, data={"note": "Phoned the PI."})
    contact_attempt_update(attempt=second, actor=None, data={"outcome": ContactAttempt.Outcome.REPLIED})
    attempt.refresh_from_db()
    assert (attempt.note, attempt.outcome) == ("Phoned the PI.", ContactAttempt.Outcome.REPLIED)


@pytest.mark.django_db(transaction=True)
def test_a_patch_running_alongside_a_transition_does_not_put_the_status_back():
    """Two real transactions: the transition holds the row while the edit, loaded before it, waits."""
    trial = TrialFactory(status=Status.IDENTIFIED)
    loaded_by_the_patch = Trial.objects.get(pk=trial.pk)
    errors = []

    def patch():
        try:
            trial_update(trial=loaded_by_the_patch, actor=None, data={"title": "Edited during the move"})
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=patch)
    with transaction.atomic():
        trial_transition(trial=trial, to_status=Status.ELIGIBLE, actor=None)
        worker.start()
        worker.join(0.5)  # the edit now waits for the transition's lock
    worker.join(10)
    assert not errors
    trial.refresh_from_db()
    assert (trial.status, trial.title) == (Status.ELIGIBLE, "Edited during the move")
