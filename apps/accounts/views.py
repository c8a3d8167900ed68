from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from apps.accounts import invitations
from apps.core.errors import ApplicationError
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
