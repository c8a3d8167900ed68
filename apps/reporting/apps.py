from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.reporting"
    label = "reporting"
    verbose_name = "Reporting (PRISMA-IPD)"

    def ready(self) -> None:
        # The trial list's ?prisma= filter: the trials app lists, this app says which trials a box holds.
        from apps.reporting import selectors
        from apps.trials import list_filters

        list_filters.register("prisma", selectors.trial_filter)
