from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """For the container health check: answers once the app can reach its database."""
    connection.ensure_connection()
    return JsonResponse({"status": "ok"})
