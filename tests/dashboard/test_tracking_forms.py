"""The record-keeping forms of the pages: trials, contacts, agreements, approvals, members and outcomes. Each
saves through the service the API uses (which audits it), answers bad input with 400, the field's error and
nothing saved, and refuses with 403 inside the review and 404 outside it, as the API does."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Invitation, Membership, Role
from apps.core.models import AuditEvent
from apps.reviews.models import Outcome
from apps.trials.models import Agreement, Contact, ContactAttempt, EthicsApproval, Trial
from apps.trials.selectors import followups_due_all

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a signed agreement\n"


def audited(object_type: str, action: str, actor) -> int:
    return AuditEvent.objects.filter(object_type=object_type, action=action, actor=actor).count()


def as_shown(values: dict, **overrides) -> dict:
    """What an edit form posts: the values the reader was shown (the hidden initial inputs, and the fields as
    shown), with the reader's changes over the fields."""
    return {**values, **{f"initial-{name}": value for name, value in values.items()}, **overrides}


def error_of(html: str, field_id: str) -> str:
    return html.split(f'id="{field_id}_errors">')[1].split("</ul>")[0]


# Trials ---------------------------------------------------------------------------------------------------


def new_trial(**overrides) -> dict:
    data = {
        "registry_id": "NCT05000005",
        "title": "CORE-STRENGTH: core strengthening for back pain",
        "citation": "Khan 2021",
        "doi": "",
        "year": "2021",
        "sponsor_type": "academic",
        "n_randomised": "180",
        "arms": "2",
        "identified_via": "other",
        "screening_decision": "pending",
        "ipd_sought": "unknown",
        "ipd_provided": "unknown",
    }
    data.update(overrides)
    return data


def test_the_trial_list_offers_add_a_trial_to_tracking_editors_only(client, member, review):
    member(client, Role.REVIEWER)
    assert "Add a trial" in client.get(reverse("dashboard:trial-list", args=[review.pk])).content.decode()
    member(client, Role.ANALYST)
    assert "Add a trial" not in client.get(reverse("dashboard:trial-list", args=[review.pk])).content.decode()


def test_adding_a_trial_creates_it_through_the_service_and_opens_its_page(client, reviewer, review):
    response = client.post(reverse("dashboard:trial-create", args=[review.pk]), new_trial())

    trial = Trial.objects.get(registry_id="NCT05000005")
    assert response.status_code == 302 and response.url == reverse("dashboard:trial-detail", args=[trial.pk])
    assert (trial.review, trial.status, trial.identified_via, trial.n_randomised) == (
        review,
        "identified",
        "other",
        180,
    )
    assert audited("trial", "create", reviewer) == 1
    assert (
        "Trial &#x27;CORE-STRENGTH: core strengthening for back pain&#x27; added."
        in client.get(response.url).content.decode()
    )


def test_a_trial_without_a_title_is_refused_next_to_the_field(client, reviewer, review):
    response = client.post(reverse("dashboard:trial-create", args=[review.pk]), new_trial(title=""))

    assert response.status_code == 400
    assert "This field is required." in error_of(response.content.decode(), "trial_title")
    assert 'value="NCT05000005"' in response.content.decode()  # what was typed is kept
    assert not Trial.objects.filter(registry_id="NCT05000005").exists()


@pytest.mark.parametrize(("role", "status"), [(Role.ANALYST, 403), (Role.CONTRIBUTOR, 403)])
def test_roles_that_cannot_add_trials_are_refused(client, member, review, role, status):
    member(client, role)
    url = reverse("dashboard:trial-create", args=[review.pk])
    assert client.get(url).status_code == status
    assert client.post(url, new_trial()).status_code == status
    assert not Trial.objects.filter(registry_id="NCT05000005").exists()


def test_another_reviews_trial_form_is_not_found(client, reviewer, other_review, other_trial):
    assert client.post(reverse("dashboard:trial-create", args=[other_review.pk]), new_trial()).status_code == 404
    assert client.get(reverse("dashboard:trial-edit", args=[other_trial.pk])).status_code == 404


def edit_data(trial, **overrides) -> dict:
    """The trial's current values as the edit form posts them."""
    data = {}
    for name in (
        "registry_id", "title", "citation", "doi", "year", "sponsor_type", "n_randomised", "arms", "result_measure",
        "result_estimate", "result_ci_low", "result_ci_high", "result_n_intervention", "result_n_control",
        "identified_via", "screening_decision", "exclusion_reason", "ipd_not_sought_reason",
        "ipd_not_provided_reason", "ipd_not_provided_note", "n_provided", "n_not_provided", "n_not_provided_reason",
    ):  # fmt: skip
        value = getattr(trial, name)
        data[name] = "" if value is None else str(value)
    data.update({"ipd_sought": "unknown", "ipd_provided": "unknown"})
    return {name: value for name, value in as_shown(data, **overrides).items() if value is not False}


def test_editing_the_prisma_facts_saves_the_change_audited(client, reviewer, trial):
    data = edit_data(trial, is_duplicate="on", screening_decision="excluded", exclusion_reason="Cluster design")
    response = client.post(reverse("dashboard:trial-edit", args=[trial.pk]), data)

    assert response.status_code == 302
    trial.refresh_from_db()
    assert (trial.is_duplicate, trial.screening_decision, trial.exclusion_reason) == (
        True,
        "excluded",
        "Cluster design",
    )
    event = AuditEvent.objects.get(object_type="trial", action="update", actor=reviewer)
    assert event.after["exclusion_reason"] == "Cluster design" and event.before["exclusion_reason"] == ""


