"""The harmonisation pages: the review's schema, a trial's mappings, the mapping editor and the log.

Each view checks access through apps.accounts.access and apps.harmonisation.access, calls one service or
selector, and renders. A service's refusal is shown on the form it came from; nothing is saved.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import access as account_access
from apps.core.errors import ApplicationError
from apps.core.errors import PermissionDenied as ApplicationPermissionDenied
from apps.core.services import data_access_record
from apps.core.views import get_or_404
from apps.harmonisation import access, rules, selectors, services, units
from apps.harmonisation.forms import MappingCreateForm, RuleForm, SchemaVariableForm
from apps.harmonisation.models import SchemaVariable
from apps.trials import access as trial_access


def _require(check, *args):
    try:
        check(*args)
    except ApplicationPermissionDenied as error:
        raise PermissionDenied(error.message)


def _show_error(form, error: ApplicationError) -> None:
    """Put a service's error on the fields it names, or above the form."""
    placed = False
    for field, problems in (error.details or {}).items():
        if field in form.fields:
            for problem in problems if isinstance(problems, list) else [problems]:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, error.message)


# Schema ---------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def schema(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_or_404(account_access.review_get_for_user, request.user, review_id)
    can_edit = access.can_edit_harmonisation(request.user, review)
    form = SchemaVariableForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        _require(access.require_editor, request.user, review)
        if form.is_valid():
            try:
                variable = services.schema_variable_create(review=review, actor=request.user, **form.service_data())
            except ApplicationError as error:
                _show_error(form, error)
            else:
                messages.success(request, f"{variable.name} added to the schema.")
                return redirect("harmonisation:schema", review_id=review.pk)
    context = {
        "review": review,
        "variables": selectors.schema_for_review(review),
        "form": form,
        "can_edit": can_edit,
        "unit_table": units.unit_table(),
    }
    return render(request, "harmonisation/schema.html", context, status=400 if form and form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def schema_variable_edit(request: HttpRequest, variable_id: int) -> HttpResponse:
    variable = get_or_404(access.schema_variable_get_for_user, request.user, variable_id)
    _require(access.require_editor, request.user, variable.review_id)
    form = SchemaVariableForm(request.POST or None, instance=SchemaVariable.objects.get(pk=variable.pk))
    if request.method == "POST" and request.POST.get("delete"):
        try:
            services.schema_variable_delete(variable=variable, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("harmonisation:schema-variable-edit", variable_id=variable.pk)
        messages.success(request, f"{variable.name} deleted from the schema.")
        return redirect("harmonisation:schema", review_id=variable.review_id)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.schema_variable_update(variable=variable, actor=request.user, data=form.service_data())
        except ApplicationError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"{saved.name} saved.")
            return redirect("harmonisation:schema", review_id=saved.review_id)
    context = {"review": variable.review, "variable": variable, "form": form}
    return render(request, "harmonisation/schema_variable_edit.html", context, status=400 if form.errors else 200)


# Mappings -------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def trial_mappings(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = get_or_404(trial_access.trial_get_for_user, request.user, trial_id)
    can_edit = access.can_edit_harmonisation(request.user, trial.review_id)
    mappings = access.mappings_for_user(request.user, trial).order_by("-number")
    # A version's page leads here with ?version=: to its latest mapping, or to a new one started from it.
    version_id = request.GET.get("version", "")
    if request.method == "GET" and version_id.isdigit():
        existing = mappings.filter(source_version_id=int(version_id)).first()
        if existing is not None:
            return redirect("harmonisation:mapping-editor", mapping_id=existing.pk)
    initial = {"source_version": int(version_id)} if version_id.isdigit() else None
    form = MappingCreateForm(request.POST or None, trial=trial, initial=initial) if can_edit else None
    if request.method == "POST":
        _require(access.require_editor, request.user, trial.review_id)
        if form.is_valid():
            try:
                mapping = services.mapping_create(
                    trial=trial,
                    source_version=form.cleaned_data["source_version"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                    copy_rules_from=form.cleaned_data["copy_rules_from"],
                )
            except ApplicationError as error:
                _show_error(form, error)
            else:
                messages.success(request, f"Mapping {mapping.number} started.")
                return redirect("harmonisation:mapping-editor", mapping_id=mapping.pk)
    context = {
        "review": trial.review,
        "trial": trial,
        "mappings": mappings,
        "form": form,
    }
    return render(request, "harmonisation/trial_mappings.html", context, status=400 if form and form.errors else 200)


def _editor_page(request, mapping, *, rule_form=None, status=200) -> HttpResponse:
    review = mapping.trial.review
    can_edit = access.can_edit_harmonisation(request.user, review)
    if can_edit and rule_form is None:
        target = selectors.schema_target(review.pk, request.GET.get("target"))
        current = selectors.current_rule(mapping, target)
        rule_form = RuleForm(
            initial=RuleForm.initial_for(current, target), review=review, code_rows=RuleForm.code_rows_for(current)
        )
    try:
        preview = selectors.mapping_preview(mapping)
    except ApplicationError as error:
        preview = {"columns": [], "rows": [], "errors": {"data": error.message}, "stats": {}, "n_rows": 0}
    preview["rows"] = [[_display(cell) for cell in row] for row in preview["rows"]]
    if preview["rows"]:
        data_access_record(
            request=request,
            action="view",
            instance=mapping,
            trial=mapping.trial,
            detail={"rows": len(preview["rows"]), "listing": "harmonised preview"},
        )
    preview["flagged"] = [(name, stats) for name, stats in preview["stats"].items() if stats.get("flagged")]
    _drop_empty_flag_columns(preview)
    context = {
        "review": review,
        "trial": mapping.trial,
        "mapping": mapping,
        "crumb": f"Mapping {mapping.number}",
        "can_edit": can_edit,
        "rows": selectors.editor_rows(mapping),
        "columns": selectors.source_columns(mapping.source_version),
        "preview": preview,
        "jobs": selectors.apply_jobs(mapping)[:5],
        "tables": mapping.tables.order_by("-created_at", "-id")[:5],
        "rule_form": rule_form if can_edit else None,
    }
    return render(request, "harmonisation/mapping_editor.html", context, status=status)


@require_GET
@login_required
def mapping_editor(request: HttpRequest, mapping_id: int) -> HttpResponse:
    return _editor_page(request, get_or_404(access.mapping_get_for_user, request.user, mapping_id))


@require_POST
@login_required
def mapping_rule_set(request: HttpRequest, mapping_id: int) -> HttpResponse:
    mapping = get_or_404(access.mapping_get_for_user, request.user, mapping_id)
    _require(access.require_editor, request.user, mapping.trial.review_id)
    form = RuleForm(request.POST, review=mapping.trial.review)
    if form.is_valid():
        try:
            rule = services.mapping_rule_set(mapping=mapping, actor=request.user, **form.service_data())
        except ApplicationError as error:
            _show_error(form, error)
        else:
            messages.success(
                request, f"Rule for {rule.target.name} saved: the mapping is now at revision {rule.mapping_revision}."
            )
            return redirect(reverse("harmonisation:mapping-editor", args=[mapping.pk]) + "#rules")
    return _editor_page(request, mapping, rule_form=form, status=400)


@require_POST
@login_required
def mapping_suggestion_use(request: HttpRequest, mapping_id: int) -> HttpResponse:
    """Store a suggestion as the target's rule, with a rationale that says it was a suggestion accepted."""
    mapping = get_or_404(access.mapping_get_for_user, request.user, mapping_id)
    _require(access.require_editor, request.user, mapping.trial.review_id)
    target = selectors.schema_target(mapping.trial.review_id, request.POST.get("target"))
    if target is None:
        raise Http404("Schema variable not found.")
    try:
        suggestion = json.loads(request.POST.get("suggestion", ""))
        rule = services.mapping_suggestion_accept(
            mapping=mapping, target=target, actor=request.user, suggestion=suggestion
        )
    except ValueError:
        messages.error(request, "That suggestion could not be read; set the rule with the form instead.")
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Rule for {rule.target.name} saved from the suggestion.")
    return redirect(reverse("harmonisation:mapping-editor", args=[mapping.pk]) + "#rules")


@require_POST
@login_required
def mapping_suggestions_accept(request: HttpRequest, mapping_id: int) -> HttpResponse:
    """Accept the best suggestion of each variable without a rule, when it scores at least the score given."""
    mapping = get_or_404(access.mapping_get_for_user, request.user, mapping_id)
    _require(access.require_editor, request.user, mapping.trial.review_id)
    try:
        result = services.mapping_suggestions_accept(
            mapping=mapping, actor=request.user, min_score=request.POST.get("min_score", "").strip() or None
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        accepted = [rule.target.name for rule in result["accepted"]]
        if accepted:
            count = "1 suggestion" if len(accepted) == 1 else f"{len(accepted)} suggestions"
            messages.success(request, f"{count} accepted: {', '.join(accepted)}.")
        else:
            messages.info(request, "No suggestion scored high enough to be accepted.")
        for item in result["skipped"]:
            if item["reason"] != "it has a rule already":
                messages.info(request, f"{item['target']}: not accepted, {item['reason']}.")
    return redirect(reverse("harmonisation:mapping-editor", args=[mapping.pk]) + "#rules")


@require_POST
@login_required
def mapping_rule_remove(request: HttpRequest, mapping_id: int, target_id: int) -> HttpResponse:
    mapping = get_or_404(access.mapping_get_for_user, request.user, mapping_id)
    _require(access.require_editor, request.user, mapping.trial.review_id)
    target = selectors.schema_target(mapping.trial.review_id, target_id)
    if target is None:
        raise Http404("Schema variable not found.")
    try:
        services.mapping_rule_remove(mapping=mapping, target=target, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Rule for {target.name} withdrawn; it stays in the log's history.")
    return redirect(reverse("harmonisation:mapping-editor", args=[mapping.pk]) + "#rules")


@require_POST
@login_required
def mapping_apply(request: HttpRequest, mapping_id: int) -> HttpResponse:
    mapping = get_or_404(access.mapping_get_for_user, request.user, mapping_id)
    _require(access.require_editor, request.user, mapping.trial.review_id)
    try:
        job = services.mapping_apply(mapping=mapping, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Harmonisation job {job.pk} queued; its progress is shown below.")
    return redirect(reverse("harmonisation:mapping-editor", args=[mapping.pk]) + "#jobs")


@require_POST
@login_required
def mapping_review(request: HttpRequest, mapping_id: int) -> HttpResponse:
    mapping = get_or_404(access.mapping_get_for_user, request.user, mapping_id)
    _require(access.require_editor, request.user, mapping.trial.review_id)
    try:
        services.mapping_mark_reviewed(mapping=mapping, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Mapping marked as reviewed.")
    return redirect("harmonisation:mapping-editor", mapping_id=mapping.pk)


# The log --------------------------------------------------------------------------------------------------


def _history(request) -> bool:
    return request.GET.get("history") in {"1", "true", "yes"}


@require_GET
@login_required
def trial_log(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = get_or_404(trial_access.trial_get_for_user, request.user, trial_id)
    history = _history(request)
    context = {
        "review": trial.review,
        "trial": trial,
        "rows": selectors.log_rows(selectors.mappings_for_log([trial]), history=history),
        "history": history,
        "csv_url": reverse("api-trial-log-csv", args=[trial.pk]) + ("?history=true" if history else ""),
    }
    return render(request, "harmonisation/log.html", context)


@require_GET
@login_required
def review_log(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_or_404(account_access.review_get_for_user, request.user, review_id)
    _require(access.require_review_reader, request.user, review)
    history = _history(request)
    trials = trial_access.trials_for_user(request.user, review).order_by("title", "id")
    context = {
        "review": review,
        "rows": selectors.log_rows(selectors.mappings_for_log(trials), history=history),
        "history": history,
        "csv_url": reverse("api-review-log-csv", args=[review.pk]) + ("?history=true" if history else ""),
    }
    return render(request, "harmonisation/log.html", context)


def _drop_empty_flag_columns(preview: dict) -> None:
    """Headings in words, and only the flag columns that flag something in these rows: the rest are noise."""
    keep = [
        index
        for index, column in enumerate(preview["columns"])
        if not column.endswith(rules.FLAG_SUFFIX) or any(row[index] is not None for row in preview["rows"])
    ]
    preview["headers"] = [_preview_header(preview["columns"][index]) for index in keep]
    preview["rows"] = [[row[index] for index in keep] for row in preview["rows"]]


def _preview_header(column: str) -> dict:
    """A preview column's heading in words: the row number, a schema variable, or why its values were flagged."""
    if column == rules.SOURCE_ROW:
        return {"label": "Row in the file", "flag": False}
    if column.endswith(rules.FLAG_SUFFIX):
        return {"label": f"{column.removesuffix(rules.FLAG_SUFFIX)}: why flagged", "flag": True}
    return {"label": column, "flag": False}


def _display(cell):
    """Numbers shown with 6 significant digits; the API and the stored table keep every digit."""
    return f"{cell:.6g}" if isinstance(cell, float) else cell
