"""The admin for coordinators: scoped to their reviews, audited saves, bulk status moves, read-only history."""

import pytest
from django.contrib import admin as django_admin
from knox.models import AuthToken

from apps.accounts.models import Membership, Role
from apps.accounts.tokens import token_create
from apps.core.models import AuditEvent
from apps.trials.admin import AgreementInline
from apps.trials.lifecycle import Status
from apps.trials.models import Agreement, Contact, ContactAttempt, Trial
from tests.factories import ContactFactory, MembershipFactory, ReviewFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(client):
    membership = MembershipFactory(role=Role.COORDINATOR, user=UserFactory(is_staff=True))
    client.force_login(membership.user)
    client.review = membership.review
    return membership.user


def test_coordinator_sees_only_their_reviews_trials(client, coordinator):
    mine = TrialFactory(review=client.review, title="Mine")
    theirs = TrialFactory(title="Theirs")
    page = client.get("/admin/trials/trial/")
    assert page.status_code == 200
    assert "Mine" in page.content.decode() and "Theirs" not in page.content.decode()
    assert client.get(f"/admin/trials/trial/{mine.pk}/change/").status_code == 200
    # Another review's trial is treated as missing: the admin redirects with "doesn't exist".
    assert client.get(f"/admin/trials/trial/{theirs.pk}/change/").status_code == 302


def test_staff_who_coordinate_nothing_are_refused(client):
    reviewer = MembershipFactory(role=Role.REVIEWER, user=UserFactory(is_staff=True)).user
    client.force_login(reviewer)
    assert client.get("/admin/trials/trial/").status_code == 403
    assert client.get("/admin/core/auditevent/").status_code == 403


