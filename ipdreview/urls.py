from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.accounts.views import ThrottledLoginView
from apps.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("apps.datasets.urls")),
    path("", include("apps.harmonisation.urls")),
    path("", include("apps.checks.urls")),
    path("", include("apps.analyses.urls")),
    path("", include("apps.reporting.urls")),
    path("", include("apps.dashboard.urls")),
]

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
