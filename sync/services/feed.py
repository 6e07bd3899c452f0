"""Placing the outbox's changes in the feed, and turning them into deliveries.

The database writes a change (``inventory.AvailabilityChange``) with the stock it
describes; its ``position`` in the feed is given here, after commit, by one placer
at a time (an advisory lock on PostgreSQL; SQLite has one writer anyway). Changes are
placed in the order of their ids among those committed, so:

- a reader that continues after position N never misses a change: anything placed
  later gets a higher position, and positions are given with no gaps;
- two changes of one SKU at one location are placed in the order they happened: the
  second waited on the first's balance lock, so it was written (and took its id)
  after the first committed, and no placer sees the second without the first.

The same pass makes each subscription's deliveries: the latest change per SKU and
location, merged into a pending delivery when there is one (the coalescing).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import AvailabilityChange

from ..models import EventKind, WebhookDelivery, WebhookSubscription

# pg_advisory_xact_lock key: "feed" in ASCII.
FEED_LOCK = 0x66656564
CHANGES = AvailabilityChange._meta.db_table
DELIVERIES = WebhookDelivery._meta.db_table


@dataclass(frozen=True)
class Placed:
    changes: int
    subscriptions: list[int]


def changes_place(*, limit: int | None = None) -> Placed:
    """Give the committed, unplaced changes their positions (at most ``limit``) and
    queue them for every active subscription that is not failing."""
    limit = limit or settings.SYNC_PLACE_BATCH
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])
        cursor.execute(_PLACE, [limit])
        placed = [row[0] for row in cursor.fetchall()]
        if not placed:
            return Placed(0, [])
        subscriptions = _queue_for_subscriptions(cursor, placed)
        return Placed(len(placed), subscriptions)


_PLACE = f"""
WITH top AS (SELECT COALESCE(MAX(position), 0) AS position FROM {CHANGES}),
picked AS (
    SELECT id, row_number() OVER (ORDER BY id) AS number
    FROM {CHANGES} WHERE position IS NULL ORDER BY id LIMIT %s
)
UPDATE {CHANGES} SET position = (SELECT position FROM top) + picked.number
FROM picked WHERE {CHANGES}.id = picked.id
RETURNING {CHANGES}.id
"""


def _queue_for_subscriptions(cursor, placed: list[int]) -> list[int]:
    subscriptions = [
        subscription.pk
        for subscription in WebhookSubscription.objects.filter(is_active=True)
        if subscription.wants(EventKind.AVAILABILITY_CHANGED)
    ]
    if subscriptions:
        deliveries_queue(cursor, subscriptions=subscriptions, change_ids=placed)
    return subscriptions


def deliveries_queue(cursor, *, subscriptions: list[int], change_ids: list[int]):
    """A pending delivery per subscription for the latest of ``change_ids`` per SKU
    and location, replacing the change of one already pending (never with an older
    one)."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    latest = (
        AvailabilityChange.objects.filter(pk__in=change_ids)
        .order_by("sku_id", "location_id", "-sequence")
        .values_list("id", "sku_id", "location_id")
    )
    seen: set[tuple[int, int]] = set()
    rows: list[object] = []
    for change_id, sku_id, location_id in latest:
        if (sku_id, location_id) in seen:
            continue
        seen.add((sku_id, location_id))
        for subscription_id in subscriptions:
            rows += [subscription_id, change_id, sku_id, location_id]
    for start in range(0, len(rows), 4 * 500):
        chunk = rows[start : start + 4 * 500]
        values = ", ".join(["(%s, %s, %s, %s)"] * (len(chunk) // 4))
        cursor.execute(
            f"INSERT INTO {DELIVERIES} AS delivery (subscription_id, change_id, "
            "sku_id, location_id, status, created_at, attempts) "
            f"SELECT v.*, 'pending', %s, 0 FROM (VALUES {values}) AS v WHERE true "
            "ON CONFLICT (subscription_id, sku_id, location_id) "
            "WHERE status = 'pending' DO UPDATE SET change_id = excluded.change_id "
            "WHERE excluded.change_id > delivery.change_id",
            [adapt(now), *chunk],
        )


@transaction.atomic
def feed_prune(*, now=None) -> int:
    """Drop changes older than ``SYNC_FEED_RETENTION_DAYS``, with the delivered
    deliveries (and their attempts) that point at them; a change still waiting to be
    sent, or the latest of its SKU and location, stays."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.SYNC_FEED_RETENTION_DAYS)
    old = AvailabilityChange.objects.filter(
        changed_at__lt=before, position__isnull=False
    )
    WebhookDelivery.objects.filter(
        change__in=old, status=WebhookDelivery.Status.DELIVERED
    ).delete()
    waiting = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING
    ).values("change_id")
    deleted, _ = old.exclude(pk__in=waiting).delete()
    return deleted
