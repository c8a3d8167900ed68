from django.apps import AppConfig


class ChecksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.checks"
    label = "checks"
    verbose_name = "Integrity checks"

    def ready(self) -> None:
        # The overview's recent activity: queries opened and resolved.
        from apps.checks.activity import queries_opened, queries_resolved
        from apps.trials import activity

        activity.register("checks-opened", queries_opened)
        activity.register("checks-resolved", queries_resolved)
        # What a trial's team should do next, for the contributor's home (open queries, check results).
        from apps.checks.next_steps import trial_steps
        from apps.trials import next_steps

        next_steps.register("checks", trial_steps)
        from apps.checks import gates, receivers, tasks  # noqa: F401  (the job-state receiver; the task, so eager mode runs it)

        gates.register()
