from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo review (`manage.py load_demo`): built through every app's services, so it sits above them all."""

    name = "apps.demo"
    label = "demo"
    verbose_name = "Demo review"
