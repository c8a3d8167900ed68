"""The tracking pages: the list of reviews (the home page), a review's overview, its trial list and a trial's
page. Each view parses input, checks access through apps.accounts.access, calls one selector or service, and
renders; the rules live in those modules."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import invitations
from apps.core.cache_versions import review_cache_version
from apps.core.errors import ApplicationError
from apps.core.page_cache import cached_page
from apps.core.views import get_or_404
from apps.trials import access, lifecycle, list_filters, selectors, services
from apps.trials.forms import ContactAttemptForm, TransitionForm, TrialFilterForm

TRIALS_PER_PAGE = 25


def _review_or_404(request: HttpRequest, review_id: int):
    return get_or_404(access.review_get_for_user, request.user, review_id)


def _trial_or_404(request: HttpRequest, trial_id: int):
    return get_or_404(access.trial_get_for_user, request.user, trial_id)


@require_GET
@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    reviews = [
        {
            "review": review,
            "pipeline": selectors.review_pipeline(review, user=request.user),
            "role": access.role_for(request.user, review),
        }
        for review in access.reviews_for_user(request.user)
    ]
    context = {"reviews": reviews, "invitations": invitations.invitations_for_user(request.user)}
    return render(request, "dashboard/review_list.html", context)


@require_GET
@login_required
def review_overview(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _review_or_404(request, review_id)
    warning_days = settings.IPD_EXPIRY_WARNING_DAYS
    user = request.user
    # The page's body is cached for a minute under the review's version (apps.core.cache_versions): the
    # selectors below are lazy, and run only when it is rendered afresh.
    context = {
        "review": review,
        "cache_key": [review.pk, user.pk, review_cache_version(review.pk), timezone.localdate().isoformat()],
        "expiry_warning_days": warning_days,
        "role": SimpleLazyObject(lambda: access.role_for(user, review)),
        "pipeline": SimpleLazyObject(lambda: selectors.review_pipeline(review, user=user)),
        "response_rate": SimpleLazyObject(lambda: selectors.review_response_rate(review, user=user)),
        "followups": SimpleLazyObject(lambda: selectors.followups_due(review, user=user)),
        "expiring": SimpleLazyObject(lambda: selectors.expiring_soon(review, days=warning_days, user=user)),
        "activity": SimpleLazyObject(lambda: selectors.recent_activity(review, limit=12, user=user)),
    }
    key = ["review-overview", *context["cache_key"]]
    return cached_page(request, key, lambda: render(request, "dashboard/review_overview.html", context), timeout=60)


@require_GET
@login_required
def trial_list(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _review_or_404(request, review_id)
    filters = TrialFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    named, unknown = _named_filters(request, review)
    trial_ids = None
    for found in named:
        trial_ids = found.trial_ids if trial_ids is None else trial_ids & found.trial_ids
    trials = selectors.trial_list(
        request.user,
        review,
        status=criteria.get("status") or None,
        search=criteria.get("q") or None,
        sponsor_type=criteria.get("sponsor_type") or None,
        trial_ids=frozenset() if unknown else trial_ids,
    )
    page = Paginator(trials, TRIALS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "review": review,
        "filters": filters,
        "named_filters": named,
        "unknown_filters": unknown,
        "page": page,
        "filtered": any(criteria.values()) or bool(named) or bool(unknown),
        "query": query.urlencode(),
    }
    return render(request, "dashboard/trial_list.html", context, status=400 if unknown else 200)


def _named_filters(request: HttpRequest, review) -> tuple[list, list[str]]:
    """The filters other apps provide (e.g. ?prisma=excluded), resolved; and those whose value names nothing."""
    named, unknown = [], []
    for name in list_filters.names():
        value = request.GET.get(name)
        if not value:
            continue
        found = list_filters.resolve(name, review, value, request.user)
        if found is None:
            unknown.append(f"{name}={value}")
        else:
            named.append(found)
    return named, unknown


def _owner_choices(review):
    return get_user_model().objects.filter(memberships__review=review).order_by("first_name", "username")


def _trial_page(request, trial, *, attempt_form=None, transition_form=None, status=200) -> HttpResponse:
    # Unbound forms render the same for everyone with the same key: their fields are cached with the page.
    fresh_forms = attempt_form is None and transition_form is None
    can_log = access.can_log_contact(request.user, trial)
    can_move = access.can_edit_tracking(request.user, trial)
    if can_log and attempt_form is None:
        attempt_form = ContactAttemptForm(trial=trial, owners=_owner_choices(trial.review))
    if can_move and transition_form is None:
        transition_form = TransitionForm(trial=trial)
    # The parts without forms are cached for five minutes under the review's version; lazy until rendered.
    context = {
        "review": trial.review,
        "trial": trial,
        "cache_key": [trial.pk, request.user.pk, review_cache_version(trial.review_id), timezone.localdate()],
        "fresh_forms": fresh_forms,
        "is_exit": lifecycle.is_exit(trial.status),
        "allowed_next": [(s, lifecycle.label(s)) for s in lifecycle.allowed_next(trial.status)],
        "contacts": trial.contacts.all(),
        "agreements": trial.agreements.all(),
        "approvals": trial.approvals.all(),
        "timeline": SimpleLazyObject(lambda: selectors.trial_timeline(trial)),
        "attempt_form": attempt_form if can_log else None,
        "transition_form": transition_form if can_move else None,
    }
    return render(request, "dashboard/trial_detail.html", context, status=status)


@require_GET
@login_required
def trial_detail(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _trial_or_404(request, trial_id)
    key = ["trial-page", trial.pk, request.user.pk, review_cache_version(trial.review_id), timezone.localdate()]
    return cached_page(request, key, lambda: _trial_page(request, trial), timeout=300)


@require_GET
@login_required
def agreement_document(request: HttpRequest, trial_id: int, agreement_id: int) -> FileResponse:
    """An agreement's document, to members who may see the trial, always as a download (never rendered)."""
    trial = _trial_or_404(request, trial_id)
    agreement = selectors.agreement_with_document(trial, agreement_id)
    if agreement is None:
        raise Http404("No document for this agreement.")
    return FileResponse(
        agreement.document.open("rb"),
        as_attachment=True,
        filename=Path(agreement.document.name).name,
        content_type="application/octet-stream",
    )


@require_POST
@login_required
def contact_attempt_create(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _trial_or_404(request, trial_id)
    if not access.can_log_contact(request.user, trial):
        raise PermissionDenied("Your role does not allow logging contact attempts on this trial.")
    form = ContactAttemptForm(request.POST, trial=trial, owners=_owner_choices(trial.review))
    if form.is_valid():
        try:
            services.contact_attempt_create(trial=trial, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, "Contact attempt logged.")
            return redirect(reverse("dashboard:trial-detail", args=[trial.pk]) + "#timeline")
    return _trial_page(request, trial, attempt_form=form, status=400)


@require_POST
@login_required
def trial_transition(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _trial_or_404(request, trial_id)
    if not access.can_edit_tracking(request.user, trial):
        raise PermissionDenied("Your role does not allow changing this trial's status.")
    form = TransitionForm(request.POST, trial=trial)
    if form.is_valid():
        try:
            services.trial_transition(trial=trial, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            label = lifecycle.label(form.cleaned_data["to_status"])
            messages.success(request, f"Status changed to {label}.")
            return redirect(reverse("dashboard:trial-detail", args=[trial.pk]) + "#timeline")
    return _trial_page(request, trial, transition_form=form, status=400)
