"""The follow-up reminder and the agreement expiry: services, tasks, and one run on a real Celery worker."""

import datetime
import os

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, ContactAttempt
from apps.trials.services import agreements_mark_expired, followups_notify_due
from apps.trials.tasks import agreements_mark_expired_task, followups_notify_due_task
from ipdreview.celery import app as celery_app
from tests.factories import AgreementFactory, ContactAttemptFactory, MembershipFactory, TrialFactory, UserFactory
from tests.workers import start_worker, stop_worker

TODAY = datetime.date(2026, 6, 15)


def _due_attempt(owner, *, trial=None, follow_up=TODAY, **extra):
    trial = trial or TrialFactory(status=Status.CONTACTED)
    MembershipFactory(review=trial.review, user=owner, role=Role.REVIEWER)
    return ContactAttemptFactory(
        trial=trial, date=follow_up - datetime.timedelta(days=14), next_follow_up=follow_up, owner=owner, **extra
    )


@pytest.mark.django_db
def test_each_owner_gets_one_email_listing_their_due_follow_ups():
    ada, ben = UserFactory(username="ada"), UserFactory(username="ben")
    first = _due_attempt(ada, follow_up=TODAY - datetime.timedelta(days=3))
    second = _due_attempt(ada)
    bens = _due_attempt(ben)
    assert followups_notify_due(today=TODAY) == 2
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"ada@example.org", "ben@example.org"}
    assert str(first.trial) in by_recipient["ada@example.org"].body
    assert str(second.trial) in by_recipient["ada@example.org"].body
    assert str(bens.trial) not in by_recipient["ada@example.org"].body
    assert "2 follow-up(s) due" in by_recipient["ada@example.org"].subject
    for attempt in (first, second, bens):
        attempt.refresh_from_db()
        assert attempt.notified_at is not None


@pytest.mark.django_db
def test_a_second_run_sends_nothing_new():
    _due_attempt(UserFactory())
    assert followups_notify_due(today=TODAY) == 1
    assert followups_notify_due(today=TODAY) == 0
    assert followups_notify_due(today=TODAY + datetime.timedelta(days=1)) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_only_follow_ups_that_are_due_and_still_open_are_sent():
    owner = UserFactory()
    _due_attempt(owner, follow_up=TODAY + datetime.timedelta(days=1))  # not yet due
    superseded = _due_attempt(owner)
    ContactAttemptFactory(trial=superseded.trial, date=TODAY - datetime.timedelta(days=1))  # already followed up
    _due_attempt(owner, trial=TrialFactory(status=Status.DECLINED))  # trial left the path
    _due_attempt(UserFactory(email=""))  # nobody to write to
    assert followups_notify_due(today=TODAY) == 0
    assert mail.outbox == []
    assert not ContactAttempt.objects.filter(notified_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_new_follow_up_date_deserves_a_new_reminder():
    from apps.trials.services import contact_attempt_update

    owner = UserFactory()
    attempt = _due_attempt(owner)
    followups_notify_due(today=TODAY)
    contact_attempt_update(attempt=attempt, actor=owner, data={"next_follow_up": TODAY + datetime.timedelta(days=7)})
    assert followups_notify_due(today=TODAY + datetime.timedelta(days=7)) == 1
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_signed_agreements_past_their_date_are_marked_expired():
    past = AgreementFactory(
        status="signed", signed_on=TODAY.replace(year=2025), expires_on=TODAY - datetime.timedelta(1)
    )
    today = AgreementFactory(status="signed", signed_on=TODAY.replace(year=2025), expires_on=TODAY)
    draft = AgreementFactory(status="draft", expires_on=TODAY - datetime.timedelta(days=30))
    assert agreements_mark_expired(today=TODAY) == 1
    assert agreements_mark_expired(today=TODAY) == 0
    statuses = {a.pk: a.status for a in Agreement.objects.all()}
    assert statuses == {past.pk: "expired", today.pk: "signed", draft.pk: "draft"}
    event = AuditEvent.objects.get()
    assert (event.actor, event.before["status"], event.after["status"]) == (None, "signed", "expired")


@pytest.mark.django_db
def test_tasks_take_a_date_and_call_the_service():
    _due_attempt(UserFactory())
    AgreementFactory(status="signed", signed_on=TODAY.replace(year=2025), expires_on=TODAY - datetime.timedelta(1))
    assert followups_notify_due_task.apply(args=[TODAY.isoformat()]).get() == 1
    assert agreements_mark_expired_task.apply(args=[TODAY.isoformat()]).get() == 1


def test_beat_runs_both_tasks_daily_on_the_default_queue():
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}
    for task, hour in ((followups_notify_due_task, 7), (agreements_mark_expired_task, 1)):
        assert schedule[task.name].hour == {hour}
        assert schedule[task.name].minute == {0}
        assert celery_app.amqp.router.route({}, task.name)["queue"].name == "default"
    assert {queue.name for queue in celery_app.conf.task_queues} >= {"default", "ingest", "checks", "analysis"}
    assert celery_app.amqp.router.route({}, "apps.analyses.tasks.run")["queue"].name == "analysis"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_tasks_against_the_test_database():
    owner = UserFactory()
    attempt = _due_attempt(owner, follow_up=timezone.localdate() - datetime.timedelta(days=1))
    agreement = AgreementFactory(
        status="signed", signed_on=datetime.date(2025, 1, 1), expires_on=timezone.localdate() - datetime.timedelta(1)
    )
    # A queue of its own, so that no other worker on this Redis takes the tasks to another database.
    queue = f"test-worker-{os.getpid()}"
    worker = start_worker(queue)
    try:
        expiry = agreements_mark_expired_task.apply_async(queue=queue)
        reminder = followups_notify_due_task.apply_async(queue=queue)
        assert expiry.get(timeout=60) == 1
        assert reminder.get(timeout=60) == 1
    finally:
        output = stop_worker(worker)
    agreement.refresh_from_db()
    attempt.refresh_from_db()
    assert agreement.status == "expired"
    assert attempt.notified_at is not None
    assert "agreements_mark_expired_task" in output and "succeeded" in output