def test_the_services_rule_on_the_confidence_limits_is_shown_and_nothing_is_saved(client, reviewer, trial):
    data = edit_data(trial, result_ci_low="2.0", result_ci_high="1.0")
    response = client.post(reverse("dashboard:trial-edit", args=[trial.pk]), data)

    assert response.status_code == 400
    assert "The lower confidence limit is above the upper one." in error_of(
        response.content.decode(), "trial_result_ci_low"
    )
    trial.refresh_from_db()
    assert (trial.result_ci_low, trial.result_ci_high) == (-1.3, -0.3)
    assert audited("trial", "update", reviewer) == 0


def test_an_analyst_edits_the_published_result_only(client, member, trial):
    analyst = member(client, Role.ANALYST)
    page = client.get(reverse("dashboard:trial-edit", args=[trial.pk])).content.decode()
    assert 'name="result_estimate"' in page and 'name="title"' not in page and 'name="is_duplicate"' not in page

    data = {"result_measure": "MD", "result_estimate": "-0.6", "result_ci_low": "-1.1", "result_ci_high": "-0.1"}
    response = client.post(reverse("dashboard:trial-edit", args=[trial.pk]), {**data, "title": "Renamed"})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert (trial.result_estimate, trial.title) == (-0.6, "BACK-FIT: supervised exercise versus usual care")
    assert audited("trial", "update", analyst) == 1


def test_a_contributor_cannot_edit_the_trial(client, member, trial):
    member(client, Role.CONTRIBUTOR, trials=[trial])
    assert client.get(reverse("dashboard:trial-edit", args=[trial.pk])).status_code == 403
    assert client.post(reverse("dashboard:trial-edit", args=[trial.pk]), edit_data(trial, title="X")).status_code == 403
    trial.refresh_from_db()
    assert trial.title != "X"


# Contacts, agreements, approvals --------------------------------------------------------------------------


def test_the_trial_page_shows_the_record_forms_to_tracking_editors(client, reviewer, trial):
    page = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    for text in ("Add a contact", "Add an agreement", "Add an ethics approval", 'enctype="multipart/form-data"'):
        assert text in page


def test_a_contributor_adds_a_contact_to_an_assigned_trial(client, member, trial):
    contributor = member(client, Role.CONTRIBUTOR, trials=[trial])
    page = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert "Add a contact" in page and "Add an agreement" not in page

    data = {"name": "Dr Ben Ito", "role": "statistician", "email": "ben@example.org", "institution": "", "note": ""}
    response = client.post(reverse("dashboard:contact-create", args=[trial.pk]), data)
    assert response.status_code == 302 and response.url.endswith("#contacts")
    assert Contact.objects.get(trial=trial, name="Dr Ben Ito").role == "statistician"
    assert audited("contact", "create", contributor) == 1


