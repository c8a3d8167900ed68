from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Server-rendered pages for the review team."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.dashboard"
    verbose_name = "Dashboard"