def test_superuser_sees_every_review(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    ReviewFactory(title="First review")
    ReviewFactory(title="Second review")
    html = client.get("/admin/reviews/review/").content.decode()
    assert "First review" in html and "Second review" in html


def test_bulk_action_moves_trials_through_the_lifecycle_service(client, coordinator):
    eligible = TrialFactory(review=client.review, status=Status.ELIGIBLE)
    identified = TrialFactory(review=client.review, status=Status.IDENTIFIED)
    response = client.post(
        "/admin/trials/trial/",
        {"action": "mark_ipd_sought", "_selected_action": [eligible.pk, identified.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 trial(s) marked IPD sought" in html
    assert "Allowed next states: Eligible (eligible)" in html
    assert Trial.objects.get(pk=eligible.pk).status == Status.IPD_SOUGHT
    assert Trial.objects.get(pk=identified.pk).status == Status.IDENTIFIED
    transition = eligible.transitions.get()
    assert transition.actor == coordinator
    assert AuditEvent.objects.filter(trial=eligible, action="transition").count() == 1


def test_an_admin_save_is_audited_with_before_and_after(client, coordinator):
    contact = ContactFactory(trial=TrialFactory(review=client.review), institution="Leeds")
    response = client.post(
        f"/admin/trials/contact/{contact.pk}/change/",
        {"trial": contact.trial.pk, "name": contact.name, "role": contact.role, "email": contact.email,
         "institution": "York", "note": ""},
    )  # fmt: skip
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.actor, event.action) == (coordinator, "update")
    assert (event.before["institution"], event.after["institution"]) == ("Leeds", "York")


def test_an_admin_delete_is_audited(client, coordinator):
    contact = ContactFactory(trial=TrialFactory(review=client.review))
    response = client.post(f"/admin/trials/contact/{contact.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEvent.objects.get().action == "delete"


def test_trial_page_shows_its_history_and_audit_events_are_read_only(client, coordinator):
    trial = TrialFactory(review=client.review)
    from apps.trials.services import trial_update

    trial_update(trial=trial, actor=coordinator, data={"citation": "Lee 2019"})
    html = client.get(f"/admin/trials/trial/{trial.pk}/change/").content.decode()
    assert "History (newest first)" in html and "citation" in html
    event = AuditEvent.objects.get()
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    assert client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403


def test_filters_and_choices_name_only_the_coordinators_reviews(client, coordinator):
    TrialFactory(review=client.review)
    ReviewFactory(title="A confidential review")
    assert "A confidential review" not in client.get("/admin/trials/trial/").content.decode()
    assert "A confidential review" not in client.get("/admin/trials/trial/add/").content.decode()
    assert "A confidential review" not in client.get("/admin/core/auditevent/").content.decode()


def test_coordinators_add_members_by_invitation_not_in_the_admin(client, coordinator):
    UserFactory(username="someone-elses-account")
    assert client.get("/admin/accounts/membership/add/").status_code == 403
    html = client.get(f"/admin/reviews/review/{client.review.pk}/change/").content.decode()
    # No picker of every account on the site, and the members' accounts are shown, not chosen.
    assert "someone-elses-account" not in html
    assert 'name="memberships-0-user"' not in html
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    newcomer = UserFactory(username="newcomer")
    response = client.post(
        "/admin/accounts/membership/add/", {"review": client.review.pk, "user": newcomer.pk, "role": "analyst"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.after["role"]) == ("create", "membership", "analyst")


def test_a_member_removed_in_the_admin_loses_their_tokens_through_the_service(client, coordinator):
    member = MembershipFactory(review=client.review, role=Role.ANALYST)
    token_create(user=member.user)
    response = client.post(f"/admin/accounts/membership/{member.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert not AuthToken.objects.filter(user=member.user).exists()
    assert list(AuditEvent.objects.values_list("action", "object_type")) == [("delete", "membership")]


def test_the_admin_keeps_a_coordinator(client, coordinator):
    only = Membership.objects.get(user=coordinator)
    assert client.get(f"/admin/accounts/membership/{only.pk}/delete/").status_code == 403
    response = client.post(f"/admin/accounts/membership/{only.pk}/change/", {"role": "analyst", "trials": []})
    assert response.status_code == 200
    assert "This is the review&#x27;s only coordinator." in response.content.decode()
    assert Membership.objects.get(pk=only.pk).role == Role.COORDINATOR
    assert not AuditEvent.objects.exists()


def _change_page_data(response) -> dict:
    """What the admin change page would post back unchanged: the main form and every inline formset."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        data[name] = (
            [item.pk for item in value]
            if hasattr(value, "__iter__") and not isinstance(value, str)
            else ("" if value is None else value)
        )
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for index, form_ in enumerate(formset.initial_forms):
            values = {**form_.initial, "id": form_.instance.pk, formset.fk.name: formset.instance.pk}
            for name in form_.fields:
                value = values.get(name)
                data[f"{formset.prefix}-{index}-{name}"] = getattr(value, "pk", value) if value is not None else ""
    return data


def test_removing_the_only_coordinator_inline_is_refused_and_a_member_removed_inline_loses_their_tokens(
    client, coordinator
):
    member = MembershipFactory(review=client.review, role=Role.REVIEWER)
    token_create(user=member.user)
    url = f"/admin/reviews/review/{client.review.pk}/change/"
    data = _change_page_data(client.get(url))
    rows = {data[key]: key.rsplit("-", 1)[0] for key in data if key.startswith("memberships-") and key.endswith("-id")}
    only = Membership.objects.get(user=coordinator).pk
    refused = client.post(url, {**data, f"{rows[only]}-DELETE": "on"})
    assert refused.status_code == 200
    assert "A review needs at least one coordinator" in refused.content.decode()
    assert Membership.objects.filter(pk=only).exists()
    removed = client.post(url, {**data, f"{rows[member.pk]}-DELETE": "on"})
    assert removed.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert not AuthToken.objects.filter(user=member.user).exists()
    assert list(AuditEvent.objects.values_list("action", "object_type")) == [("delete", "membership")]


def test_an_admin_save_runs_the_agreement_checks(client, coordinator):
    agreement = Agreement.objects.create(trial=TrialFactory(review=client.review), status=Agreement.Status.SENT)
    response = client.post(
        f"/admin/trials/agreement/{agreement.pk}/change/",
        {"trial": agreement.trial.pk, "title": agreement.title, "platform": agreement.platform,
         "status": "signed", "signed_on": "", "expires_on": "", "conditions": ""},
    )  # fmt: skip
    assert response.status_code == 200
    assert "A signed agreement needs the date it was signed." in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SENT
    assert not AuditEvent.objects.exists()


def test_an_admin_save_refuses_a_contact_of_another_trial(client, coordinator):
    trial = TrialFactory(review=client.review)
    elsewhere = ContactFactory(trial=TrialFactory(review=client.review))
    response = client.post(
        "/admin/trials/contactattempt/add/",
        {"trial": trial.pk, "contact": elsewhere.pk, "date": "2026-03-02", "channel": "email",
         "outcome": "no_reply", "next_follow_up": "", "owner": "", "note": ""},
    )  # fmt: skip
    assert response.status_code == 200
    assert "This contact belongs to another trial." in response.content.decode()
    assert not ContactAttempt.objects.exists()


def test_the_trial_admin_form_refuses_an_inverted_confidence_interval(rf, coordinator):
    trial = TrialFactory(review=coordinator.memberships.get().review)
    request = rf.get("/admin/")
    request.user = coordinator
    form_class = django_admin.site._registry[Trial].get_form(request, trial)
    data = {
        "review": trial.review_id, "title": trial.title, "sponsor_type": "academic", "arms": 2,
        "identified_via": "database", "screening_decision": "pending", "result_measure": "OR",
        "result_estimate": "0.8", "result_ci_low": "1.2", "result_ci_high": "0.5",
    }  # fmt: skip
    form = form_class(data=data, instance=trial)
    assert not form.is_valid()
    assert form.errors["result_ci_low"] == ["The lower confidence limit is above the upper one."]
    data["result_ci_low"], data["result_ci_high"] = "0.5", "1.2"
    assert form_class(data=data, instance=trial).is_valid()


def test_an_agreement_inline_on_the_trial_page_runs_the_checks_too(rf, coordinator):
    trial = TrialFactory(review=coordinator.memberships.get().review)
    inline_form = _inline_form(rf, coordinator, trial, AgreementInline)
    bound = inline_form(data={"title": "DSA", "platform": "direct", "status": "signed", "conditions": ""})
    bound.instance.trial = trial
    assert not bound.is_valid()
    assert "signed_on" in bound.errors
    assert not Agreement.objects.exists()


def _inline_form(rf, user, trial, inline_class):
    request = rf.get("/admin/")
    request.user = user
    inline = inline_class(Trial, django_admin.site)
    return inline.get_formset(request, trial).form


def test_coordinator_sees_only_their_reviews_jobs_and_cannot_change_them(client, coordinator):
    from apps.checks.services import CHECK_TASK
    from apps.jobs.services import job_create

    mine = job_create(kind="harmonise", task="apps.harmonisation.tasks.mapping_apply_task", review=client.review)
    theirs = job_create(kind="checks", task=CHECK_TASK, review=ReviewFactory())
    unowned = job_create(kind="reminders", task="apps.trials.tasks.followups_notify_due_task")
    page = client.get("/admin/jobs/job/")
    assert page.status_code == 200
    listed = set(page.context["cl"].result_list.values_list("pk", flat=True))
    assert listed == {mine.pk}
    assert client.get(f"/admin/jobs/job/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/jobs/job/{theirs.pk}/change/").status_code == 302
    assert client.get(f"/admin/jobs/job/{unowned.pk}/change/").status_code == 302
    assert client.post(f"/admin/jobs/job/{mine.pk}/delete/", {"post": "yes"}).status_code == 403


def test_an_outcome_whose_measure_does_not_fit_its_type_is_refused_in_the_admin(client, coordinator):
    from apps.reviews.models import Outcome

    form = {"review": client.review.pk, "name": "Mortality", "type": "continuous", "measure": "OR", "description": ""}
    response = client.post("/admin/reviews/outcome/add/", form)
    assert response.status_code == 200
    assert "Use one of MD for a continuous outcome." in response.content.decode()
    assert not Outcome.objects.exists()
    response = client.post("/admin/reviews/outcome/add/", form | {"type": "binary"})
    assert response.status_code == 302
    assert Outcome.objects.get().measure == "OR"


def test_handing_over_the_coordinator_and_removing_the_old_one_in_one_save(client, coordinator):
    successor = MembershipFactory(review=client.review, role=Role.REVIEWER)
    url = f"/admin/reviews/review/{client.review.pk}/change/"
    data = _change_page_data(client.get(url))
    rows = {data[key]: key.rsplit("-", 1)[0] for key in data if key.startswith("memberships-") and key.endswith("-id")}
    old = Membership.objects.get(user=coordinator).pk
    response = client.post(url, {**data, f"{rows[successor.pk]}-role": "coordinator", f"{rows[old]}-DELETE": "on"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=old).exists()
    assert Membership.objects.get(pk=successor.pk).role == Role.COORDINATOR


def test_a_bulk_removal_of_the_only_coordinator_is_refused_before_anything_is_deleted(client, coordinator):
    from django.contrib.admin.models import LogEntry

    only = Membership.objects.get(user=coordinator)
    response = client.post(
        "/admin/accounts/membership/", {"action": "delete_selected", "_selected_action": [only.pk], "post": "yes"}
    )
    assert response.status_code == 200 and "Cannot delete membership" in response.content.decode()
    assert Membership.objects.filter(pk=only.pk).exists()
    assert not LogEntry.objects.exists() and not AuditEvent.objects.exists()
