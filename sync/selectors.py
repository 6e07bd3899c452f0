"""Reads of channel sync: the events a change becomes (one shape for a webhook and
for the feed; the rows of the kits containing its SKU ride on it), a page of the
feed, subscriptions with something to send, and the sources' health.

A change is read as a ``ChangeRow``: its figures with the few fields of its SKU and
location that an event names, in one query and without model instances. A page of the
feed is a thousand changes; building three models for each, every timestamp of theirs
loaded, took thirty times as long as reading the rows.
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from catalog.models import Channel, KitComponent, Sku
from config.database import moment_from_row
from config.replicas import reading_alias
from inventory.availability import available_sql
from inventory.kit_availability import (
    Kit,
    KitRow,
    kit_rows,
    kits_by_component,
    kits_defined,
)
from inventory.models import AvailabilityChange, Location, SourceHealth
from inventory.movements import BUCKETS
from inventory.selectors import LocationRef, SkuRef, availability_statuses
from inventory.terms import NO_TERMS, channel_terms, promise_under

from .models import (
    EventKind,
    FeedState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


class ChangeRow(NamedTuple):
    """A change as an event is made from it: ``inventory.AvailabilityChange``'s
    fields, with its SKU and location (one of each, shared by the rows that name
    it)."""

    id: int
    position: int | None
    sequence: int
    on_hand: int
    committed: int
    picked: int
    reserved: int
    damaged: int
    quality_control: int
    in_transit: int
    incoming: int
    available: int
    changed_at: datetime
    sku_id: int
    location_id: int
    sku: SkuRef
    location: LocationRef
    # Whether its SKU is a component of some kit: the kits' rows ride on its event.
    in_kits: bool = False


_FIGURES = ("id", "position", "sequence", *BUCKETS)
_CHANGES = AvailabilityChange._meta.db_table
_PARTS = KitComponent._meta.db_table
# The same statement on PostgreSQL and SQLite, its columns in ChangeRow's order; plain
# SQL, since the ORM took about a millisecond a page to compile it. ``available`` is
# computed by the database, from the one definition (inventory.availability). The
# timestamps come as text: Django loads a PostgreSQL timestamptz in pure Python (about
# 6 µs each, 6 ms a page) where psycopg loads text in C, and ``moment_from_row`` parses
# it in C.
_CHANGE_ROWS = (
    f"SELECT {', '.join(f'c.{name}' for name in _FIGURES)}, {available_sql('c')}, "
    "CAST(c.changed_at AS text), c.sku_id, c.location_id, s.code, s.safety_buffer, "
    "l.code, l.kind, CAST(l.pos_last_event_at AS text), "
    # Whether the SKU is a component: asked per change only when any kit exists
    # (read once for the page), so a chain without kits pays nothing for it.
    f"CASE WHEN (SELECT EXISTS (SELECT 1 FROM {_PARTS})) THEN EXISTS (SELECT 1 "
    f"FROM {_PARTS} part WHERE part.component_id = c.sku_id) ELSE false END "
    f"FROM {_CHANGES} c JOIN {Sku._meta.db_table} s ON s.id = c.sku_id "
    f"JOIN {Location._meta.db_table} l ON l.id = c.location_id "
)


def _change_rows(where: str, params: Sequence) -> list[ChangeRow]:
    with connections[reading_alias()].cursor() as cursor:
        cursor.execute(_CHANGE_ROWS + where, params)
        values = cursor.fetchall()
    figures = len(_FIGURES) + 1  # and available
    skus: dict[int, SkuRef] = {}
    locations: dict[int, LocationRef] = {}
    rows = []
    for value in values:
        (changed, sku_id, location_id, sku_code, buffer, location_code, kind, pos) = (
            value[figures:-1]
        )
        sku = skus.get(sku_id)
        if sku is None:
            sku = skus[sku_id] = SkuRef(sku_id, sku_code, buffer)
        location = locations.get(location_id)
        if location is None:
            location = locations[location_id] = LocationRef(
                location_id, location_code, kind, moment_from_row(pos)
            )
        rows.append(
            ChangeRow(
                *value[:figures],
                moment_from_row(changed),
                sku_id,
                location_id,
                sku,
                location,
                bool(value[-1]),
            )
        )
    return rows


# Where a ChangeRow holds the buckets, in BUCKETS' order, to slice them in one step;
# this check makes them the same length, so they are zipped without zip's own check
# (0.3 µs an event, of about 4).
_QUANTITIES = slice(_FIGURES.index(BUCKETS[0]), _FIGURES.index(BUCKETS[-1]) + 1)
assert ChangeRow._fields[_QUANTITIES] == BUCKETS


class KitEvent(NamedTuple):
    """The event of a kit's row at a location, riding on a change of one of its
    components there."""

    kit_id: int
    location_id: int
    event: dict


def change_events(
    *, changes: Sequence[ChangeRow], channel: Channel | None
) -> list[dict]:
    """Each change as the event a channel is sent, followed by the events of the
    kits that ride on it (``change_events_with_kits``): the feed's page."""
    events = []
    for event, kits in change_events_with_kits(changes=changes, channel=channel):
        events.append(event)
        events += [kit.event for kit in kits]
    return events


