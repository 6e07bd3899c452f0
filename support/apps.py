"""The support app: customer service's screens over every other app's records."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Customer service"
