from django.apps import AppConfig


class HarmonisationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.harmonisation"
    verbose_name = "Harmonisation"

    def ready(self) -> None:
        # What a trial's team should do next, for the contributor's home (mapping pending).
        from apps.harmonisation.next_steps import trial_steps
        from apps.trials import next_steps

        next_steps.register("harmonisation", trial_steps)
        # The apply task registered in every process, so that without Redis (eager mode) it runs in-process.
        from apps.harmonisation import tasks  # noqa: F401
