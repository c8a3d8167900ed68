"""The reporting pages: the PRISMA-IPD flow diagram, the checklist, the report draft, and their downloads. Each
view checks access through apps.reporting.access, calls one selector or service, and renders; other reviews
answer 404, and the review's contributors 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.core.errors import PermissionDenied as AccessDenied
from apps.reporting import access, checklist, report, selectors, services
from apps.reporting.api import DOCX_TYPE, PRISMA_TYPES, bundle_name, download, prisma_file, record_bundle_reads


def _page(getter, *args):
    """An access function for a page: NotFound becomes the site's 404, a refusal its 403."""
    try:
        return getter(*args)
    except NotFound as error:
        raise Http404(error.message)
    except AccessDenied as error:
        raise PermissionDenied(error.message)


@require_GET
@login_required
def prisma_page(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    data = selectors.prisma_ipd(review)
    context = {
        "review": review,
        "data": data,
        "svg": selectors.prisma_svg(review, data, id_prefix="prisma-page"),
        "downloads": list(PRISMA_TYPES),
        "trial_list": reverse("dashboard:trial-list", args=[review.pk]),
    }
    return render(request, "reporting/prisma.html", context)


@require_GET
@login_required
def prisma_download(request: HttpRequest, review_id: int, kind: str) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    if kind not in PRISMA_TYPES:
        raise Http404(f"The diagram comes as {', '.join(PRISMA_TYPES)}, not {kind}.")
    return prisma_file(review, kind)


@require_GET
@login_required
def checklist_page(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    context = {
        "review": review,
        "items": selectors.checklist_items(review),
        "completion": selectors.checklist_completion(review),
        "statuses": checklist.STATUSES,
        "can_edit": access.can_edit_checklist(request.user, review),
    }
    return render(request, "reporting/checklist.html", context)


@require_POST
@login_required
def checklist_item_update(request: HttpRequest, review_id: int, item: str) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    _page(access.require_checklist_editor, request.user, review)
    data = {name: request.POST[name] for name in ("status", "location", "note") if name in request.POST}
    try:
        services.checklist_entry_update(review=review, item=item, actor=request.user, data=data)
    except NotFound as error:
        raise Http404(error.message)
    except ApplicationError as error:
        messages.error(request, f"Item {item} was not saved: {error.message}")
    else:
        messages.success(request, f"Item {item} saved.")
    return redirect(reverse("reporting:checklist", args=[review.pk]) + f"#item-{item}")


@require_GET
@login_required
def checklist_csv(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    return download(selectors.checklist_csv(review), PRISMA_TYPES["csv"], f"prisma-ipd-checklist-{review.pk}.csv")


@require_GET
@login_required
def report_page(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    context = {
        "review": review,
        "report": report.build(review),
        "can_take_bundle": access.can_take_bundle(request.user, review),
    }
    return render(request, "reporting/report.html", context)


@require_GET
@login_required
def report_docx(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    return docx_response(review)


def docx_response(review) -> HttpResponse:
    from apps.reporting.word import report_docx as make_docx

    return download(make_docx(report.build(review)), DOCX_TYPE, f"prisma-ipd-report-review-{review.pk}.docx")


@require_GET
@login_required
def bundle_zip(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_bundle, request.user, review_id)
    try:
        content, export = services.bundle_export(review=review, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("reporting:report", review.pk)
    record_bundle_reads(request, export)
    return download(content, "application/zip", bundle_name(review, export))
