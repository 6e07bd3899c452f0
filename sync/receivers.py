"""Channel sync's answer to what inventory announces (inventory.signals), connected in
``SyncConfig.ready``: once stock moved and committed, the push job is asked to run,
after the coalescing window. Only when some subscription is active (as this process
knows it, re-read every few seconds): the feed places its own changes when read.
The kick never holds the write up (``config.broker.job_queue``: a short timeout,
then a circuit that stops trying for a while); a broker that is down is logged, not
raised, and beat's sweep pushes what the kick could not.

And to what orders announces (orders.signals): a pre-order's supply arrived
(``order_supply_arrived``) is queued for the channel's subscriptions that name
``order.supply_arrived``, in the order's transaction, and the push asked for after
its commit (``services.order_events``)."""

import time

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from config.broker import job_queue
from inventory.signals import stock_moved
from orders.signals import order_supply_arrived

from .models import WebhookSubscription

# Whether any subscription is active, as this process last read it: a checkout's
# lean path is one call to the database, and stays so. A subscription made in
# another process is seen within the TTL (the sweep sends what came before).
SUBSCRIBED_TTL_SECONDS = 5.0
_subscribed: tuple[bool, float] | None = None


def _anyone_subscribed() -> bool:
    global _subscribed
    now = time.monotonic()
    if _subscribed is None or _subscribed[1] <= now:
        active = WebhookSubscription.objects.filter(is_active=True).exists()
        _subscribed = (active, now + SUBSCRIBED_TTL_SECONDS)
    return _subscribed[0]


def _forget_subscribed(sender, **kwargs) -> None:
    global _subscribed
    _subscribed = None


def push_soon(sender, **kwargs) -> None:
    if not _anyone_subscribed():
        return
    _push()


def supply_arrived_queue(sender, *, order, event, **kwargs) -> None:
    """``order_supply_arrived`` (``order``, ``event``, ``actor``): its deliveries,
    in the order's transaction; the push once it commits."""
    from .services.order_events import order_event_deliveries_queue

    if order_event_deliveries_queue(order=order, event=event):
        transaction.on_commit(_push, robust=True)


def _push() -> None:
    from .tasks import push_availability

    job_queue(
        push_availability,
        what="the availability push (the sweep will send it)",
        countdown=settings.WEBHOOK_COALESCE_SECONDS,
        queue=settings.SYNC_QUEUE,
    )


def connect() -> None:
    stock_moved.connect(push_soon, dispatch_uid="sync.push_soon")
    order_supply_arrived.connect(
        supply_arrived_queue, dispatch_uid="sync.supply_arrived_queue"
    )
    for signal in (post_save, post_delete):
        signal.connect(
            _forget_subscribed,
            sender=WebhookSubscription,
            dispatch_uid=f"sync.forget_subscribed.{signal is post_save}",
        )
