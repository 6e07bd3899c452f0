"""Placing the outbox's changes in the feed, and turning them into deliveries.

The database writes a change (``inventory.AvailabilityChange``) with the stock it
describes; its ``position`` in the feed is given here, after commit, by one placer
at a time (the lock on the feed's own row, ``FeedState``, which also keeps the last
position given). Changes are placed in the order of their ids among those committed,
so:

- a reader that continues after position N never misses a change: anything placed
  later gets a higher position, and positions are given with no gaps;
- two changes of one SKU at one location are placed in the order they happened: the
  second waited on the first's balance lock, so it was written (and took its id)
  after the first committed, and no placer sees the second without the first.

The same pass makes each subscription's deliveries: the latest change per SKU and
location, merged into a pending delivery when there is one (the coalescing; a kit
has none of its own: its row rides on its components', webhooks.py); then it
and the network figures catch up with the feed (``network``: sums for the SKUs of
the changes placed since), in the same transaction or, for the push job, in a job of
their own, so a network total that moved is never left unannounced.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from inventory.models import AvailabilityChange, EventTally

from ..models import EventKind, FeedState, WebhookDelivery, WebhookSubscription
from . import low_stock, network, order_events
from .feed_state import changes_prune, feed_state_locked

CHANGES = AvailabilityChange._meta.db_table
DELIVERIES = WebhookDelivery._meta.db_table


@dataclass(frozen=True)
class Placed:
    changes: int
    subscriptions: list[int]


def changes_place(*, limit: int | None = None, networks: bool = True) -> Placed:
    """Give the committed, unplaced changes their positions (at most ``limit``) and
    queue them for every subscription (``deliveries_queue``). With ``networks``, the
    network figures then catch up with the feed in the same transaction
    (``network.network_figures_catch_up``); the push job leaves them to a job of their
    own, so summing networks never holds a change at a location up."""
    limit = limit or settings.SYNC_PLACE_BATCH
    with transaction.atomic(), connection.cursor() as cursor:
        state = feed_state_locked()
        cursor.execute(_PLACE, [limit, state.last_position])
        rows = cursor.fetchall()
        placed = [change_id for change_id, _ in rows]
        if placed:
            state.last_position += len(placed)
            state.save(update_fields=["last_position"])
        subscriptions = _queue_for_subscriptions(cursor, placed) if placed else []
        if networks:
            network.network_figures_catch_up()
        return Placed(len(placed), subscriptions)


def feed_skip_after_restore(*, by: int) -> FeedState:
    """After a point-in-time restore: the feed's next position jumps ``by`` past its
    last, and everything before is as if pruned. A channel's cursor from before the
    restore, which may name positions the restored database never gave, is then
    answered 410 (read availability whole, follow from ``latest_cursor``), never
    taken as a place in the new history where changes would be skipped."""
    if by < 1:
        raise ValueError("by: at least 1")
    with transaction.atomic():
        state = feed_state_locked()
        state.last_position += by
        state.pruned_through = state.last_position
        state.network_through = state.last_position  # nothing there to sum
        network.network_feed_skip(state=state, by=by)
        state.save(
            update_fields=[
                "last_position",
                "pruned_through",
                "network_through",
                "network_last_position",
                "network_pruned_through",
            ]
        )
    return state


_PLACE = f"""
WITH picked AS (
    SELECT id, row_number() OVER (ORDER BY id) AS number
    FROM {CHANGES} WHERE position IS NULL ORDER BY id LIMIT %s
)
UPDATE {CHANGES} SET position = %s + picked.number
FROM picked WHERE {CHANGES}.id = picked.id
RETURNING {CHANGES}.id, {CHANGES}.sku_id
"""


def _queue_for_subscriptions(cursor, placed: list[int]) -> list[int]:
    # Switched off too: its changes wait, one per SKU and location, and go out when
    # it is switched on again; nothing is lost meanwhile.
    # One that wants only low-stock events is queued too: its crossings are decided
    # when its deliveries are sent (low_stock.py).
    subscriptions = [
        subscription.pk
        for subscription in WebhookSubscription.objects.all()
        if subscription.wants(EventKind.AVAILABILITY_CHANGED)
        or low_stock.watches(subscription)
    ]
    if subscriptions:
        deliveries_queue(
            cursor,
            subscriptions=subscriptions,
            changes=AvailabilityChange.objects.filter(pk__in=placed),
        )
    return subscriptions


def deliveries_queue(cursor, *, subscriptions: list[int], changes) -> None:
    """A pending delivery per subscription for the latest of ``changes`` (a queryset)
    per SKU and location, replacing the change of one already pending (never with an
    older one)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # The latest is the highest id: a SKU's changes at a location take their ids in
    # the order they happened (see the module's docstring), the order the upsert
    # below compares them in. One grouped query, the same on every database.
    latest = (
        changes.order_by("sku_id", "location_id")
        .values_list("sku_id", "location_id")
        .annotate(latest=Max("id"))
    )
    rows: list[object] = []
    for sku_id, location_id, change_id in latest.iterator(chunk_size=5000):
        for subscription_id in subscriptions:
            rows += [subscription_id, change_id, sku_id, location_id]
        if len(rows) >= 4 * 500:
            _deliveries_upsert(cursor, rows, now)
            rows = []
    if rows:
        _deliveries_upsert(cursor, rows, now)


def _deliveries_upsert(cursor, rows: list[object], now) -> None:
    values = ", ".join(["(%s, %s, %s, %s)"] * (len(rows) // 4))
    cursor.execute(
        f"INSERT INTO {DELIVERIES} AS delivery (subscription_id, change_id, "
        "sku_id, location_id, status, created_at, attempts) "
        f"SELECT v.*, 'pending', %s, 0 FROM (VALUES {values}) AS v WHERE true "
        "ON CONFLICT (subscription_id, sku_id, location_id) "
        "WHERE status = 'pending' DO UPDATE SET change_id = excluded.change_id "
        "WHERE excluded.change_id > delivery.change_id",
        [now, *rows],
    )


@transaction.atomic
def feed_prune(*, now=None) -> int:
    """Drop changes older than ``SYNC_FEED_RETENTION_DAYS``, with the delivered
    deliveries (and their attempts) that point at them, and the sources' tallies as
    old; a change still waiting to be sent stays. The feed remembers the highest
    position it dropped: a cursor before it has lost changes (410)."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.SYNC_FEED_RETENTION_DAYS)
    state = feed_state_locked()
    deleted, highest = changes_prune(
        old=AvailabilityChange.objects.filter(
            changed_at__lt=before, position__isnull=False
        ),
        link="change",
    )
    if highest is not None and highest > state.pruned_through:
        state.pruned_through = highest
        state.save(update_fields=["pruned_through"])
    EventTally.objects.filter(minute__lt=before).delete()
    order_events.order_event_deliveries_prune(before=before)
    return deleted + network.network_changes_prune(state=state, before=before)
