"""Agreement documents are accepted by their content, not their name: PDF, doc, docx, odt only, and the content
must be what the name says."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.trials.documents import OLE2_MAGIC, WORD_STREAM
from apps.trials.models import Agreement
from tests.factories import MembershipFactory, TrialFactory, UserFactory

pytestmark = pytest.mark.django_db


def _zip(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
DOCX = _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
DOCM = _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>", "word/vbaProject.bin": "x"})
ODT = _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<office:document/>"})
DOC = OLE2_MAGIC + b"\x00" * 504 + WORD_STREAM + b"\x00" * 100
XLS = OLE2_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 100
XLSX = _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
HTML = b"<!doctype html><html><body><script>alert(1)</script>%PDF-1.4</body></html>"


@pytest.fixture
def api_and_trial():
    trial = TrialFactory()
    user = UserFactory()
    MembershipFactory(review=trial.review, user=user, role=Role.REVIEWER)
    client = APIClient()
    client.force_authenticate(user)
    return client, trial


def _upload(client, trial, name, content):
    document = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(f"/api/v1/trials/{trial.pk}/agreements/", {"title": "DSA", "document": document})


@pytest.mark.parametrize("name, content", [("a.pdf", PDF), ("a.docx", DOCX), ("a.odt", ODT), ("a.doc", DOC),
                                           ("a.PDF", b"\xef\xbb\xbf\n" + PDF)])  # fmt: skip
def test_real_documents_are_accepted(api_and_trial, name, content):
    client, trial = api_and_trial
    response = _upload(client, trial, name, content)
    assert response.status_code == 201, response.content
    stored = Agreement.objects.get()
    with stored.document.open("rb") as handle:
        assert handle.read() == content


@pytest.mark.parametrize(
    "name, content",
    [
        ("dsa.pdf", HTML),
        ("dsa.pdf", DOCX),
        ("dsa.docx", PDF),
        ("dsa.docx", DOCM),
        ("dsa.docx", XLSX),
        ("dsa.doc", XLS),
        ("dsa.odt", _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"})),
        ("dsa.docx", b"PK\x03\x04 truncated"),
    ],
)
def test_content_that_is_not_what_the_name_says_is_refused(api_and_trial, name, content):
    client, trial = api_and_trial
    response = _upload(client, trial, name, content)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert "document" in error["details"] and "content" in error["message"]
    assert not Agreement.objects.exists()


def test_a_document_is_removed_by_patching_it_to_null_and_its_file_stays_stored(api_and_trial):
    from django.core.files.storage import default_storage

    from apps.core.models import AuditEvent

    client, trial = api_and_trial
    created = _upload(client, trial, "wrong.pdf", PDF).json()
    name = Agreement.objects.get().document.name
    response = client.patch(f"/api/v1/agreements/{created['id']}/", {"document": None}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["document"] is None
    assert Agreement.objects.get().document.name == ""
    assert default_storage.exists(name)
    event = AuditEvent.objects.get(object_type="agreement", action="update")
    assert (event.before["document"], event.after["document"]) == (name, "")
    assert client.get(f"/api/v1/agreements/{created['id']}/document/").status_code == 404
