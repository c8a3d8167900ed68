"""Rate limits for the places that take a password: the API's token endpoint and the login page."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.core.client_ip import client_ip


class PasswordRateThrottle(SimpleRateThrottle):
    """Attempts per client address; the rate is read from settings at each request (`setting`), so a
    deployment (or a test) can change it without a restart of the throttle classes."""

    setting = ""

    def get_rate(self):
        return getattr(settings, self.setting)

    def get_ident(self, request):
        # Forwarding headers count only from the proxies the settings trust (apps.core.client_ip).
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenRateThrottle(PasswordRateThrottle):
    scope = "api-token"
    setting = "API_TOKEN_THROTTLE_RATE"


class LoginRateThrottle(PasswordRateThrottle):
    scope = "login"
    setting = "LOGIN_THROTTLE_RATE"
