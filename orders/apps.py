from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        # A pre-order's lines follow the supply they wait for (orders.services
        # .preorders): landed with a receipt, or moved by a reschedule or call-off.
        from inventory.signals import supply_landed, supply_promises_moved

        from .services import preorders

        supply_landed.connect(
            preorders.supply_landed, dispatch_uid="orders.supply_landed"
        )
        supply_promises_moved.connect(
            preorders.promises_moved, dispatch_uid="orders.supply_promises_moved"
        )