@pytest.mark.django_db
def test_a_follow_up_without_an_owner_falls_to_whoever_logged_it():
    from apps.trials.services import contact_attempt_create

    membership = MembershipFactory(role=Role.REVIEWER)
    trial = TrialFactory(review=membership.review, status=Status.CONTACTED)
    attempt = contact_attempt_create(
        trial=trial,
        actor=membership.user,
        date=TODAY - datetime.timedelta(days=14),
        channel="email",
        outcome="no_reply",
        next_follow_up=TODAY,
    )
    assert attempt.owner == membership.user
    assert followups_notify_due(today=TODAY) == 1
    assert mail.outbox[0].to == [membership.user.email]


@pytest.mark.django_db
def test_an_owner_who_left_the_review_is_not_reminded():
    stayed, left = UserFactory(username="stayed"), UserFactory(username="left")
    _due_attempt(stayed)
    departed = _due_attempt(left)
    left.memberships.filter(review=departed.trial.review).delete()
    assert followups_notify_due(today=TODAY) == 1
    assert [message.to[0] for message in mail.outbox] == ["stayed@example.org"]
    departed.refresh_from_db()
    assert departed.notified_at is None


@pytest.mark.django_db
def test_an_inactive_owner_is_not_reminded():
    owner = UserFactory(username="gone", is_active=False)
    attempt = _due_attempt(owner)
    assert followups_notify_due(today=TODAY) == 0
    assert mail.outbox == []
    attempt.refresh_from_db()
    assert attempt.notified_at is None


@pytest.mark.django_db
def test_an_owner_who_is_a_member_of_another_review_only_is_not_reminded_about_this_one():
    owner = UserFactory(username="elsewhere")
    attempt = _due_attempt(owner)
    owner.memberships.filter(review=attempt.trial.review).delete()
    MembershipFactory(review=TrialFactory().review, user=owner, role=Role.REVIEWER)
    assert followups_notify_due(today=TODAY) == 0
