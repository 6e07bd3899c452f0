from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Channel sync: webhooks, change feed, sync health"

    def ready(self) -> None:
        from . import readiness, receivers  # noqa: F401 (readiness registers its check)

        receivers.connect()
