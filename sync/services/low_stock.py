"""Low-stock events: which side of its ``low_stock_threshold`` a subscription last
heard each SKU was on (``LowStockMark``), at a location or across its channel's
network, and the ``availability.low`` / ``availability.restocked`` event a crossing
becomes.

A crossing is decided when sending, not when queueing: the sender
(``webhooks._send_due``) reads a batch's marks in one query (``LowStockMarks``),
compares the available-to-promise of each event it is about to send with the
threshold and the mark, and POSTs the crossing's event right after the event that
caused it. The mark moves only in the transaction that records that POST's success
(``Crossing.record``), so:

- once per crossing: a crossing sent is recorded, and a figure still on the same side
  is no crossing;
- never ahead of its cause, never lost: the delivery stays pending until the
  crossing's event is delivered too; a failed POST leaves the mark as it was, and the
  retry decides again from the delivery's change (the same change, the same event
  id), or from the newer change that replaced it meanwhile (a crossing undone before
  it could be sent is then no crossing, as a burst coalesces into its latest
  numbers).

A kit's row riding on a component's delivery (``webhooks._deliver``) is watched
the same way, under the kit's own mark at that location, its crossing sent right
after the kit's row.

No mark yet counts as "not low": the first figure at or below the threshold is a
crossing, the first above it is none and writes nothing (marks exist only for what
has been low once). A subscription that wants only one of the two kinds still moves
its mark on the other crossing, without a POST, so that the next crossing of the kind
it wants is sent.
"""

from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from ..models import EventKind, LowStockMark, WebhookSubscription

LOW = EventKind.AVAILABILITY_LOW.value
RESTOCKED = EventKind.AVAILABILITY_RESTOCKED.value
# What a crossing's event id adds to the id of the event that caused it: a retry of
# the same crossing sends the same id.
SUFFIXES = {LOW: "low", RESTOCKED: "restocked"}
# A mark's key: (SKU id, location id), the location None for the channel's network.
Key = tuple[int, int | None]


def watches(subscription: WebhookSubscription) -> bool:
    """Whether low-stock crossings are looked for at all: a threshold set, and the
    kinds it wants (none named: every kind) include either of the two."""
    return subscription.low_stock_threshold is not None and (
        subscription.wants(LOW) or subscription.wants(RESTOCKED)
    )


def watches_network(subscription: WebhookSubscription) -> bool:
    """Whether the network total is watched too: only for a subscription sent the
    network kind (``network_availability.changed``)."""
    return watches(subscription) and subscription.wants(
        EventKind.NETWORK_AVAILABILITY_CHANGED
    )


@dataclass(frozen=True)
class Crossing:
    """A figure on the other side of the threshold from the subscription's mark.
    ``event`` is what to POST right after the event that caused it; None when the
    subscription does not want this kind (the mark moves without a POST)."""

    subscription_id: int
    sku_id: int
    location_id: int | None
    is_low: bool
    available_to_promise: int
    event: dict | None

    def record(self) -> None:
        """Move the mark to this side: called inside the transaction that records the
        POST's success (one sender per subscription, so no other writer races it)."""
        LowStockMark.objects.update_or_create(
            subscription_id=self.subscription_id,
            sku_id=self.sku_id,
            location_id=self.location_id,
            defaults={
                "is_low": self.is_low,
                "available_to_promise": self.available_to_promise,
                "changed_at": timezone.now(),
            },
        )


class LowStockMarks:
    """One subscription's marks for a batch of events, read in one query (none when
    it watches nothing), and the crossing each event makes."""

    def __init__(self, subscription: WebhookSubscription, *, keys: Collection[Key]):
        self.subscription = subscription
        self.watching = watches(subscription)
        self._low: dict[Key, bool] = {}
        if not self.watching or not keys:
            return
        wanted = set(keys)
        locations = {location for _, location in wanted if location is not None}
        where = Q(location_id__in=locations)
        if None in {location for _, location in wanted}:
            where |= Q(location__isnull=True)
        marks = LowStockMark.objects.filter(
            where,
            subscription_id=subscription.pk,
            sku_id__in={sku for sku, _ in wanted},
        ).values_list("sku_id", "location_id", "is_low")
        self._low = {
            (sku, location): is_low
            for sku, location, is_low in marks
            if (sku, location) in wanted
        }

    def crossing(
        self, *, sku_id: int, location_id: int | None, event: dict
    ) -> Crossing | None:
        """The crossing ``event`` (an ``availability.changed`` body, or the network
        kind's for ``location_id`` None) makes, if any: its ``available_to_promise``
        at or below the threshold where the mark says not low (or there is none), or
        above it where the mark says low."""
        if not self.watching:
            return None
        if location_id is None and not watches_network(self.subscription):
            return None
        threshold = self.subscription.low_stock_threshold
        promisable = event["data"]["available_to_promise"]
        is_low = promisable <= threshold
        if is_low == self._low.get((sku_id, location_id), False):
            return None
        kind = LOW if is_low else RESTOCKED
        body = None
        if self.subscription.wants(kind):
            body = {
                "id": f"{event['id']}_{SUFFIXES[kind]}",
                "type": kind,
                "created_at": event["created_at"],
                "data": {**event["data"], "threshold": threshold},
            }
        return Crossing(
            subscription_id=self.subscription.pk,
            sku_id=sku_id,
            location_id=location_id,
            is_low=is_low,
            available_to_promise=promisable,
            event=body,
        )


def network_crossing(
    *, marks: LowStockMarks, sku_id: int, event: dict
) -> Crossing | None:
    """The crossing a ``network_availability.changed`` event makes for the SKU's total
    over the channel's network (the mark with no location), if the subscription
    watches the network (``watches_network``); send ``Crossing.event`` right after
    the network event, recording the mark with its success, as for a location. (The
    sender's loop does this already for a delivery with no location.)"""
    return marks.crossing(sku_id=sku_id, location_id=None, event=event)
