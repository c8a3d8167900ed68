from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found


@require_GET
def healthz(request):
    """For the container health check: answers once the app can reach its database."""
    connection.ensure_connection()
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    """API clients get the API's error shape for unknown URLs; people get the site's 404 page."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "not_found", "message": "Not found.", "details": {}}}
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)
