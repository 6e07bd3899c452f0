from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "Exceptions, counts and accuracy"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
