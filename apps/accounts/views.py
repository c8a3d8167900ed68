from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.template.response import TemplateResponse

from apps.core.throttling import LoginRateThrottle

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
