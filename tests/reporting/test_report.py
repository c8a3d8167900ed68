"""The report draft: paragraphs with the record's numbers, the tables and the figures, as HTML and as Word; forest
plots drawn by kaleido with the server's Chromium, and a report that still builds and says so without one."""

import io

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from docx import Document

from apps.accounts.models import Role
from apps.reporting import report
from apps.reporting.images import chromium_path
from apps.reporting.word import report_docx
from tests.analyses.conftest import add_trial, outcome
from tests.conftest import add_member
from tests.reporting.conftest import define, run_now, signed

pytestmark = pytest.mark.django_db


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(paragraphs + cells)


def test_the_report_writes_the_flow_from_the_record(client, api_as, review, flow_trials, reviewer, settings):
    settings.REPORT_CHROMIUM_PATH = ""
    client.force_login(reviewer)
    html = client.get(reverse("reporting:report", args=[review.pk])).content.decode()
    expected = [
        "The searches identified 15 studies: 13 through database searching and 2 through other sources",
        "After removing 1 duplicate, 14 remained; 13 were screened and 2 excluded (Not randomised (1); "
        "Reason not recorded (1))",
        "IPD were sought for 8 eligible studies and not sought for 2",
        "IPD were provided for 3 studies (191 participants); no data were provided for 12 participants of these "
        "studies (Consent withdrawn (12))",
        "The IPD of 2 studies (106 participants) are still pending",
        "Characteristics of the trials with IPD",
        "IPD availability of the eligible trials",
        'aria-labelledby="report-prisma-title report-prisma-desc"',
    ]
    for text in expected:
        assert text in html, text
    document = _docx_text(api_as(reviewer).get(f"/api/v1/reviews/{review.pk}/report.docx").content)
    for text in expected[:5]:
        assert text in document, text
    assert "NCT05000002" in document  # a row of the characteristics table


def _analysed(review):
    for number in (1, 2, 3):
        signed(add_trial(review, number), may_leave=True)
    return run_now(define(review, name="Death", outcome=outcome(review, "Death").pk))


def test_without_a_browser_the_report_says_so_and_still_builds(client, schema_review, dataset_root):
    review = schema_review
    run = _analysed(review)
    with override_settings(REPORT_CHROMIUM_PATH="/nonexistent/chromium"):
        cache.clear()
        bare = report.build(review)
        assert any("no Chromium browser was found" in note for note in bare.notes)
        figure = next(f for section in bare.sections for f in section.figures if f.id == f"forest-{run.pk}")
        assert figure.png is None
        client.force_login(add_member(review, Role.REVIEWER))
        response = client.get(reverse("reporting:report-docx", args=[review.pk]))
        assert response.status_code == 200
        assert "no Chromium browser was found" in _docx_text(response.content)
    assert "Pooled OR" in _docx_text(response.content)


def test_forest_plots_are_drawn_by_kaleido_with_chromium(schema_review, dataset_root):
    if chromium_path() is None:
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    review = schema_review
    run = _analysed(review)
    cache.clear()
    built = report.build(review)
    figure = next(f for section in built.sections for f in section.figures if f.id == f"forest-{run.pk}")
    assert figure.png and figure.png.startswith(b"\x89PNG\r\n\x1a\n") and len(figure.png) > 10_000
    assert built.notes == []
    document = Document(io.BytesIO(report_docx(built)))
    assert len(document.inline_shapes) == 2  # the flow diagram and the forest plot


def test_contributors_do_not_get_the_report(api_as, client, review, trial, contributor, outsider):
    assert api_as(contributor).get(f"/api/v1/reviews/{review.pk}/report.docx").status_code == 403
    assert api_as(outsider).get(f"/api/v1/reviews/{review.pk}/report.docx").status_code == 404
    client.force_login(contributor)
    assert client.get(reverse("reporting:report", args=[review.pk])).status_code == 403
