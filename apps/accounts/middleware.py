"""Page sessions end after SESSION_COOKIE_AGE seconds without a request (8 hours by default).

Django renews a session's expiry when it saves it; saving on every request (SESSION_SAVE_EVERY_REQUEST)
would cost a write per page, so a logged-in session is saved at most once per SESSION_RENEW_SECONDS: the idle
limit then holds to within that much.
"""

import time

from django.conf import settings

SEEN_KEY = "_seen"


class SessionRenewalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get(SEEN_KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                session[SEEN_KEY] = now  # modified: saved at the end of the request, with a new expiry
        return self.get_response(request)
