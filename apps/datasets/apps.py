from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = "Participant data"

    def ready(self) -> None:
        # The job-state receiver; the task, so that _enqueue finds it and eager mode (no broker) runs it.
        from apps.datasets import gates, receivers, tasks  # noqa: F401

        gates.register()
