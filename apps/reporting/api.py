"""REST endpoints for reporting: the PRISMA-IPD flow diagram (JSON, SVG, PNG, PDF, CSV), the checklist (JSON,
CSV, and PATCH of one item), the report as Word, and the reproducibility bundle.

Each view checks access through apps.reporting.access, calls one selector or service, and renders. Other reviews
answer 404; contributors of the review, 403.
"""

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApplicationError, NotFound
from apps.core.services import data_access_record
from apps.reporting import access, checklist, report, selectors, services
from apps.reporting.serializers import (
    ChecklistCompletionSerializer,
    ChecklistItemSerializer,
    ChecklistItemUpdateSerializer,
    PrismaIpdSerializer,
)
from apps.trials.models import Trial


class FileRenderer(BaseRenderer):
    """Lets a client ask for the file's own type; an error still comes as the API's JSON error."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


FILE_RENDERERS = [JSONRenderer, FileRenderer]


def download(content: bytes | str, content_type: str, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


class PrismaIpdView(APIView):
    """The PRISMA-IPD flow diagram's numbers: each box with its studies, participants, reasons and trials, the
    analysed data per outcome (from its primary analysis' newest run), the template's arithmetic and the
    incomplete records."""

    @extend_schema(responses=PrismaIpdSerializer)
    def get(self, request, review_id):
        review = access.review_for_reader(request.user, review_id)
        return Response(selectors.prisma_ipd(review))


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PRISMA_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


def prisma_file(review, kind: str) -> HttpResponse:
    """The flow diagram as SVG (shown in the browser), PNG or PDF, or its counts as CSV."""
    name = f"prisma-ipd-review-{review.pk}.{kind}"
    if kind == "csv":
        return download(selectors.prisma_csv(review), PRISMA_TYPES[kind], name)
    svg = selectors.prisma_svg(review)
    if kind == "svg":
        return download(svg, PRISMA_TYPES[kind], name, inline=True)
    from apps.reporting import diagram

    content = diagram.to_png(svg) if kind == "png" else diagram.to_pdf(svg)
    return download(content, PRISMA_TYPES[kind], name)


class PrismaIpdFileView(APIView):
    """The flow diagram as SVG (image/svg+xml, real text with a title and description), PNG or PDF; or the
    counts as CSV."""

    renderer_classes = FILE_RENDERERS
    kind = "svg"

    @extend_schema(responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, review_id):
        return prisma_file(access.review_for_reader(request.user, review_id), self.kind)


class ChecklistView(APIView):
    """The PRISMA-IPD checklist's items, in order: each with its status, where the manuscript reports it, a note,
    and links to the evidence in the app."""

    @extend_schema(operation_id="reviews_checklist_list", responses=ChecklistItemSerializer(many=True))
    def get(self, request, review_id):
        review = access.review_for_reader(request.user, review_id)
        return Response(ChecklistItemSerializer(selectors.checklist_items(review), many=True).data)


class ChecklistCompletionView(APIView):
    """How far the checklist is: items per status, and the share done or not applicable."""

    @extend_schema(responses=ChecklistCompletionSerializer)
    def get(self, request, review_id):
        review = access.review_for_reader(request.user, review_id)
        return Response(selectors.checklist_completion(review))


def _item(review, item: str) -> dict:
    return next(entry for entry in selectors.checklist_items(review) if entry["item"] == item)


class ChecklistItemView(APIView):
    """One checklist item; PATCH sets its status, location or note (coordinators, analysts and reviewers)."""

    @extend_schema(operation_id="reviews_checklist_item_retrieve", responses=ChecklistItemSerializer)
    def get(self, request, review_id, item):
        review = access.review_for_reader(request.user, review_id)
        if item not in checklist.ITEM_BY_ID:
            raise NotFound(f"PRISMA-IPD has no checklist item {item!r}; the items are {', '.join(checklist.ITEM_IDS)}.")
        return Response(ChecklistItemSerializer(_item(review, item)).data)

    @extend_schema(
        operation_id="reviews_checklist_item_partial_update",
        request=ChecklistItemUpdateSerializer,
        responses=ChecklistItemSerializer,
    )
    def patch(self, request, review_id, item):
        review = access.review_for_reader(request.user, review_id)
        access.require_checklist_editor(request.user, review)
        data = request.data.dict() if hasattr(request.data, "dict") else request.data
        if not isinstance(data, dict):
            message = "Send an object with status, location or note."
            raise ApplicationError(message, details={"body": [message]})
        services.checklist_entry_update(review=review, item=item, actor=request.user, data=data)
        return Response(ChecklistItemSerializer(_item(review, item)).data)


class ChecklistCSVView(APIView):
    """The checklist as CSV (item, title, status, location, note, evidence)."""

    renderer_classes = FILE_RENDERERS

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request, review_id):
        review = access.review_for_reader(request.user, review_id)
        return download(selectors.checklist_csv(review), PRISMA_TYPES["csv"], f"prisma-ipd-checklist-{review.pk}.csv")


class ReportDocxView(APIView):
    """The report draft as a Word document: methods and results written from the record, the tables and the
    figures (the flow diagram; the forest plots, when the server has a browser to draw them)."""

    renderer_classes = FILE_RENDERERS

    @extend_schema(responses={(200, DOCX_TYPE): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, review_id):
        from apps.reporting.word import report_docx

        review = access.review_for_reader(request.user, review_id)
        content = report_docx(report.build(review))
        return download(content, DOCX_TYPE, f"prisma-ipd-report-review-{review.pk}.docx")


class BundleView(APIView):
    """The reproducibility bundle (coordinators and analysts): manifest.json, the harmonised tables of the trials
    whose agreement lets the data leave the platform (the others by their stage-one estimates), the dictionaries,
    the harmonisation log, each analysis' spec and result, reproduce.R and a README. Each download is recorded."""

    renderer_classes = FILE_RENDERERS

    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, review_id):
        review = access.review_for_bundle(request.user, review_id)
        content, export = services.bundle_export(review=review, actor=request.user)
        record_bundle_reads(request, export)
        return download(content, "application/zip", bundle_name(review, export))


def record_bundle_reads(request, export) -> None:
    """The participant data that leave with a bundle are a read of each trial's harmonised table: one entry of
    the access log per trial whose table it holds."""
    for trial in Trial.objects.filter(pk__in=export.trials_with_data):
        data_access_record(
            request=request,
            action="download",
            instance=export,
            trial=trial,
            detail={"file": "reproducibility bundle", "sha256": export.sha256},
        )


def bundle_name(review, export) -> str:
    return f"ipd-review-{review.pk}-bundle-{export.created_at:%Y%m%d-%H%M%S}.zip"
