from django.apps import AppConfig


class HarmonisationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.harmonisation"
    verbose_name = "Harmonisation"
