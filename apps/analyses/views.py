"""The analyses pages. Each view checks access through apps.analyses.access, calls one selector or service, and
renders; other reviews' analyses answer 404, and the review's contributors 403."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.analyses import access, selectors, services
from apps.analyses.api import table_csv_response
from apps.analyses.forms import AnalysisForm
from apps.analyses.models import AnalysisRun, RunKind
from apps.analyses.presentation import SORTS, heterogeneity_sentence
from apps.core.cache_versions import review_cache_version
from apps.core.errors import ApplicationError, NotFound
from apps.core.errors import PermissionDenied as AccessDenied
from apps.core.page_cache import cached_page


def _page(getter, *args):
    """An access function for a page: NotFound becomes the site's 404, a refusal its 403."""
    try:
        return getter(*args)
    except NotFound as error:
        raise Http404(error.message)
    except AccessDenied as error:
        raise PermissionDenied(error.message)


def _require_editor(request, review) -> None:
    _page(access.require_editor, request.user, review)


def _cached(request, review_id: int, page: str, runs, render_page) -> HttpResponse:
    """A read page cached per user under the review's version and the stamp of the runs it shows, so that a
    stored result (which never changes) is not rebuilt for every reader; rendered afresh while a run is under
    way, since its progress moves on every poll."""
    stamp = selectors.runs_stamp(runs)
    if stamp is None:
        return render_page()
    key = [page, request.user.pk, review_cache_version(review_id), stamp, timezone.localdate().isoformat()]
    return cached_page(request, [*key, request.GET.urlencode()], render_page, timeout=300)


@require_GET
@login_required
def analysis_list(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)

    def render_page():
        context = {
            "review": review,
            "outcomes": selectors.analyses_by_outcome(review),
            "can_edit": access.can_edit_analyses(request.user, review),
        }
        return render(request, "analyses/list.html", context)

    return _cached(request, review.pk, "analyses", AnalysisRun.objects.filter(review=review), render_page)


def _apply_errors(form: AnalysisForm, error: ApplicationError) -> None:
    if not error.details:
        form.add_error(None, error.message)
    for field, problems in error.details.items():
        form.add_error(field if field in form.fields else None, problems)


