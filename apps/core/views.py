from django.db import connection
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as page_server_error

from apps.core.errors import NotFound


@require_GET
def healthz(request):
    """For the container health check: answers once the app can query its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    """API clients get the API's error shape for unknown URLs; people get the site's 404 page."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "not_found", "message": "Not found.", "details": {}}}
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """An unexpected failure: API clients still get the API's error shape, people the site's 500 page."""
    if request.path.startswith("/api/"):
        message = "The server failed to answer this request; the failure has been logged."
        return JsonResponse({"error": {"code": "server_error", "message": message, "details": {}}}, status=500)
    return page_server_error(request)


def get_or_404(getter, *args):
    """Call an access function (review_get_for_user, ...) for a page: its NotFound becomes the site's 404."""
    try:
        return getter(*args)
    except NotFound as error:
        raise Http404(error.message)
