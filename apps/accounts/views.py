from django.contrib.auth import views as auth_views

from apps.core.throttling import LoginRateThrottle


class ThrottledLoginView(auth_views.LoginView):
    """Django's login page, with a limit on attempts per client address (LOGIN_THROTTLE_RATE)."""

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
