"""Pages for participant data: a trial's versions, the upload page, a version's status and dictionary."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.access import role_for
from apps.core.errors import ApplicationError, NotFound
from apps.core.views import get_or_404
from apps.datasets import forms, selectors, services
from apps.datasets.access import may_map_versions, upload_problem, version_get_for_user
from apps.datasets.declarations import KNOWN_FORMATS
from apps.datasets.uploads import HashingUploadHandler
from apps.trials.access import trial_get_for_user


@require_GET
@login_required
def trial_versions(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = get_or_404(trial_get_for_user, request.user, trial_id)
    context = {
        "trial": trial,
        "review": trial.review,
        "role": role_for(request.user, trial.review_id),
        "versions": selectors.trial_versions(trial),
        "upload_problem": upload_problem(request.user, trial),
    }
    return render(request, "datasets/trial_versions.html", context)


def _upload_page(request: HttpRequest, trial, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "trial": trial,
        "review": trial.review,
        "upload_problem": upload_problem(request.user, trial),
        "max_upload_bytes": services.max_upload_bytes(),
        "error": error,
        "note": request.POST.get("note", "") if request.method == "POST" and hasattr(request, "_post") else "",
    }
    return render(request, "datasets/upload.html", context, status=status)


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def dataset_upload(request: HttpRequest, trial_id: int) -> HttpResponse:
    """The upload page. The page's script sends the file to the API with a progress bar; without script the
    form posts here. The body is streamed to disk and hashed as it arrives, so the handler is set before the
    CSRF check below reads it."""
    trial = get_or_404(trial_get_for_user, request.user, trial_id)
    if request.method == "GET":
        return _upload_page(request, trial)
    # The session's user is known without the body: one who may not upload is refused before it is read.
    problem = upload_problem(request.user, trial)
    if problem:
        return _upload_page(request, trial, error=problem, status=403)
    request.upload_handlers = [HashingUploadHandler(request)]
    try:
        return _receive_upload(request, trial)
    except ApplicationError as error:
        return _upload_page(request, trial, error=error.message, status=error.status)


@csrf_protect
def _receive_upload(request: HttpRequest, trial) -> HttpResponse:
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _upload_page(request, trial, error="Choose a file to upload.", status=400)
    version, created = services.dataset_upload(
        trial=trial, actor=request.user, file=uploaded, note=request.POST.get("note", "")[:5000]
    )
    if not created:
        messages.info(request, services.identical_upload_message(version))
    return redirect(reverse("datasets:version-detail", args=[version.pk]))


def _version_or_404(user, version_id):
    try:
        return version_get_for_user(user, version_id)
    except NotFound:
        raise Http404("Dataset version not found.")


def _declarations_context(version, problem: str | None, *, data=None, error=None) -> dict:
    """The declarations form: what is declared (or was just sent, after an error), and who may change it."""
    dictionary = list(version.dictionary.all())
    details = error.details if error else None
    sheets = version.read_options.get("sheets")
    return {
        "may_declare": not problem,
        # A failed version takes declarations too: the sheet, header row or decimal mark may be what it needs.
        "can_declare": not problem and version.status in (version.Status.PARSED, version.Status.FAILED),
        "declaration_rows": forms.declaration_rows(dictionary, version.declarations, data=data, details=details),
        "all_codes": forms.all_codes_value(version.declarations, data=data),
        "all_codes_error": forms.all_codes_error(details),
        "file_declarations": forms.file_values(version.declarations, data=data, details=details),
        "sheets": sheets if isinstance(sheets, list) else [],
        "is_workbook": version.detected_format == version.Format.XLSX,
        "is_text": version.detected_format == version.Format.CSV,
        "declaration_error": error.message if error else "",
        "known_formats": KNOWN_FORMATS,
    }


def _version_page(request: HttpRequest, version, *, data=None, error=None, status: int = 200) -> HttpResponse:
    problem = upload_problem(request.user, version.trial)
    context = {
        "version": version,
        "trial": version.trial,
        "review": version.trial.review,
        "here": f"Version {version.number}",
        "job": selectors.version_parse_job(version),
        "dictionary": version.dictionary.all(),
        "read_details": selectors.read_details(version),
        "personal_columns": version.dictionary.exclude(personal_data=None).exclude(personal_data=""),
        "in_progress": version.status in (version.Status.QUEUED, version.Status.PARSING),
        "can_reparse": version.status == version.Status.FAILED and not problem,
        "can_map": may_map_versions(request.user, version.trial),
        **_declarations_context(version, problem, data=data, error=error),
    }
    return render(request, "datasets/version_detail.html", context, status=status)


@require_GET
@login_required
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    return _version_page(request, _version_or_404(request.user, version_id))


@require_POST
@login_required
def version_declarations(request: HttpRequest, version_id: int) -> HttpResponse:
    """Save the version's missing codes and date formats and read the file again, for those who may upload."""
    version = _version_or_404(request.user, version_id)
    problem = upload_problem(request.user, version.trial)
    if problem:
        raise PermissionDenied(problem)
    declarations = forms.declarations_from_form(request.POST, version.dictionary.all())
    try:
        job = services.dataset_declarations_set(version=version, actor=request.user, declarations=declarations)
    except ApplicationError as error:
        version.refresh_from_db()
        return _version_page(request, version, data=request.POST, error=error, status=error.status)
    if job is None:
        messages.info(request, "The declarations are unchanged; the file was not read again.")
    else:
        messages.success(request, "Declarations saved: the file is being read again with them.")
    return redirect(reverse("datasets:version-detail", args=[version.pk]))


@require_POST
@login_required
def version_reparse(request: HttpRequest, version_id: int) -> HttpResponse:
    """Parse a failed version again, for those who may upload to its trial."""
    version = _version_or_404(request.user, version_id)
    problem = upload_problem(request.user, version.trial)
    if problem:
        raise PermissionDenied(problem)
    try:
        services.dataset_parse_requeue(version=version, actor=request.user)
        messages.success(request, "The file is queued to be parsed again.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(reverse("datasets:version-detail", args=[version.pk]))