def test_a_bad_e_mail_address_is_refused_and_the_page_keeps_what_was_typed(client, reviewer, trial):
    data = {"name": "Dr Ben Ito", "role": "statistician", "email": "ben at example", "institution": "", "note": ""}
    response = client.post(reverse("dashboard:contact-create", args=[trial.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in error_of(html, "contact_email")
    assert 'value="Dr Ben Ito"' in html and '<details class="record-form" open>' in html
    assert not Contact.objects.filter(name="Dr Ben Ito").exists()


def test_an_analyst_cannot_add_a_contact_and_another_review_is_not_found(client, member, trial, other_trial):
    member(client, Role.ANALYST)
    data = {"name": "Dr Ben Ito", "role": "other"}
    assert client.post(reverse("dashboard:contact-create", args=[trial.pk]), data).status_code == 403
    assert client.post(reverse("dashboard:contact-create", args=[other_trial.pk]), data).status_code == 404
    assert not Contact.objects.filter(name="Dr Ben Ito").exists()


def agreement_data(document: SimpleUploadedFile | None = None, **overrides) -> dict:
    data = {
        "title": "Data-sharing agreement",
        "platform": "direct",
        "status": "signed",
        "signed_on": "2026-03-01",
        "expires_on": "2028-03-01",
        "conditions": "No linkage to other data.",
    }
    if document is not None:
        data["document"] = document
    data.update(overrides)
    return data


def test_an_agreement_with_its_document_is_added_and_downloadable(client, reviewer, trial):
    document = SimpleUploadedFile("dsa.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("dashboard:agreement-create", args=[trial.pk]), agreement_data(document))

    assert response.status_code == 302 and response.url.endswith("#agreements")
    agreement = Agreement.objects.get(trial=trial)
    assert agreement.status == "signed" and agreement.document.read() == PDF
    assert audited("agreement", "create", reviewer) == 1
    page = client.get(response.url).content.decode()
    assert reverse("dashboard:agreement-document", args=[trial.pk, agreement.pk]) in page
    assert "No agreement yet." not in page


def test_a_document_that_is_not_what_its_name_says_is_refused_as_the_api_refuses_it(client, reviewer, trial):
    document = SimpleUploadedFile("dsa.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = client.post(reverse("dashboard:agreement-create", args=[trial.pk]), agreement_data(document))

    assert response.status_code == 400
    assert "The file is named .pdf but its content is not a PDF or office document" in error_of(
        response.content.decode(), "agreement_document"
    )
    assert not Agreement.objects.exists()


def test_a_signed_agreement_without_its_date_is_refused_by_the_service(client, reviewer, trial):
    response = client.post(reverse("dashboard:agreement-create", args=[trial.pk]), agreement_data(signed_on=""))
    assert response.status_code == 400
    assert "A signed agreement needs the date it was signed." in error_of(
        response.content.decode(), "agreement_signed_on"
    )
    assert not Agreement.objects.exists()


def test_an_ethics_approval_is_added_and_a_backwards_expiry_refused(client, reviewer, trial):
    url = reverse("dashboard:approval-create", args=[trial.pk])
    data = {"side": "receiving", "body": "University REC", "reference": "REC-1", "approved_on": "2026-01-10"}
    bad = client.post(url, {**data, "expires_on": "2025-01-10"})
    assert bad.status_code == 400
    assert "The expiry date is before approved_on." in error_of(bad.content.decode(), "approval_expires_on")
    assert not EthicsApproval.objects.exists()

    assert client.post(url, {**data, "expires_on": "2027-01-10"}).status_code == 302
    assert EthicsApproval.objects.get(trial=trial).body == "University REC"
    assert audited("ethicsapproval", "create", reviewer) == 1


def test_a_reviewer_page_for_an_analyst_has_no_agreement_form_and_posts_are_refused(client, member, trial):
    member(client, Role.ANALYST)
    page = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert "Add an agreement" not in page and "Add an ethics approval" not in page
    assert client.post(reverse("dashboard:agreement-create", args=[trial.pk]), agreement_data()).status_code == 403
    assert client.post(reverse("dashboard:approval-create", args=[trial.pk]), {"side": "receiving"}).status_code == 403
    assert not Agreement.objects.exists() and not EthicsApproval.objects.exists()


# Editing and deleting contacts, agreements and approvals -------------------------------------------------


@pytest.fixture
def draft_agreement(trial):
    return Agreement.objects.create(trial=trial, title="Data-sharing agreement", platform="direct", status="draft")


@pytest.fixture
def approval(trial):
    return EthicsApproval.objects.create(trial=trial, side="receiving", body="University REC", reference="REC-1")


def contact_data(contact, **overrides) -> dict:
    data = {"name": contact.name, "role": contact.role, "email": contact.email, "institution": contact.institution}
    return as_shown({**data, "note": contact.note}, **overrides)


def test_the_trial_page_links_each_record_to_its_edit_page_for_tracking_editors(
    client, member, trial, draft_agreement, approval
):
    contact = trial.contacts.get()
    edits = [
        reverse("dashboard:contact-edit", args=[trial.pk, contact.pk]),
        reverse("dashboard:agreement-edit", args=[trial.pk, draft_agreement.pk]),
        reverse("dashboard:approval-edit", args=[trial.pk, approval.pk]),
    ]
    member(client, Role.REVIEWER)
    page = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert all(url in page for url in edits)
    member(client, Role.ANALYST)
    page = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    assert not any(url in page for url in edits)


def test_editing_a_contact_saves_only_the_change_audited(client, reviewer, trial):
    contact = trial.contacts.get()
    url = reverse("dashboard:contact-edit", args=[trial.pk, contact.pk])
    page = client.get(url).content.decode()
    assert 'value="Dr Ada Okafor"' in page and 'value="ada@example.org"' in page  # prefilled

    response = client.post(url, contact_data(contact, institution="University of Leeds"))
    assert response.status_code == 302 and response.url.endswith("#contacts")
    contact.refresh_from_db()
    assert (contact.name, contact.institution) == ("Dr Ada Okafor", "University of Leeds")
    event = AuditEvent.objects.get(object_type="contact", action="update", actor=reviewer)
    assert (event.before["institution"], event.after["institution"]) == ("Leeds", "University of Leeds")
    assert "Contact saved." in client.get(response.url).content.decode()


def test_posting_a_contact_unchanged_writes_nothing(client, reviewer, trial):
    contact = trial.contacts.get()
    response = client.post(reverse("dashboard:contact-edit", args=[trial.pk, contact.pk]), contact_data(contact))
    assert response.status_code == 302
    assert audited("contact", "update", reviewer) == 0
    assert "Nothing changed." in client.get(response.url).content.decode()


def test_a_bad_contact_edit_is_refused_next_to_the_field_and_nothing_is_saved(client, reviewer, trial):
    contact = trial.contacts.get()
    data = contact_data(contact, name="Dr Ada Okafor-Smith", email="ada at example")
    response = client.post(reverse("dashboard:contact-edit", args=[trial.pk, contact.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in error_of(html, "contact_email")
    assert 'value="Dr Ada Okafor-Smith"' in html  # what was typed is kept
    contact.refresh_from_db()
    assert (contact.name, contact.email) == ("Dr Ada Okafor", "ada@example.org")
    assert audited("contact", "update", reviewer) == 0


def test_deleting_a_contact_keeps_its_attempts_and_is_audited(client, reviewer, trial):
    contact = trial.contacts.get()
    response = client.post(reverse("dashboard:contact-delete", args=[trial.pk, contact.pk]))
    assert response.status_code == 302 and response.url.endswith("#contacts")
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert audited("contact", "delete", reviewer) == 1
    assert "Contact &#x27;Dr Ada Okafor&#x27; deleted." in client.get(response.url).content.decode()


def test_a_draft_agreement_is_marked_signed_and_its_document_replaced(client, reviewer, trial, draft_agreement):
    url = reverse("dashboard:agreement-edit", args=[trial.pk, draft_agreement.pk])
    page = client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page and '<option value="draft" selected>' in page

    document = SimpleUploadedFile("signed.pdf", PDF, content_type="application/pdf")
    data = agreement_data(document, conditions="", expires_on="")
    response = client.post(url, data)
    assert response.status_code == 302 and response.url.endswith("#agreements")
    draft_agreement.refresh_from_db()
    assert (draft_agreement.status, str(draft_agreement.signed_on)) == ("signed", "2026-03-01")
    assert draft_agreement.document.read() == PDF
    event = AuditEvent.objects.get(object_type="agreement", action="update", actor=reviewer)
    assert (event.before["status"], event.after["status"]) == ("draft", "signed")
    assert "Current document" in client.get(url).content.decode()


def test_an_agreement_edit_keeps_the_document_when_no_file_is_chosen(client, reviewer, trial, draft_agreement):
    draft_agreement.document = SimpleUploadedFile("dsa.pdf", PDF, content_type="application/pdf")
    draft_agreement.save()
    name = draft_agreement.document.name
    url = reverse("dashboard:agreement-edit", args=[trial.pk, draft_agreement.pk])
    assert client.post(url, agreement_data(status="sent", signed_on="", expires_on="")).status_code == 302
    draft_agreement.refresh_from_db()
    assert (draft_agreement.status, draft_agreement.document.name) == ("sent", name)


def test_a_wrong_document_is_removed_from_the_agreement_and_stays_stored(client, reviewer, trial, draft_agreement):
    draft_agreement.document = SimpleUploadedFile("wrong-trial.pdf", PDF, content_type="application/pdf")
    draft_agreement.save()
    name = draft_agreement.document.name
    url = reverse("dashboard:agreement-edit", args=[trial.pk, draft_agreement.pk])
    assert "Remove the document" in client.get(url).content.decode()
    data = agreement_data(status="draft", signed_on="", expires_on="", remove_document="on")
    assert client.post(url, data).status_code == 302
    draft_agreement.refresh_from_db()
    assert draft_agreement.document.name == ""
    event = AuditEvent.objects.get(object_type="agreement", action="update", actor=reviewer)
    assert (event.before["document"], event.after["document"]) == (name, "")
    assert default_storage.exists(name)  # nothing uploaded is lost: the history names the file kept
    page = client.get(url).content.decode()
    assert "Current document" not in page and "Remove the document" not in page
    assert client.get(reverse("dashboard:agreement-document", args=[trial.pk, draft_agreement.pk])).status_code == 404


def test_a_new_document_and_its_removal_together_are_refused(client, reviewer, trial, draft_agreement):
    draft_agreement.document = SimpleUploadedFile("dsa.pdf", PDF, content_type="application/pdf")
    draft_agreement.save()
    name = draft_agreement.document.name
    url = reverse("dashboard:agreement-edit", args=[trial.pk, draft_agreement.pk])
    document = SimpleUploadedFile("other.pdf", PDF, content_type="application/pdf")
    response = client.post(url, agreement_data(document, remove_document="on"))
    assert response.status_code == 400
    assert "not both" in error_of(response.content.decode(), "agreement_remove_document")
    draft_agreement.refresh_from_db()
    assert (draft_agreement.status, draft_agreement.document.name) == ("draft", name)
    assert audited("agreement", "update", reviewer) == 0


def test_signing_an_agreement_without_its_date_or_with_a_false_document_saves_nothing(
    client, reviewer, trial, draft_agreement
):
    url = reverse("dashboard:agreement-edit", args=[trial.pk, draft_agreement.pk])
    response = client.post(url, agreement_data(signed_on=""))
    assert response.status_code == 400
    assert "A signed agreement needs the date it was signed." in error_of(
        response.content.decode(), "agreement_signed_on"
    )
    document = SimpleUploadedFile("dsa.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = client.post(url, agreement_data(document))
    assert response.status_code == 400
    assert "The file is named .pdf but its content is not a PDF or office document" in error_of(
        response.content.decode(), "agreement_document"
    )
    draft_agreement.refresh_from_db()
    assert (draft_agreement.status, draft_agreement.signed_on, draft_agreement.document.name) == ("draft", None, "")
    assert audited("agreement", "update", reviewer) == 0


def test_deleting_an_agreement_is_audited(client, reviewer, trial, draft_agreement):
    response = client.post(reverse("dashboard:agreement-delete", args=[trial.pk, draft_agreement.pk]))
    assert response.status_code == 302 and response.url.endswith("#agreements")
    assert not Agreement.objects.exists()
    assert audited("agreement", "delete", reviewer) == 1


def approval_data(**overrides) -> dict:
    data = {"side": "receiving", "body": "University REC", "reference": "REC-1", "approved_on": "", "expires_on": ""}
    return as_shown({**data, "note": ""}, **overrides)


def test_editing_an_ethics_approval_saves_the_change_audited(client, reviewer, trial, approval):
    url = reverse("dashboard:approval-edit", args=[trial.pk, approval.pk])
    assert 'value="REC-1"' in client.get(url).content.decode()
    response = client.post(url, approval_data(approved_on="2026-01-10", expires_on="2027-01-10"))
    assert response.status_code == 302 and response.url.endswith("#approvals")
    approval.refresh_from_db()
    assert (str(approval.approved_on), str(approval.expires_on)) == ("2026-01-10", "2027-01-10")
    assert audited("ethicsapproval", "update", reviewer) == 1


def test_a_backwards_approval_expiry_is_refused_and_nothing_saved(client, reviewer, trial, approval):
    url = reverse("dashboard:approval-edit", args=[trial.pk, approval.pk])
    response = client.post(url, approval_data(approved_on="2026-01-10", expires_on="2025-01-10"))
    assert response.status_code == 400
    assert "The expiry date is before approved_on." in error_of(response.content.decode(), "approval_expires_on")
    approval.refresh_from_db()
    assert (approval.approved_on, approval.expires_on) == (None, None)
    assert audited("ethicsapproval", "update", reviewer) == 0


def test_deleting_an_ethics_approval_is_audited(client, reviewer, trial, approval):
    response = client.post(reverse("dashboard:approval-delete", args=[trial.pk, approval.pk]))
    assert response.status_code == 302 and response.url.endswith("#approvals")
    assert not EthicsApproval.objects.exists()
    assert audited("ethicsapproval", "delete", reviewer) == 1


def test_deleting_is_a_post_only(client, reviewer, trial, approval):
    assert client.get(reverse("dashboard:approval-delete", args=[trial.pk, approval.pk])).status_code == 405
    assert EthicsApproval.objects.filter(pk=approval.pk).exists()


# Contact attempts ------------------------------------------------------------------------------------------


@pytest.fixture
def attempt(trial, reviewer):
    return ContactAttempt.objects.create(
        trial=trial,
        contact=trial.contacts.get(),
        date=timezone.localdate() - datetime.timedelta(days=14),
        outcome=ContactAttempt.Outcome.NO_REPLY,
        next_follow_up=timezone.localdate() - datetime.timedelta(days=1),
        owner=reviewer,
        note="Asked for the IPD",
        notified_at=timezone.now(),
    )


def attempt_data(attempt, **overrides) -> dict:
    shown = {
        "date": attempt.date.isoformat(),
        "channel": attempt.channel,
        "outcome": attempt.outcome,
        "contact": str(attempt.contact_id or ""),
        "next_follow_up": attempt.next_follow_up.isoformat() if attempt.next_follow_up else "",
        "owner": str(attempt.owner_id or ""),
        "note": attempt.note,
    }
    return as_shown(shown, **overrides)


def test_the_timeline_links_each_attempt_to_its_edit_page_for_tracking_editors(client, member, trial, attempt):
    edit = reverse("dashboard:attempt-edit", args=[trial.pk, attempt.pk])
    assert edit in client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    member(client, Role.ANALYST)
    assert edit not in client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()


def test_a_reply_is_recorded_on_the_attempt_and_its_follow_up_cleared(client, reviewer, trial, attempt):
    url = reverse("dashboard:attempt-edit", args=[trial.pk, attempt.pk])
    page = client.get(url).content.decode()
    assert "Edit the contact attempt" in page and "Asked for the IPD</textarea>" in page
    assert attempt in followups_due_all(today=timezone.localdate())
    response = client.post(url, attempt_data(attempt, outcome="replied", next_follow_up=""))
    assert response.status_code == 302 and response.url.endswith("#timeline")
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.next_follow_up, attempt.note) == ("replied", None, "Asked for the IPD")
    assert audited("contactattempt", "update", reviewer) == 1
    assert attempt not in followups_due_all(today=timezone.localdate())


def test_a_follow_up_set_on_an_unowned_attempt_falls_to_whoever_set_it(client, reviewer, trial, attempt):
    ContactAttempt.objects.filter(pk=attempt.pk).update(owner=None, next_follow_up=None)
    attempt.refresh_from_db()
    later = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    url = reverse("dashboard:attempt-edit", args=[trial.pk, attempt.pk])
    assert client.post(url, attempt_data(attempt, next_follow_up=later)).status_code == 302
    attempt.refresh_from_db()
    assert (attempt.next_follow_up.isoformat(), attempt.owner) == (later, reviewer)


def test_a_new_follow_up_date_is_reminded_again(client, reviewer, trial, attempt):
    later = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    url = reverse("dashboard:attempt-edit", args=[trial.pk, attempt.pk])
    assert client.post(url, attempt_data(attempt, next_follow_up=later)).status_code == 302
    attempt.refresh_from_db()
    assert (attempt.next_follow_up.isoformat(), attempt.notified_at) == (later, None)


def test_an_attempt_dated_in_the_future_is_refused_and_nothing_saved(client, reviewer, trial, attempt):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    url = reverse("dashboard:attempt-edit", args=[trial.pk, attempt.pk])
    response = client.post(url, attempt_data(attempt, date=tomorrow, next_follow_up=""))
    assert response.status_code == 400
    assert "cannot be in the future" in error_of(response.content.decode(), "attempt_date")
    attempt.refresh_from_db()
    assert attempt.next_follow_up is not None and audited("contactattempt", "update", reviewer) == 0


def test_deleting_an_attempt_is_audited(client, reviewer, trial, attempt):
    response = client.post(reverse("dashboard:attempt-delete", args=[trial.pk, attempt.pk]))
    assert response.status_code == 302 and response.url.endswith("#timeline")
    assert not ContactAttempt.objects.exists()
    assert audited("contactattempt", "delete", reviewer) == 1


def test_another_trials_attempt_is_not_found_and_other_roles_are_refused(client, member, trial, second_trial, attempt):
    assert client.get(reverse("dashboard:attempt-edit", args=[second_trial.pk, attempt.pk])).status_code == 404
    member(client, Role.ANALYST)
    url = reverse("dashboard:attempt-edit", args=[trial.pk, attempt.pk])
    assert client.post(url, attempt_data(attempt, outcome="declined")).status_code == 403
    assert client.post(reverse("dashboard:attempt-delete", args=[trial.pk, attempt.pk])).status_code == 403
    attempt.refresh_from_db()
    assert attempt.outcome == "no_reply"


@pytest.mark.parametrize(
    ("role", "assigned"), [(Role.ANALYST, False), (Role.CONTRIBUTOR, True)], ids=["analyst", "contributor"]
)
def test_members_who_cannot_edit_the_tracking_are_refused_and_nothing_changes(
    client, member, trial, draft_agreement, approval, role, assigned
):
    member(client, role, trials=[trial] if assigned else ())
    contact = trial.contacts.get()
    calls = [
        ("contact", contact.pk, contact_data(contact, name="Changed")),
        ("agreement", draft_agreement.pk, agreement_data(title="Changed")),
        ("approval", approval.pk, approval_data(body="Changed")),
    ]
    for noun, pk, data in calls:
        edit = reverse(f"dashboard:{noun}-edit", args=[trial.pk, pk])
        assert client.get(edit).status_code == 403
        assert client.post(edit, data).status_code == 403
        assert client.post(reverse(f"dashboard:{noun}-delete", args=[trial.pk, pk])).status_code == 403
    assert Contact.objects.get(pk=contact.pk).name == "Dr Ada Okafor"
    assert Agreement.objects.get(pk=draft_agreement.pk).title == "Data-sharing agreement"
    assert EthicsApproval.objects.get(pk=approval.pk).body == "University REC"
    assert not AuditEvent.objects.filter(action__in=["update", "delete"]).exists()


def test_records_of_another_review_or_another_trial_are_not_found(
    client, reviewer, trial, second_trial, other_trial, approval
):
    foreign = EthicsApproval.objects.create(trial=other_trial, side="receiving", body="Other REC")
    for trial_id, approval_id in [(other_trial.pk, foreign.pk), (trial.pk, foreign.pk), (second_trial.pk, approval.pk)]:
        assert client.get(reverse("dashboard:approval-edit", args=[trial_id, approval_id])).status_code == 404
        assert client.post(reverse("dashboard:approval-delete", args=[trial_id, approval_id])).status_code == 404
    contact = trial.contacts.get()
    assert client.get(reverse("dashboard:contact-edit", args=[second_trial.pk, contact.pk])).status_code == 404
    assert EthicsApproval.objects.count() == 2 and Contact.objects.filter(pk=contact.pk).exists()


# Members ----------------------------------------------------------------------------------------------------


def test_a_coordinator_invites_a_member_through_the_invitations_service(client, member, review, trial):
    coordinator = member(client, Role.COORDINATOR)
    url = reverse("dashboard:member-list", args=[review.pk])
    assert "Invite a member" in client.get(url).content.decode()

    response = client.post(url, {"invitee": "new@example.org", "role": "contributor", "trials": [str(trial.pk)]})
    assert response.status_code == 302
    invitation = Invitation.objects.get(review=review)
    assert (invitation.invitee, invitation.role, list(invitation.trials.all())) == (
        "new@example.org",
        "contributor",
        [trial],
    )
    assert audited("invitation", "create", coordinator) == 1
    page = client.get(url).content.decode()
    assert "Invitation sent to new@example.org." in page and "Pending invitations" in page


def test_a_coordinator_revokes_a_pending_invitation_from_the_members_page(client, member, review):
    coordinator = member(client, Role.COORDINATOR)
    client.post(reverse("dashboard:member-list", args=[review.pk]), {"invitee": "newcomer", "role": "reviewer"})
    invitation = Invitation.objects.get(invitee="newcomer")
    page = client.get(reverse("dashboard:member-list", args=[review.pk])).content.decode()
    revoke = reverse("dashboard:invitation-revoke", args=[review.pk, invitation.pk])
    assert revoke in page and "Revoke the invitation to newcomer" in page
    response = client.post(revoke, follow=True)
    assert response.redirect_chain[-1][0].endswith("#pending")
    assert "The invitation to newcomer was revoked." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    assert AuditEvent.objects.filter(object_type="invitation", actor=coordinator).count() == 2
    assert revoke not in response.content.decode()
    again = client.post(revoke, follow=True).content.decode()
    assert "Only a pending invitation can be revoked." in again


def test_only_coordinators_revoke_invitations_and_another_reviews_are_not_found(client, member, review, other_review):
    from apps.accounts import invitations

    coordinator = member(client, Role.COORDINATOR, username="the-coordinator")
    mine = invitations.invitation_create(review=review, actor=coordinator, invitee="newcomer", role=Role.REVIEWER)
    foreign = Invitation.objects.create(
        review=other_review, invitee="elsewhere", role=Role.REVIEWER, expires_at=timezone.now() + datetime.timedelta(7)
    )
    assert client.post(reverse("dashboard:invitation-revoke", args=[review.pk, foreign.pk])).status_code == 404
    member(client, Role.REVIEWER)
    assert client.post(reverse("dashboard:invitation-revoke", args=[review.pk, mine.pk])).status_code == 403
    mine.refresh_from_db()
    assert mine.status == Invitation.Status.PENDING


def test_an_invitation_without_a_name_or_with_another_reviews_trial_is_refused(client, member, review, other_trial):
    member(client, Role.COORDINATOR)
    url = reverse("dashboard:member-list", args=[review.pk])
    response = client.post(url, {"invitee": "", "role": "reviewer"})
    assert response.status_code == 400 and "This field is required." in error_of(
        response.content.decode(), "invite_invitee"
    )
    response = client.post(url, {"invitee": "x@example.org", "role": "contributor", "trials": [str(other_trial.pk)]})
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()
    assert not Invitation.objects.exists()


def test_members_are_listed_to_the_review_team_but_only_coordinators_invite(client, member, review, trial):
    member(client, Role.REVIEWER)
    url = reverse("dashboard:member-list", args=[review.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Invite a member" not in page.content.decode()
    assert client.post(url, {"invitee": "x@example.org", "role": "reviewer"}).status_code == 403
    member(client, Role.CONTRIBUTOR, trials=[trial])
    assert client.get(url).status_code == 403
    assert not Invitation.objects.exists()


def test_another_reviews_members_are_not_found(client, member, other_review):
    member(client, Role.COORDINATOR)
    assert client.get(reverse("dashboard:member-list", args=[other_review.pk])).status_code == 404


def test_a_coordinator_removes_a_member_but_not_the_last_coordinator(client, member, make_user, review):
    coordinator = member(client, Role.COORDINATOR)
    leaving = Membership.objects.create(review=review, user=make_user("leaving"), role=Role.REVIEWER)
    own = Membership.objects.get(review=review, user=coordinator)

    response = client.post(reverse("dashboard:member-remove", args=[review.pk, leaving.pk]))
    assert response.status_code == 302 and not Membership.objects.filter(pk=leaving.pk).exists()
    assert audited("membership", "delete", coordinator) == 1

    response = client.post(reverse("dashboard:member-remove", args=[review.pk, own.pk]), follow=True)
    assert "A review needs at least one coordinator" in response.content.decode()
    assert Membership.objects.filter(pk=own.pk).exists()


def test_a_reviewer_cannot_remove_members(client, member, make_user, review):
    member(client, Role.REVIEWER)
    other = Membership.objects.create(review=review, user=make_user("other"), role=Role.ANALYST)
    assert client.post(reverse("dashboard:member-remove", args=[review.pk, other.pk])).status_code == 403
    assert Membership.objects.filter(pk=other.pk).exists()


# Outcomes ---------------------------------------------------------------------------------------------------


def outcome_data(**overrides) -> dict:
    data = {"name": "Pain at 12 months", "type": "continuous", "measure": "MD", "is_primary": "on"}
    data["higher_is_better"] = ""
    data.update(overrides)
    return {name: value for name, value in data.items() if value != ""}


def test_an_analyst_adds_and_edits_an_outcome(client, member, review):
    analyst = member(client, Role.ANALYST)
    url = reverse("dashboard:outcome-list", args=[review.pk])
    assert client.post(url, outcome_data()).status_code == 302
    outcome = Outcome.objects.get(review=review)
    assert (outcome.name, outcome.measure, outcome.is_primary) == ("Pain at 12 months", "MD", True)
    assert audited("outcome", "create", analyst) == 1

    edit = reverse("dashboard:outcome-edit", args=[review.pk, outcome.pk])
    assert client.post(edit, outcome_data(description="Visual analogue scale")).status_code == 302
    outcome.refresh_from_db()
    assert outcome.description == "Visual analogue scale"
    assert audited("outcome", "update", analyst) == 1


def test_an_outcome_is_deleted_from_its_edit_page_unless_an_analysis_pools_it(client, member, review):
    from apps.analyses.models import Analysis
    from apps.harmonisation.models import SchemaVariable

    analyst = member(client, Role.ANALYST)
    client.post(reverse("dashboard:outcome-list", args=[review.pk]), outcome_data())
    pooled = Outcome.objects.get(review=review)
    arm = SchemaVariable.objects.create(review=review, name="TRT01P", type="category")
    Analysis.objects.create(review=review, outcome=pooled, name="Primary", measure="MD", treatment=arm)
    delete = reverse("dashboard:outcome-delete", args=[review.pk, pooled.pk])
    assert delete in client.get(reverse("dashboard:outcome-edit", args=[review.pk, pooled.pk])).content.decode()
    refused = client.post(delete, follow=True)
    assert refused.redirect_chain[-1][0] == reverse("dashboard:outcome-edit", args=[review.pk, pooled.pk])
    assert "is used by analyses" in refused.content.decode()
    assert Outcome.objects.filter(pk=pooled.pk).exists() and audited("outcome", "delete", analyst) == 0

    client.post(reverse("dashboard:outcome-list", args=[review.pk]), outcome_data(name="Pain at 6 months"))
    unused = Outcome.objects.get(name="Pain at 6 months")
    response = client.post(reverse("dashboard:outcome-delete", args=[review.pk, unused.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:outcome-list", args=[review.pk])
    assert "Outcome &#x27;Pain at 6 months&#x27; deleted." in response.content.decode()
    assert not Outcome.objects.filter(pk=unused.pk).exists() and audited("outcome", "delete", analyst) == 1


def test_a_measure_that_does_not_fit_the_type_is_refused_by_the_service(client, member, review):
    member(client, Role.COORDINATOR)
    response = client.post(reverse("dashboard:outcome-list", args=[review.pk]), outcome_data(measure="HR"))
    assert response.status_code == 400
    assert "Use one of MD for a continuous outcome." in error_of(response.content.decode(), "outcome_measure")
    assert not Outcome.objects.exists()


def test_reviewers_read_outcomes_but_cannot_add_or_edit_them(client, member, review, other_review):
    outcome = Outcome.objects.create(review=review, name="Disability", type="continuous", measure="MD")
    member(client, Role.REVIEWER)
    url = reverse("dashboard:outcome-list", args=[review.pk])
    page = client.get(url).content.decode()
    assert "Disability" in page and "Add an outcome" not in page
    assert client.post(url, outcome_data()).status_code == 403
    edit = reverse("dashboard:outcome-edit", args=[review.pk, outcome.pk])
    assert client.post(edit, outcome_data()).status_code == 403
    assert client.get(reverse("dashboard:outcome-list", args=[other_review.pk])).status_code == 404
    assert Outcome.objects.count() == 1


# The status form's exit reason ----------------------------------------------------------------------------


def test_the_exit_reason_is_labelled_required_for_exits(client, reviewer, trial):
    page = client.get(reverse("dashboard:trial-detail", args=[trial.pk])).content.decode()
    label = page.split('for="transition_reason">')[1].split("</label>")[0]
    assert label == "Exit reason (required for an exit)"
    assert 'data-exit-statuses="not_eligible no_response declined data_not_available withdrawn"' in page
    assert "trials/transition.js" in page


def test_an_agreement_without_a_document_is_added_as_the_api_adds_it(client, reviewer, trial):
    data = agreement_data(status="sent", signed_on="", expires_on="")
    response = client.post(reverse("dashboard:agreement-create", args=[trial.pk]), data)
    assert response.status_code == 302
    agreement = Agreement.objects.get(trial=trial)
    assert agreement.status == "sent" and not agreement.document


def test_a_refused_delete_is_shown_as_a_message_and_the_record_stays(client, reviewer, trial, approval, monkeypatch):
    from dataclasses import replace

    from apps.core.errors import ApplicationError
    from apps.trials import views

    def refuse(**kwargs):
        raise ApplicationError("This approval is still needed by the data release.", code="in_use", status=409)

    monkeypatch.setattr(views, "APPROVAL", replace(views.APPROVAL, delete=refuse))
    response = client.post(reverse("dashboard:approval-delete", args=[trial.pk, approval.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:approval-edit", args=[trial.pk, approval.pk])
    assert "This approval is still needed by the data release." in response.content.decode()
    assert EthicsApproval.objects.filter(pk=approval.pk).exists()


# A change made while the form was open ----------------------------------------------------------------------


def test_the_edit_pages_carry_the_values_their_reader_was_shown(client, reviewer, trial):
    page = client.get(reverse("dashboard:trial-edit", args=[trial.pk])).content.decode()
    assert 'name="initial-title"' in page and 'name="initial-screening_decision"' in page


def test_a_trial_edit_does_not_write_back_what_someone_else_changed_meanwhile(client, reviewer, trial):
    from apps.trials import services

    shown = edit_data(trial, citation="Okafor 2015")  # the page as opened, with the reader's one change
    services.trial_update(trial=trial, actor=None, data={"title": "BACK-FIT (renamed by a colleague)"})

    assert client.post(reverse("dashboard:trial-edit", args=[trial.pk]), shown).status_code == 302
    trial.refresh_from_db()
    assert (trial.title, trial.citation) == ("BACK-FIT (renamed by a colleague)", "Okafor 2015")


def test_an_agreement_edit_does_not_bring_back_a_status_the_system_changed_meanwhile(client, reviewer, trial):
    from apps.trials import services

    agreement = Agreement.objects.create(
        trial=trial, title="Data-sharing agreement", platform="direct", status="signed", signed_on="2026-03-01"
    )
    shown = as_shown(
        {"title": agreement.title, "platform": "direct", "status": "signed", "signed_on": "2026-03-01"},
        conditions="No linkage to other data.",
    )
    services.agreement_update(agreement=agreement, actor=None, data={"status": "expired"})

    url = reverse("dashboard:agreement-edit", args=[trial.pk, agreement.pk])
    assert client.post(url, shown).status_code == 302
    agreement.refresh_from_db()
    assert (agreement.status, agreement.conditions) == ("expired", "No linkage to other data.")


def test_an_empty_post_is_refused_not_taken_for_a_page_view(client, reviewer, trial):
    contact = trial.contacts.get()
    response = client.post(reverse("dashboard:contact-edit", args=[trial.pk, contact.pk]), {})
    assert response.status_code == 400
    assert Contact.objects.get(pk=contact.pk).name == "Dr Ada Okafor"


def test_a_coordinator_changes_a_members_role_and_trials_through_the_service(client, member, review, trial):
    from django.test import Client

    reader = member(Client(), Role.REVIEWER, username="ruth")
    coordinator = member(client, Role.COORDINATOR)
    membership = Membership.objects.get(review=review, user=reader)
    url = reverse("dashboard:member-edit", args=[review.pk, membership.pk])
    assert url in client.get(reverse("dashboard:member-list", args=[review.pk])).content.decode()
    assert 'name="initial-role" value="reviewer"' in client.get(url).content.decode()

    response = client.post(url, {"role": "contributor", "initial-role": "reviewer", "trials": [str(trial.pk)]})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.role, list(membership.trials.all())) == ("contributor", [trial])
    assert audited("membership", "update", coordinator) == 1


def test_the_last_coordinator_keeps_the_role_and_the_refusal_is_shown(client, member, review):
    coordinator = member(client, Role.COORDINATOR)
    membership = Membership.objects.get(review=review, user=coordinator)
    url = reverse("dashboard:member-edit", args=[review.pk, membership.pk])
    response = client.post(url, {"role": "reviewer", "initial-role": "coordinator"})
    assert response.status_code == 400 and "coordinator" in response.content.decode().lower()
    membership.refresh_from_db()
    assert membership.role == "coordinator" and audited("membership", "update", coordinator) == 0


def test_only_coordinators_change_members_and_other_reviews_are_not_found(client, member, review, other_review):
    coordinator = member(client, Role.COORDINATOR)
    membership = Membership.objects.get(review=review, user=coordinator)
    member(client, Role.REVIEWER)
    url = reverse("dashboard:member-edit", args=[review.pk, membership.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"role": "reviewer"}).status_code == 403
    member(client, Role.COORDINATOR, username="cora")
    assert client.get(reverse("dashboard:member-edit", args=[other_review.pk, membership.pk])).status_code == 404
    assert Membership.objects.get(pk=membership.pk).role == "coordinator"
