from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = "Participant data"

    def ready(self) -> None:
        from apps.datasets import receivers  # noqa: F401  (connects the job-state receiver)
