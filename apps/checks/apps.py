from django.apps import AppConfig


class ChecksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.checks"
    label = "checks"
    verbose_name = "Integrity checks"

    def ready(self) -> None:
        from apps.checks import gates, receivers, tasks  # noqa: F401  (the job-state receiver; the task, so eager mode runs it)

        gates.register()