def change_events_with_kits(
    *, changes: Sequence[ChangeRow], channel: Channel | None
) -> list[tuple[dict, list[KitEvent]]]:
    """Each change's event, with the events of the kits that ride on it: each kit
    containing a changed SKU, at each location where one of its components changed,
    once, on the last of those changes (``inventory.kit_availability``, read now,
    like the status; its ``position`` that change's, its id the change's and the
    kit's). No query more when no change names a component (``ChangeRow.in_kits``);
    else the kits' definitions and their components' rows."""
    events = _change_events(changes, channel)
    riders: list[list[KitEvent]] = [[] for _ in changes]
    if not any(change.in_kits for change in changes):
        return list(zip(events, riders, strict=True))
    containing = kits_by_component(
        kits_defined(
            component_ids={change.sku_id for change in changes if change.in_kits}
        ).values()
    )
    last: dict[tuple[int, int], tuple[int, Kit, LocationRef]] = {}
    for index, change in enumerate(changes):
        for kit in containing.get(change.sku_id, ()):
            last[(kit.ref.pk, change.location_id)] = (index, kit, change.location)
    wanted = sorted(last.values(), key=lambda item: (item[0], item[1].ref.code))
    rows = kit_rows(pairs=[(kit, place) for _, kit, place in wanted], channel=channel)
    for (index, kit, place), row in zip(wanted, rows, strict=True):
        event = _kit_event(changes[index], row, channel)
        riders[index].append(KitEvent(kit.ref.pk, place.pk, event))
    return list(zip(events, riders, strict=True))


def _kit_event(change: ChangeRow, row: KitRow, channel: Channel | None) -> dict:
    """A kit's row as an ``availability.changed`` event, on ``change``."""
    quantities = dict.fromkeys(BUCKETS, 0)
    quantities["available"] = row.available
    return {
        "id": f"evt_{change.id}.{row.sku.pk}",
        "type": EventKind.AVAILABILITY_CHANGED.value,
        "created_at": change.changed_at.isoformat(),
        "data": {
            "position": change.position,
            "sku": row.sku.code,
            "location": row.location.code,
            "sequence": row.sequence,
            "channel": channel.code if channel else None,
            "quantities": quantities,
            "safety_buffer": row.safety_buffer,
            "available_to_promise": row.available_to_promise,
            "status": row.status,
            "components": [part._asdict() for part in row.components],
        },
    }


def _change_events(changes: Sequence[ChangeRow], channel: Channel | None) -> list[dict]:
    """Each change as the event a channel is sent: every quantity as of the change,
    what the channel may promise from it, and the status read now."""
    statuses = availability_statuses(
        pairs={(change.sku_id, change.location_id) for change in changes},
        locations={change.location_id: change.location for change in changes},
    )
    channel_code = channel.code if channel else None
    channel_buffer = channel.safety_buffer if channel else None
    # The channel's terms (its velocity buffers, the protections in force) as they
    # stand now, like the status.
    terms = channel_terms(
        channel_id=channel.pk if channel else None,
        keys={(change.sku_id, change.location_id) for change in changes},
        now=timezone.now(),
        using=reading_alias(),
    )
    kind = EventKind.AVAILABILITY_CHANGED.value
    events = []
    for change in changes:
        available = change.available
        buffer, promised = promise_under(
            terms.get((change.sku_id, change.location_id), NO_TERMS)
            if terms
            else NO_TERMS,
            available=available,
            sku_buffer=change.sku.safety_buffer,
            channel_buffer=channel_buffer,
        )
        quantities = dict(zip(BUCKETS, change[_QUANTITIES], strict=False))
        quantities["available"] = available
        events.append(
            {
                "id": f"evt_{change.id}",
                "type": kind,
                "created_at": change.changed_at.isoformat(),
                "data": {
                    "position": change.position,
                    "sku": change.sku.code,
                    "location": change.location.code,
                    "sequence": change.sequence,
                    "channel": channel_code,
                    "quantities": quantities,
                    "safety_buffer": buffer,
                    "available_to_promise": promised,
                    "status": statuses[(change.sku_id, change.location_id)],
                },
            }
        )
    return events


def feed_changes(*, after: int, limit: int) -> list[ChangeRow]:
    """Placed changes after position ``after``, in feed order: one query."""
    return _change_rows(
        "WHERE c.position > %s ORDER BY c.position LIMIT %s", [after, limit]
    )


def changes_by_id(*, ids: Collection[int]) -> dict[int, ChangeRow]:
    """The changes of these ids that are still kept, by id: one query."""
    if not ids:
        return {}
    where = f"WHERE c.id IN ({', '.join(['%s'] * len(ids))})"
    return {row.id: row for row in _change_rows(where, list(ids))}


