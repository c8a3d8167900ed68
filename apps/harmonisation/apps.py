from django.apps import AppConfig


class HarmonisationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.harmonisation"
    verbose_name = "Harmonisation"

    def ready(self) -> None:
        # The apply task registered in every process, so that without Redis (eager mode) it runs in-process.
        from apps.harmonisation import tasks  # noqa: F401
