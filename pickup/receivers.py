"""Pickup's answers to what orders announces (orders.signals), connected in
``PickupConfig.ready``: a task for every click-and-collect order, stopped when its
order is cancelled."""

from orders.signals import order_placed, order_status_changed

from . import services


def open_pickup_task(sender, *, order, **kwargs) -> None:
    services.pickup_task_open(order=order)


def follow_order_status(sender, *, order, to_status, actor, **kwargs) -> None:
    services.pickup_task_follow_order(order=order, to_status=to_status, actor=actor)


def connect() -> None:
    order_placed.connect(open_pickup_task, dispatch_uid="pickup.open_task")
    order_status_changed.connect(follow_order_status, dispatch_uid="pickup.follow")