@require_http_methods(["GET", "POST"])
@login_required
def analysis_new(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _page(access.review_for_reader, request.user, review_id)
    _require_editor(request, review)
    form = AnalysisForm(request.POST or None, review=review, initial={"outcome": request.GET.get("outcome")})
    if request.method == "POST" and form.is_valid():
        try:
            analysis = services.analysis_create(review=review, actor=request.user, data=form.service_data())
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The analysis is defined; run it to see its result.")
            return redirect("analyses:detail", analysis.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "analyses/form.html", {"review": review, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def analysis_edit(request: HttpRequest, analysis_id: int) -> HttpResponse:
    analysis = _page(access.analysis_get_for_user, request.user, analysis_id)
    _require_editor(request, analysis.review)
    form = AnalysisForm.for_analysis(analysis, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.analysis_update(analysis=analysis, actor=request.user, data=form.service_data())
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The analysis is saved; run it again to see the new result.")
            return redirect("analyses:detail", analysis.pk)
    status = 400 if request.method == "POST" else 200
    context = {"review": analysis.review, "analysis": analysis, "form": form}
    return render(request, "analyses/form.html", context, status=status)


@require_POST
@login_required
def analysis_delete(request: HttpRequest, analysis_id: int) -> HttpResponse:
    analysis = _page(access.analysis_get_for_user, request.user, analysis_id)
    _require_editor(request, analysis.review)
    try:
        services.analysis_delete(analysis=analysis, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("analyses:detail", analysis.pk)
    messages.success(request, f"The analysis {analysis.name!r} and its runs are deleted.")
    return redirect("analyses:list", analysis.review_id)


def _result_context(request, run: AnalysisRun | None) -> dict:
    if run is None or not run.result or run.state != AnalysisRun.State.SUCCEEDED:
        return {"run": run}
    sort = request.GET.get("sort", "trial")
    sort = sort if sort in SORTS else "trial"
    forest = selectors.run_forest(run, sort)
    interaction = run.result.get("interaction") or {}
    return {
        "run": run,
        "sort": sort,
        "sorts": SORTS,
        "forest": forest,
        "figure": selectors.run_figure(run, sort=sort),
        "interaction_figure": selectors.run_figure(run, plot="interaction"),
        "interaction": interaction,
        "heterogeneity": heterogeneity_sentence(forest.heterogeneity, forest.approach),
        "methods": selectors.methods_paragraph(run),
        "labels": selectors.trial_labels(run),
    }


def _analysis_page(request, analysis, run: AnalysisRun | None, *, newest: bool = True) -> HttpResponse:
    context = {
        "crumb": "" if newest or run is None else f"Run #{run.pk}",
        "run_name": f"analysis-run-{run.pk}" if run else "",
        "review": analysis.review,
        "analysis": analysis,
        "can_edit": access.can_edit_analyses(request.user, analysis.review),
        "history": selectors.run_history(analysis),
        "sensitivity": selectors.newest_run(analysis, RunKind.SENSITIVITY),
        **_result_context(request, run),
    }
    return render(request, "analyses/detail.html", context)


@require_GET
@login_required
def analysis_detail(request: HttpRequest, analysis_id: int) -> HttpResponse:
    analysis = _page(access.analysis_get_for_user, request.user, analysis_id)

    def render_page():
        return _analysis_page(request, analysis, selectors.newest_run(analysis))

    return _cached(request, analysis.review_id, f"analysis-{analysis.pk}", analysis.runs.all(), render_page)


@require_GET
@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _page(access.run_get_for_user, request.user, run_id)
    if run.kind == RunKind.SENSITIVITY:
        return redirect("analyses:sensitivity", run.analysis_id)
    analysis = _page(access.analysis_get_for_user, request.user, run.analysis_id)

    def render_page():
        return _analysis_page(request, analysis, run, newest=selectors.newest_run(analysis) == run)

    return _cached(request, analysis.review_id, f"run-{run.pk}", analysis.runs.all(), render_page)


@require_POST
@login_required
def analysis_run(request: HttpRequest, analysis_id: int) -> HttpResponse:
    analysis = _page(access.analysis_get_for_user, request.user, analysis_id)
    _require_editor(request, analysis.review)
    kind = RunKind.SENSITIVITY if request.POST.get("kind") == RunKind.SENSITIVITY else RunKind.ANALYSIS
    try:
        run, created = services.run_request(analysis=analysis, actor=request.user, kind=kind)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("analyses:detail", analysis.pk)
    if created:
        messages.success(request, "The run is queued; this page shows its progress.")
    else:
        messages.info(request, "Nothing changed since this run: its result stands, so it was not computed again.")
    if kind == RunKind.SENSITIVITY:
        return redirect("analyses:sensitivity", analysis.pk)
    return redirect("analyses:run", run.pk)


@require_GET
@login_required
def sensitivity(request: HttpRequest, analysis_id: int) -> HttpResponse:
    analysis = _page(access.analysis_get_for_user, request.user, analysis_id)
    run = selectors.newest_run(analysis, RunKind.SENSITIVITY)
    context = {
        "review": analysis.review,
        "analysis": analysis,
        "run": run,
        "family": selectors.sensitivity_data(run),
        "stale": selectors.sensitivity_is_stale(run, analysis),
        "can_edit": access.can_edit_analyses(request.user, analysis.review),
        "summary_figure": selectors.run_figure(run, plot="summary") if run else None,
        "loo_figure": selectors.run_figure(run, plot="leave-one-out") if run else None,
        "measure": run.spec["measure"] if run else analysis.measure,
    }
    return render(request, "analyses/sensitivity.html", context)


@require_GET
@login_required
def run_table_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _page(access.run_get_for_user, request.user, run_id)
    return _page(table_csv_response, run, request.GET.get("sort", ""))


@require_GET
@login_required
def run_json(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _page(access.run_get_for_user, request.user, run_id)
    body = json.dumps(selectors.run_as_data(run), indent=1, allow_nan=False)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="analysis-run-{run.pk}.json"'
    return response
