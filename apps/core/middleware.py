"""Requests refused before any view: a NUL character in the query string (no filter can match it, and
PostgreSQL refuses it in a query) answers 400, in the API's error shape under /api/."""

from django.http import HttpResponseBadRequest, JsonResponse


def _has_nul(request) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request) or "\x00" in request.path:
            message = "The query string contains a NUL character."
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "invalid", "message": message, "details": {}}}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