class FeedBounds(NamedTuple):
    # The highest position pruned: a cursor below it has lost changes.
    pruned_through: int
    # The last position given: a cursor above it is not one we gave.
    last_position: int
    # Committed changes wait for their position (or the feed has no row yet).
    unplaced: bool
    # The same bounds for the network figures' changes (``?kind=network``), and the
    # position the network figures were last summed through.
    network_pruned_through: int = 0
    network_last_position: int = 0
    network_through: int = 0


_FEED_BOUNDS = (
    "SELECT pruned_through, last_position, "
    f"EXISTS (SELECT 1 FROM {_CHANGES} WHERE position IS NULL), "
    "network_pruned_through, network_last_position, network_through "
    f"FROM {FeedState._meta.db_table} WHERE id = 1"
)


def feed_bounds() -> FeedBounds:
    """The feed's bounds, and whether changes wait for their position: one query of
    the feed's row and the outbox's index of unplaced changes."""
    with connections[reading_alias()].cursor() as cursor:
        cursor.execute(_FEED_BOUNDS)
        row = cursor.fetchone()
    if row is None:
        return FeedBounds(0, 0, True)  # placing makes the row
    pruned_through, last_position, unplaced, *network = row
    return FeedBounds(pruned_through, last_position, bool(unplaced), *network)


class OutboxState(NamedTuple):
    """How far sending is behind, for the operators (/readyz, /metrics)."""

    # Committed changes not yet given a feed position, and the oldest one's time.
    unplaced: int
    oldest_unplaced_at: datetime | None
    # Deliveries waiting to be sent to active subscriptions, and the oldest one's.
    deliveries_pending: int
    oldest_pending_at: datetime | None
    # The last position the feed gave.
    feed_position: int


_DELIVERIES_WAITING = (
    f"FROM {WebhookDelivery._meta.db_table} d "
    f"JOIN {WebhookSubscription._meta.db_table} s ON s.id = d.subscription_id "
    "WHERE d.status = 'pending' AND s.is_active"
)
_OUTBOX_STATE = (
    f"SELECT (SELECT count(*) FROM {_CHANGES} WHERE position IS NULL), "
    f"(SELECT min(changed_at) FROM {_CHANGES} WHERE position IS NULL), "
    f"(SELECT count(*) {_DELIVERIES_WAITING}), "
    f"(SELECT min(d.created_at) {_DELIVERIES_WAITING}), "
    f"(SELECT last_position FROM {FeedState._meta.db_table} WHERE id = 1)"
)


def outbox_state() -> OutboxState:
    """The outbox's backlog and the feed's position, in one query on the primary
    (where the placing happens); each count walks a partial index of what waits."""
    with connection.cursor() as cursor:
        cursor.execute(_OUTBOX_STATE)
        unplaced, oldest, pending, oldest_pending, position = cursor.fetchone()
    return OutboxState(
        unplaced,
        moment_from_row(oldest),
        pending,
        moment_from_row(oldest_pending),
        position or 0,
    )


def subscriptions_with_due_deliveries() -> list[int]:
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            subscription__is_active=True,
        )
        .exclude(subscription__state=WebhookSubscription.State.FAILING)
        .exclude(subscription__retry_at__gt=now)
        .values_list("subscription_id", flat=True)
        .distinct()
        .order_by("subscription_id")
    )


def subscription_queryset():
    return WebhookSubscription.objects.select_related("channel").order_by(
        "channel__code", "id"
    )


def pending_counts() -> dict[int, int]:
    return dict(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .values("subscription_id")
        .annotate(n=Count("id"))
        .values_list("subscription_id", "n")
    )


def source_health_rows(*, channel_code: str | None = None) -> list[SourceHealth]:
    """Every source's figures, or one channel's (what its own token may read)."""
    rows = SourceHealth.objects.select_related("channel").order_by("channel__code")
    if channel_code is not None:
        rows = rows.filter(channel__code=channel_code)
    return list(rows)


def recent_attempts(*, limit: int) -> list[WebhookAttempt]:
    return list(
        WebhookAttempt.objects.select_related("subscription__channel").order_by(
            "-attempted_at", "-id"
        )[:limit]
    )


def seconds_to_next_retry(
    *, subscription_id: int, failed_since: datetime
) -> float | None:
    """How long until the subscription, if it failed since ``failed_since``, may send
    again, if it has something pending."""
    retry_at = (
        WebhookSubscription.objects.filter(
            pk=subscription_id,
            is_active=True,
            state=WebhookSubscription.State.RETRYING,
            last_failure_at__gte=failed_since,
            deliveries__status=WebhookDelivery.Status.PENDING,
        )
        .values_list("retry_at", flat=True)
        .first()
    )
    if retry_at is None:
        return None
    return (retry_at - timezone.now()).total_seconds()
