"""Pickup's answers to what orders announces (orders.signals), connected in
``PickupConfig.ready``: a task for every click-and-collect order, kept where its
order stands after every change, whoever made it; and the task's documents locked
with the order, before its stock moves."""

from orders.signals import order_changed, order_locked, order_placed

from . import services


def open_pickup_task(sender, *, order, actor, **kwargs) -> None:
    services.pickup_task_open(order=order, actor=actor)


def lock_for_order(sender, *, order, **kwargs) -> None:
    services.pickup_documents_lock(order=order)


def follow_order(sender, *, order, actor, **kwargs) -> None:
    services.pickup_task_follow_order(order=order, actor=actor)


def connect() -> None:
    order_placed.connect(open_pickup_task, dispatch_uid="pickup.open_task")
    order_locked.connect(lock_for_order, dispatch_uid="pickup.lock_for_order")
    order_changed.connect(follow_order, dispatch_uid="pickup.follow_order")
