"""The trial page's forms: valid posts save through the services, bad input shows a message and saves nothing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.trials.models import ContactAttempt, StatusTransition

pytestmark = pytest.mark.django_db


def attempt_url(trial):
    return reverse("dashboard:contact-attempt-create", args=[trial.pk])


def transition_url(trial):
    return reverse("dashboard:trial-transition", args=[trial.pk])


def refused_move(client, trial, data) -> str:
    """Post a status change that is refused: it redirects back to the trial page (so a reload does not post it
    again), which shows the refusal once."""
    response = client.post(transition_url(trial), data)
    assert response.status_code == 302
    assert response.url == reverse("dashboard:trial-detail", args=[trial.pk]) + "#move-status"
    html = client.get(response.url).content.decode()
    assert "Please correct the fields marked below" not in html
    assert "Nothing was changed." not in client.get(response.url).content.decode()  # shown once
    return html


def valid_attempt(trial, **overrides):
    data = {
        "date": "2026-01-12",
        "channel": "email",
        "outcome": "no_reply",
        "contact": str(trial.contacts.get().pk),
        "next_follow_up": "2026-01-26",
        "owner": "",
        "note": "Second reminder sent to the corresponding author.",
    }
    data.update(overrides)
    return data


def test_logging_an_attempt_saves_it_and_redirects_to_the_timeline(client, reviewer, trial):
    response = client.post(attempt_url(trial), valid_attempt(trial, owner=str(reviewer.pk)))

    assert response.status_code == 302
    assert response.url == reverse("dashboard:trial-detail", args=[trial.pk]) + "#timeline"
    attempt = ContactAttempt.objects.get(trial=trial)
    assert attempt.date == datetime.date(2026, 1, 12)
    assert attempt.next_follow_up == datetime.date(2026, 1, 26)
    assert attempt.owner == reviewer and attempt.created_by == reviewer
    assert AuditEvent.objects.filter(object_type="contactattempt", action="create", actor=reviewer).count() == 1

    page = client.get(response.url).content.decode()
    assert "Contact attempt logged." in page
    assert "E-mail with Dr Ada Okafor: No reply yet" in page
    assert "Second reminder sent to the corresponding author." in page


def test_malformed_date_is_shown_next_to_the_field_and_nothing_is_saved(client, reviewer, trial):
    response = client.post(attempt_url(trial), valid_attempt(trial, date="2026-13-45"))

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="attempt_date_errors"' in html and "Enter a valid date." in html
    assert 'aria-invalid="true"' in html
    # What the user typed is kept.
    assert 'value="2026-13-45"' in html
    assert "Second reminder sent to the corresponding author." in html
    assert ContactAttempt.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_follow_up_before_the_attempt_is_refused(client, reviewer, trial):
    response = client.post(attempt_url(trial), valid_attempt(trial, next_follow_up="2026-01-01"))
    assert response.status_code == 400
    assert "The next follow-up cannot be before the attempt." in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_attempt_in_the_future_is_refused(client, reviewer, trial):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(attempt_url(trial), valid_attempt(trial, date=tomorrow.isoformat(), next_follow_up=""))
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_contact_from_another_trial_is_refused(client, reviewer, trial, second_trial):
    stranger = second_trial.contacts.create(name="Someone else")
    response = client.post(attempt_url(trial), valid_attempt(trial, contact=str(stranger.pk)))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_analyst_cannot_log_attempts(client, member, trial):
    member(client, Role.ANALYST)
    response = client.post(attempt_url(trial), valid_attempt(trial))
    assert response.status_code == 403
    assert ContactAttempt.objects.count() == 0


def test_assigned_contributor_logs_attempts_but_cannot_move_the_status(client, member, trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    assert client.post(attempt_url(trial), valid_attempt(trial)).status_code == 302
    assert ContactAttempt.objects.filter(trial=trial).count() == 1

    response = client.post(transition_url(trial), {"to_status": "responded"})
    assert response.status_code == 403
    trial.refresh_from_db()
    assert trial.status == "contacted"


def test_contributor_writing_to_an_unassigned_trial_gets_404(client, member, trial, second_trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    second_trial.contacts.create(name="Prof Lee")
    assert client.post(attempt_url(second_trial), valid_attempt(second_trial)).status_code == 404
    assert ContactAttempt.objects.count() == 0


def test_moving_the_status_records_the_transition(client, reviewer, trial):
    response = client.post(
        transition_url(trial), {"to_status": "responded", "reason": "", "note": "Replied by e-mail."}
    )

    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.status == "responded"
    transition = StatusTransition.objects.get(trial=trial)
    assert (transition.from_status, transition.to_status, transition.actor) == ("contacted", "responded", reviewer)
    page = client.get(response.url).content.decode()
    assert "Status changed to Responded." in page
    assert "Contacted → Responded" in page


def test_an_exit_needs_a_reason(client, reviewer, trial):
    html = refused_move(client, trial, {"to_status": "declined", "reason": "", "note": "They said no."})

    assert "Give a reason for moving the trial to Declined." in html
    assert "They said no." in html
    trial.refresh_from_db()
    assert trial.status == "contacted"
    assert StatusTransition.objects.count() == 0


def test_an_exit_with_a_reason_of_another_exit_is_refused(client, reviewer, trial):
    html = refused_move(client, trial, {"to_status": "declined", "reason": "no_reply"})
    assert "For Declined, choose one of:" in html
    assert StatusTransition.objects.count() == 0


def test_an_exit_with_its_reason_is_stored(client, reviewer, trial):
    data = {"to_status": "declined", "reason": "sponsor_declined", "note": "Sponsor policy."}
    assert client.post(transition_url(trial), data).status_code == 302
    trial.refresh_from_db()
    assert (trial.status, trial.exit_reason, trial.exit_note) == ("declined", "sponsor_declined", "Sponsor policy.")


@pytest.mark.parametrize(
    ("to_status", "sentence"),
    [
        ("included", "Included cannot be chosen: a trial that is contacted can move only to: Responded, No response"),
        ("identified", "Identified cannot be chosen: a trial that is contacted can move only to:"),
        ("no_such_status", "&#x27;no_such_status&#x27; is not a status. A trial that is contacted can move to:"),
    ],
)
def test_a_move_the_lifecycle_does_not_allow_is_refused_naming_the_allowed_states(
    client, reviewer, trial, to_status, sentence
):
    html = refused_move(client, trial, {"to_status": to_status})
    assert sentence in html
    assert "Select a valid choice" not in html
    trial.refresh_from_db()
    assert trial.status == "contacted"
    assert StatusTransition.objects.count() == 0


def test_analyst_cannot_move_the_status(client, member, trial):
    member(client, Role.ANALYST)
    response = client.post(transition_url(trial), {"to_status": "responded"})
    assert response.status_code == 403
    trial.refresh_from_db()
    assert trial.status == "contacted"
    assert StatusTransition.objects.count() == 0


def test_marking_the_agreement_signed_without_one_on_record_says_what_is_missing(client, reviewer, trial):
    trial.status = "agreement_in_progress"
    trial.save()
    html = refused_move(client, trial, {"to_status": "agreement_signed"})
    refusal = html.split('id="transition-refusal">')[1].split("</div>")[0]
    assert "<p>Cannot mark the agreement signed: the trial has no signed data-sharing agreement." in refusal
    trial.refresh_from_db()
    assert trial.status == "agreement_in_progress"
    assert StatusTransition.objects.count() == 0


def test_marking_data_received_without_an_upload_says_what_is_missing(client, reviewer, second_trial):
    html = refused_move(client, second_trial, {"to_status": "data_received"})
    assert "Cannot mark the data received: no participant data have been uploaded" in html
    second_trial.refresh_from_db()
    assert second_trial.status == "agreement_signed"


def test_a_refused_move_left_unread_does_not_keep_other_trial_pages_out_of_the_cache(
    client, reviewer, trial, second_trial
):
    client.post(reverse("dashboard:trial-transition", args=[trial.pk]), {"to_status": "declined", "reason": ""})
    other = reverse("dashboard:trial-detail", args=[second_trial.pk])
    first, second = client.get(other), client.get(other)
    assert first.context is not None and second.context is None  # the second from the cache
    assert (
        "Give a reason for moving the trial to Declined."
        in client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    )
