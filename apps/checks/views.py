"""The integrity pages. Each view checks access through apps.checks.access, calls one selector or service, and
renders; other reviews' and (for contributors) other trials' objects answer 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import access as accounts
from apps.checks import access, selectors, services
from apps.checks.api import csv_response, record_rows_read
from apps.checks.forms import CheckSettingsForm, ReplyForm, ResolveForm
from apps.checks.models import CheckSettings
from apps.core.errors import ApplicationError
from apps.core.errors import PermissionDenied as AccessDenied
from apps.core.views import get_or_404
from apps.harmonisation.access import can_edit_harmonisation
from apps.trials import access as trial_access


@require_GET
@login_required
def review_integrity(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_or_404(accounts.review_get_for_user, request.user, review_id)
    summary = selectors.review_integrity(review, trial_access.trials_for_user(request.user, review))
    return render(request, "checks/review_integrity.html", {"review": review, **summary})


@require_GET
@login_required
def trial_checks(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = get_or_404(trial_access.trial_get_for_user, request.user, trial_id)
    return render(request, "checks/trial_checks.html", _trial_context(request, trial))


def _trial_context(request, trial, *, settings_form=None) -> dict:
    settings = selectors.check_settings(trial)
    return {
        "review": trial.review,
        "trial": trial,
        "runs": access.runs_for_user(request.user).filter(trial=trial).order_by("-created_at", "-id"),
        "table": selectors.latest_table(trial),
        "state": selectors.data_check_state(trial),
        "can_apply": can_edit_harmonisation(request.user, trial.review_id),
        "can_run": access.can_run_checks(request.user, trial),
        "is_team": access.is_review_team(request.user, trial),
        "settings": settings,
        "settings_form": settings_form or CheckSettingsForm(instance=settings),
    }


@require_POST
@login_required
def settings_update(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = get_or_404(trial_access.trial_get_for_user, request.user, trial_id)
    if not access.is_review_team(request.user, trial):
        raise PermissionDenied("Only the review team changes a trial's check settings.")
    form = CheckSettingsForm(request.POST, instance=CheckSettings(trial=trial))
    if form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.check_settings_update(trial=trial, actor=request.user, data=data)
        except ApplicationError as error:
            for field, problems in error.details.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "The check settings are saved; run the checks again to apply them.")
            return redirect("checks:trial-checks", trial.pk)
    return render(request, "checks/trial_checks.html", _trial_context(request, trial, settings_form=form), status=400)


@require_POST
@login_required
def run_start(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = get_or_404(trial_access.trial_get_for_user, request.user, trial_id)
    try:
        access.require_runner(request.user, trial)
        run = services.check_run_start(trial=trial, actor=request.user)
    except AccessDenied as error:
        raise PermissionDenied(error.message)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("checks:trial-checks", trial.pk)
    messages.success(request, "The checks are queued; this page shows their progress.")
    return redirect("checks:run-detail", run.pk)


@require_GET
@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_or_404(access.run_get_for_user, request.user, run_id)
    context = {"review": run.trial.review, "trial": run.trial, "run": run, "results": selectors.run_results(run)}
    return render(request, "checks/run_detail.html", context)


@require_GET
@login_required
def result_detail(request: HttpRequest, result_id: int) -> HttpResponse:
    result = get_or_404(access.result_get_for_user, request.user, result_id)
    context = _result_context(request, result)
    if context["rows"]:
        record_rows_read(request, result, action="view", rows=len(context["rows"].get("rows", [])))
    return render(request, "checks/result_detail.html", context)


def _result_context(request, result, *, reply_form=None, resolve_form=None) -> dict:
    trial = result.run.trial
    finding = getattr(result, "finding", None)
    rows = selectors.affected_rows_data(result, limit=selectors.PAGE_ROWS) if result.affected_count else None
    return {
        "review": trial.review,
        "trial": trial,
        "run": result.run,
        "result": result,
        "rows": rows,
        "finding": finding,
        "thread": list(finding.messages.select_related("author")) if finding else [],
        "is_team": access.is_review_team(request.user, trial),
        "reply_form": reply_form or ReplyForm(),
        "resolve_form": resolve_form or ResolveForm(),
    }


@require_GET
@login_required
def result_rows_csv(request: HttpRequest, result_id: int) -> HttpResponse:
    result = get_or_404(access.result_get_for_user, request.user, result_id)
    record_rows_read(request, result, action="download", rows=result.affected_count)
    return csv_response(result)


@require_POST
@login_required
def finding_reply(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_or_404(access.finding_get_for_user, request.user, finding_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.finding_reply(
                finding=finding,
                actor=request.user,
                body=form.cleaned_data["body"],
                from_trial_team=not access.is_review_team(request.user, finding.trial),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your message is in the thread.")
            return redirect("checks:result-detail", finding.result_id)
    context = _result_context(request, finding.result, reply_form=form)
    return render(request, "checks/result_detail.html", context, status=400)


@require_POST
@login_required
def finding_resolve(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_or_404(access.finding_get_for_user, request.user, finding_id)
    if not access.is_review_team(request.user, finding.trial):
        raise PermissionDenied("Only the review team resolves findings.")
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.finding_resolve(finding=finding, actor=request.user, note=form.cleaned_data["note"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The finding is resolved.")
            return redirect("checks:result-detail", finding.result_id)
    context = _result_context(request, finding.result, resolve_form=form)
    return render(request, "checks/result_detail.html", context, status=400)
