from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import access, invitations
from apps.accounts import services as account_services
from apps.accounts.forms import InvitationForm, MembershipForm
from apps.accounts.models import Invitation, Membership
from apps.core.errors import ApplicationError
from apps.core.forms import posted_data
from apps.core.throttling import LoginRateThrottle
from apps.core.views import get_or_404

LOCKED_OUT_MESSAGE = (
    "Too many failed login attempts for this account or from your address. Try again in {minutes} minutes."
)


def _cooloff_seconds() -> int:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off()
    return int(cool_off.total_seconds()) if cool_off else 3600


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out attempt: the API's error shape for the API, the login page for people."""
    seconds = _cooloff_seconds()
    message = LOCKED_OUT_MESSAGE.format(minutes=max(1, round(seconds / 60)))
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": message, "details": {}}}
        response = JsonResponse(body, status=429)
    else:
        form = ThrottledLoginView.form_class(request)
        form.cleaned_data = {}
        form.add_error(None, message)
        response = TemplateResponse(request, ThrottledLoginView.template_name, {"form": form}, status=429)
        response.render()
    response["Retry-After"] = str(seconds)
    return response


class ThrottledLoginView(auth_views.LoginView):
    """Django's login page, with a limit on attempts per client address (LOGIN_THROTTLE_RATE); django-axes
    locks the account and the address out after too many failures (AXES_FAILURE_LIMIT)."""

    def post(self, request, *args, **kwargs):
        throttle = LoginRateThrottle()
        if throttle.allow_request(request, self):
            return super().post(request, *args, **kwargs)
        wait = int(throttle.wait() or 60)
        # An unbound form: the refused attempt's password is never checked.
        form = self.get_form_class()(request)
        form.cleaned_data = {}
        form.add_error(None, f"Too many login attempts from your address. Try again in {wait} seconds.")
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response


@require_POST
@login_required
def invitation_answer(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_or_404(invitations.invitation_get_for_user, request.user, invitation_id)
    if request.POST.get("answer") == "decline":
        invitations.invitation_decline(invitation=invitation, user=request.user)
        messages.success(request, f"Invitation to '{invitation.review.title}' declined.")
        return redirect("dashboard:review-list")
    try:
        invitations.invitation_accept(invitation=invitation, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("dashboard:review-list")
    messages.success(request, f"You joined '{invitation.review.title}'.")
    return redirect("dashboard:review-overview", invitation.review_id)


def _members_page(request, review, *, form=None, status=200) -> HttpResponse:
    may_manage = access.can_manage_review(request.user, review)
    context = {
        "review": review,
        "members": Membership.objects.filter(review=review).select_related("user").order_by("role", "user__username"),
        "may_manage": may_manage,
        "invitations": review.invitations.filter(status=Invitation.Status.PENDING).order_by("-created_at")
        if may_manage
        else [],
        "form": (form or InvitationForm(review=review)) if may_manage else None,
    }
    return render(request, "dashboard/members.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def member_list(request: HttpRequest, review_id: int) -> HttpResponse:
    """The review's members (coordinators, analysts and reviewers, as in the API); coordinators invite here."""
    review = get_or_404(access.review_get_for_user, request.user, review_id)
    if not access.can_view_members(request.user, review):
        raise PermissionDenied("Contributors cannot list the review's members.")
    if request.method != "POST":
        return _members_page(request, review)
    if not access.can_manage_review(request.user, review):
        raise PermissionDenied("Only the review's coordinators can invite members.")
    form = InvitationForm(request.POST, review=review)
    if form.is_valid():
        try:
            invitations.invitation_create(review=review, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['invitee'].strip()}.")
            return redirect("dashboard:member-list", review.pk)
    return _members_page(request, review, form=form, status=400)


def _membership_for_coordinator(request, review_id: int, membership_id: int, doing: str):
    """The review's membership for one of its coordinators: 404 outside the user's reviews or this review, 403 for
    the review's other members."""
    review = get_or_404(access.review_get_for_user, request.user, review_id)
    if not access.can_manage_review(request.user, review):
        raise PermissionDenied(f"Only the review's coordinators can {doing} members.")
    membership = Membership.objects.filter(review=review, pk=membership_id).select_related("user", "review").first()
    if membership is None:
        raise Http404("No such member in this review.")
    return review, membership


@require_http_methods(["GET", "POST"])
@login_required
def member_edit(request: HttpRequest, review_id: int, membership_id: int) -> HttpResponse:
    """A member's role and assigned trials, changed by a coordinator through the service the API's PATCH uses."""
    review, membership = _membership_for_coordinator(request, review_id, membership_id, "change")
    form = MembershipForm(posted_data(request), membership=membership)
    if form.is_valid():
        data = form.changed_service_data()
        try:
            account_services.membership_update(membership=membership, actor=request.user, **data)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            name = membership.user.get_full_name() or membership.user.username
            messages.success(request, f"{name}'s membership saved." if data else "Nothing changed.")
            return redirect("dashboard:member-list", review.pk)
    context = {"review": review, "membership": membership, "form": form}
    return render(request, "dashboard/member_form.html", context, status=400 if form.is_bound else 200)


@require_POST
@login_required
def member_remove(request: HttpRequest, review_id: int, membership_id: int) -> HttpResponse:
    review, membership = _membership_for_coordinator(request, review_id, membership_id, "remove")
    try:
        account_services.membership_delete(membership=membership, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{membership.user.get_full_name() or membership.user.username} removed.")
    return redirect("dashboard:member-list", review.pk)


@require_POST
@login_required
def invitation_revoke(request: HttpRequest, review_id: int, invitation_id: int) -> HttpResponse:
    """A pending invitation withdrawn by a coordinator, through the service the API's DELETE uses."""
    review = get_or_404(access.review_get_for_user, request.user, review_id)
    if not access.can_manage_review(request.user, review):
        raise PermissionDenied("Only the review's coordinators can revoke its invitations.")
    invitation = Invitation.objects.filter(review=review, pk=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation in this review.")
    try:
        invitations.invitation_revoke(invitation=invitation, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation to {invitation.invitee} was revoked.")
    return redirect(reverse("dashboard:member-list", args=[review.pk]) + "#pending")
