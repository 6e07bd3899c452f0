from django.apps import AppConfig


class PickupConfig(AppConfig):
    name = "pickup"
    verbose_name = "Store pickup"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
