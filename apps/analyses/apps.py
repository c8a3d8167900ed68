from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.analyses"
    label = "analyses"
    verbose_name = "Analyses"

    def ready(self) -> None:
        # The overview's recent activity: finished runs.
        from apps.analyses.activity import runs_finished
        from apps.trials import activity

        activity.register("analyses", runs_finished)
        # The job-state receiver; the task, so that _enqueue finds it and eager mode (no broker) runs it.
        from apps.analyses import receivers, tasks  # noqa: F401
