"""The reviews pages: a review's outcomes. Each view checks access through apps.accounts.access, calls one
service of apps.reviews.services, and renders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import access
from apps.core.errors import ApplicationError
from apps.core.forms import posted_data
from apps.core.views import get_or_404
from apps.reviews import services
from apps.reviews.forms import OutcomeForm
from apps.reviews.models import Outcome


def _saved(form, write) -> bool:
    try:
        write()
    except ApplicationError as error:
        form.add_application_error(error)
        return False
    return True


def _outcomes_page(request, review, *, form=None, status=200) -> HttpResponse:
    may_edit = access.can_edit_outcomes(request.user, review)
    context = {
        "review": review,
        "outcomes": Outcome.objects.filter(review=review).order_by("-is_primary", "name"),
        "may_edit": may_edit,
        "form": (form or OutcomeForm()) if may_edit else None,
    }
    return render(request, "dashboard/outcomes.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def outcome_list(request: HttpRequest, review_id: int) -> HttpResponse:
    """Everyone in the review reads the outcomes (as in the API); coordinators and analysts add them."""
    review = get_or_404(access.review_get_for_user, request.user, review_id)
    if request.method != "POST":
        return _outcomes_page(request, review)
    if not access.can_edit_outcomes(request.user, review):
        raise PermissionDenied("Only coordinators and analysts can add outcomes.")
    form = OutcomeForm(request.POST)
    if form.is_valid() and _saved(
        form, lambda: services.outcome_create(review=review, actor=request.user, **form.cleaned_data)
    ):
        messages.success(request, f"Outcome '{form.cleaned_data['name']}' added.")
        return redirect("dashboard:outcome-list", review.pk)
    return _outcomes_page(request, review, form=form, status=400)


def _outcome_for_editor(request, review_id: int, outcome_id: int) -> tuple:
    """The review's outcome for a coordinator or analyst: 404 outside the user's reviews or this review, 403 for
    the review's other members."""
    review = get_or_404(access.review_get_for_user, request.user, review_id)
    outcome = Outcome.objects.filter(review=review, pk=outcome_id).first()
    if outcome is None:
        raise Http404("No such outcome in this review.")
    if not access.can_edit_outcomes(request.user, review):
        raise PermissionDenied("Only coordinators and analysts can change outcomes.")
    return review, outcome


@require_http_methods(["GET", "POST"])
@login_required
def outcome_edit(request: HttpRequest, review_id: int, outcome_id: int) -> HttpResponse:
    review, outcome = _outcome_for_editor(request, review_id, outcome_id)
    # The form works on its own copy: the service reads the stored row again and writes what changed.
    form = OutcomeForm(posted_data(request), instance=Outcome.objects.get(pk=outcome.pk))
    if request.method == "POST":
        data = {}

        def write():
            data.update({name: form.cleaned_data[name] for name in form.changed_data})
            services.outcome_update(outcome=outcome, actor=request.user, data=data)

        if form.is_valid() and _saved(form, write):
            messages.success(request, "Outcome saved." if data else "Nothing changed.")
            return redirect("dashboard:outcome-list", review.pk)
    context = {"review": review, "outcome": outcome, "form": form}
    return render(request, "dashboard/outcome_form.html", context, status=400 if form.is_bound else 200)


@require_POST
@login_required
def outcome_delete(request: HttpRequest, review_id: int, outcome_id: int) -> HttpResponse:
    """Through the service the API's DELETE uses: an outcome that analyses use is refused and stays."""
    review, outcome = _outcome_for_editor(request, review_id, outcome_id)
    try:
        services.outcome_delete(outcome=outcome, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("dashboard:outcome-edit", review.pk, outcome.pk)
    messages.success(request, f"Outcome '{outcome.name}' deleted.")
    return redirect("dashboard:outcome-list", review.pk)
