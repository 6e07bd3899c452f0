from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Channel sync: webhooks, change feed, sync health"

    def ready(self) -> None:
        # Its part of /readyz and of /metrics, registered as the app loads: a
        # mistake in either fails the start, not every probe later.
        from . import metrics, readiness, receivers  # noqa: F401

        receivers.connect()
