from django.apps import AppConfig


class ChecksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.checks"
    label = "checks"
    verbose_name = "Integrity checks"

    def ready(self) -> None:
        from apps.checks import receivers  # noqa: F401  (connects the job-state receiver)
