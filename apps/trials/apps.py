from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "apps.trials"
    label = "trials"
    verbose_name = "Trials and data acquisition"
