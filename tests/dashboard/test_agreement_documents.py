"""Agreement documents: downloaded only through views that check access to the trial, always as an attachment;
only PDFs and office documents up to AGREEMENT_MAX_DOCUMENT_BYTES are accepted."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from apps.accounts.models import Role
from apps.core.errors import ApplicationError
from apps.trials import services
from apps.trials.models import Agreement

PDF = b"%PDF-1.4\n% a signed data-sharing agreement\n"


@pytest.fixture
def agreement(trial):
    return Agreement.objects.create(
        trial=trial, title="DSA with Leeds", document=SimpleUploadedFile("dsa-leeds.pdf", PDF)
    )


def _page_url(agreement) -> str:
    return reverse("dashboard:agreement-document", args=[agreement.trial_id, agreement.pk])


def test_a_member_downloads_the_document_as_an_attachment(client, member, agreement):
    member(client, Role.REVIEWER)
    response = client.get(_page_url(agreement))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "dsa-leeds" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == PDF


def test_the_trial_page_links_to_the_checked_download(client, member, agreement):
    member(client, Role.REVIEWER)
    html = client.get(reverse("dashboard:trial-detail", args=[agreement.trial_id])).content.decode()
    assert _page_url(agreement) in html
    assert agreement.document.url not in html


def test_anonymous_visitors_are_sent_to_log_in(client, agreement):
    response = client.get(_page_url(agreement))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_member_of_another_review_gets_404(client, make_user, other_review, agreement):
    outsider = make_user("outsider")
    other_review.memberships.create(user=outsider, role=Role.COORDINATOR)
    client.force_login(outsider)
    assert client.get(_page_url(agreement)).status_code == 404


def test_a_contributor_not_assigned_to_the_trial_gets_404(client, member, agreement):
    member(client, Role.CONTRIBUTOR)
    assert client.get(_page_url(agreement)).status_code == 404


def test_an_agreement_without_a_document_answers_404(client, member, trial):
    member(client, Role.REVIEWER)
    bare = Agreement.objects.create(trial=trial, title="Draft")
    assert client.get(_page_url(bare)).status_code == 404


def test_the_api_gives_the_checked_download_link_and_serves_it_to_members(api_as, make_user, review, agreement):
    user = make_user("api-reviewer")
    review.memberships.create(user=user, role=Role.REVIEWER)
    client = api_as(user)
    listed = client.get(reverse("api-agreement-detail", args=[agreement.pk])).json()
    download = reverse("api-agreement-document", args=[agreement.pk])
    assert listed["document"].endswith(download)
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == PDF


def test_the_api_download_answers_404_outside_the_users_reviews(api_as, make_user, other_review, agreement):
    outsider = make_user("api-outsider")
    other_review.memberships.create(user=outsider, role=Role.COORDINATOR)
    response = api_as(outsider).get(reverse("api-agreement-document", args=[agreement.pk]))
    assert response.status_code == 404


def test_an_html_document_is_refused(trial):
    page = SimpleUploadedFile("dsa.html", b"<script>alert(1)</script>", content_type="text/html")
    with pytest.raises(ApplicationError) as refused:
        services.agreement_create(trial=trial, actor=None, title="DSA", document=page)
    assert "document" in refused.value.details
    assert "pdf" in refused.value.message
    assert not Agreement.objects.filter(trial=trial).exists()


@override_settings(AGREEMENT_MAX_DOCUMENT_BYTES=16)
def test_a_document_over_the_size_limit_is_refused(trial):
    with pytest.raises(ApplicationError) as refused:
        services.agreement_create(trial=trial, actor=None, title="DSA", document=SimpleUploadedFile("dsa.pdf", PDF))
    assert "larger than the limit" in refused.value.message


def test_a_pdf_within_the_limit_is_accepted(trial):
    agreement = services.agreement_create(
        trial=trial, actor=None, title="DSA", document=SimpleUploadedFile("dsa.pdf", PDF)
    )
    assert agreement.document.name.endswith(".pdf")
    # A later change to another field does not check the stored file again.
    services.agreement_update(agreement=agreement, actor=None, data={"conditions": "Server access only."})
