from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.accounts.views import ThrottledLoginView
from apps.core.views import healthz

# Each app holds its own API and pages; they are composed here. The API's names are global ("api-trial-list");
# the review team's pages share the "dashboard" namespace ("dashboard:trial-detail").
api_v1 = [
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.reviews.api_urls")),
    path("", include("apps.trials.api_urls")),
    path("", include("apps.datasets.api_urls")),
    path("", include("apps.harmonisation.api_urls")),
    path("", include("apps.checks.api_urls")),
    path("", include("apps.analyses.api_urls")),
    path("", include("apps.reporting.api_urls")),
]

dashboard = [
    path("", include("apps.trials.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.reviews.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("apps.datasets.urls")),
    path("", include("apps.harmonisation.urls")),
    path("", include("apps.checks.urls")),
    path("", include("apps.analyses.urls")),
    path("", include("apps.reporting.urls")),
    path("", include((dashboard, "dashboard"))),
]

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
