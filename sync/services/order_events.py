"""The orders' kind: ``order.supply_arrived``, sent when dated supply a pre-order
waited for landed and its units became the order's committed stock (the orders app
records an ``OrderEvent`` of kind ``supply_arrived`` and sends
``orders.signals.order_supply_arrived`` in its transaction; ``sync.receivers``
queues it here).

Each event is a delivery of its own per subscription of the order's channel that
names the kind (``order_event``: never coalesced, two events are two deliveries),
queued in the order's transaction, so an order rolled back sends nothing. The same
sender sends them (``webhooks._deliver``: signed, retried, failing after the
schedule, in order per subscription): after the subscription's changes at a
location, before its network figures', in the order they were recorded (an order's
own events always so: they are written under its lock). A re-send from a point in
time queues again the events recorded since then; the id is the event's, the same
every time."""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from config import metrics
from orders.models import Order, OrderEvent, OrderLine

from ..models import EventKind, WebhookDelivery, WebhookSubscription

KIND = EventKind.ORDER_SUPPLY_ARRIVED
Pending = WebhookDelivery.Status.PENDING


def order_event_deliveries_queue(*, order: Order, event: OrderEvent) -> int:
    """A pending delivery of ``event`` (of kind ``supply_arrived``) for each active
    subscription of ``order``'s channel that names ``order.supply_arrived``; how
    many. In the caller's transaction (the order's)."""
    if event.kind != OrderEvent.Kind.SUPPLY_ARRIVED:
        return 0
    subscriptions = WebhookSubscription.objects.filter(
        channel_id=order.channel_id, is_active=True
    ).order_by("pk")
    return _queue(subscriptions=subscriptions, events=[event])


def order_event_deliveries_queue_again(
    *, subscription: WebhookSubscription, since: datetime
) -> int:
    """For a re-send from ``since``: the subscription's channel's supply arrivals
    recorded since then, queued again unless one waits already; how many."""
    events = OrderEvent.objects.filter(
        order__channel_id=subscription.channel_id,
        kind=OrderEvent.Kind.SUPPLY_ARRIVED,
        at__gte=since,
    ).order_by("pk")
    return _queue(subscriptions=[subscription], events=events)


def order_event_deliveries_send(
    subscription: WebhookSubscription, *, deliver
) -> tuple[int, bool]:
    """Send the subscription's due order events, oldest first, each through
    ``deliver`` (``webhooks._deliver``), until none is due or a POST fails; how many
    were delivered, and whether none is left due (False: a POST failed, and nothing
    may overtake it). The sender calls it holding the subscription's claim."""
    delivered = 0
    while True:
        due = list(
            WebhookDelivery.objects.filter(
                subscription_id=subscription.pk,
                status=Pending,
                order_event__isnull=False,
            ).order_by("order_event_id")[: settings.WEBHOOK_SEND_BATCH]
        )
        if not due:
            return delivered, True
        events = _events_by_id(ids={delivery.order_event_id for delivery in due})
        for delivery in due:
            event = events.get(delivery.order_event_id)
            if event is None:
                continue  # its order was deleted since: the delivery went with it
            if not deliver(subscription, delivery, order_event_body(event), None):
                return delivered, False
            metrics.webhook_delivered(changed_at=event.at)
            delivered += 1


def order_event_deliveries_prune(*, before: datetime) -> int:
    """Drop the order events' deliveries delivered before ``before`` (their
    attempts with them); the events stay on their orders' timelines."""
    deleted, _ = WebhookDelivery.objects.filter(
        order_event__isnull=False,
        status=WebhookDelivery.Status.DELIVERED,
        delivered_at__lt=before,
    ).delete()
    return deleted


def order_event_body(event: OrderEvent) -> dict:
    """The webhook's body of a ``supply_arrived`` entry of an order's timeline:
    the lines whose units arrived (their quantity, and the status each line moved
    to), from what the entry's ``detail`` recorded."""
    order = event.order
    detail = event.detail or {}
    at = event.at.isoformat()
    return {
        "id": f"evt_order_{event.pk}",
        "type": KIND.value,
        # ``created_at`` as every kind's body has it; ``occurred_at`` the same moment.
        "created_at": at,
        "occurred_at": at,
        "data": {
            "order": order.reference,
            "order_id": order.pk,
            "channel": order.channel.code,
            "lines": _lines(detail.get("lines") or [], order=order),
            "supply": [
                {
                    "reference": supply.get("reference"),
                    "expected_at": supply.get("expected_at"),
                }
                for supply in detail.get("supply") or []
            ],
            "note": event.note,
        },
    }


def _lines(recorded: list[dict], *, order: Order) -> list[dict]:
    """Each line as recorded: its id, SKU and location codes, the units that
    arrived, and its status after. A field the entry left out is read from the
    line as it stands."""
    missing = {
        item.get("line")
        for item in recorded
        if not all(item.get(name) for name in ("sku", "location", "to"))
    }
    lines = (
        {
            line.pk: line
            for line in OrderLine.objects.filter(
                order_id=order.pk, pk__in=missing
            ).select_related("sku", "location")
        }
        if missing
        else {}
    )
    body = []
    for item in recorded:
        line = lines.get(item.get("line"))
        body.append(
            {
                "line": item.get("line"),
                "sku": item.get("sku") or (line.sku.code if line else None),
                "location": item.get("location")
                or (line.location.code if line else None),
                "quantity": item.get("quantity", 0),
                "status": item.get("to") or (line.status if line else None),
            }
        )
    return body


def _queue(
    *, subscriptions: Iterable[WebhookSubscription], events: Iterable[OrderEvent]
) -> int:
    wanting = [
        subscription for subscription in subscriptions if subscription.wants(KIND)
    ]
    if not wanting:
        return 0
    now = timezone.now()
    rows = [
        WebhookDelivery(
            subscription_id=subscription.pk,
            order_event_id=event.pk,
            status=Pending,
            created_at=now,
        )
        for event in events
        for subscription in wanting
    ]
    # One already pending for the same event (a re-send while it waits) is kept:
    # the unique index on (subscription, order_event) while pending.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _events_by_id(*, ids: set[int]) -> dict[int, OrderEvent]:
    return {
        event.pk: event
        for event in OrderEvent.objects.filter(pk__in=ids).select_related(
            "order__channel"
        )
    }
