from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = "Participant data"

    def ready(self) -> None:
        # The overview's recent activity: uploads.
        from apps.datasets.activity import uploads
        from apps.trials import activity

        activity.register("datasets", uploads)
        # What a trial's team should do next, for the contributor's home (uploads).
        from apps.datasets.next_steps import trial_steps
        from apps.trials import next_steps

        next_steps.register("datasets", trial_steps)
        # The job-state receiver; the task, so that _enqueue finds it and eager mode (no broker) runs it.
        from apps.datasets import gates, receivers, tasks  # noqa: F401

        gates.register()
