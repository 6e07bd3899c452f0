"""Reads of inventory: locations, the ledger, and availability derived from balances.

Availability status, for one SKU at one location, is derived in this order (the first
that holds wins; docs/sync.md):

- ``under_review`` while an open conflict exists for that SKU there: a physical fact
  contradicted the records and a person has not yet looked at it;
- ``delayed`` when sales may have happened that we have not heard of: the location is
  a store and the latest event from its tills (any channel of kind ``store_pos``)
  occurred longer ago than ``ONESTOCK_POS_DELAY_SECONDS``, or never; or a source
  that reports this kind of location (tills for stores, back-office systems for
  warehouses and distribution centres) is silent past its expected interval
  (``SourceHealth.delayed``);
- ``estimated`` when such a source is in touch but late: its events of the last hour
  reached us with a 95th-percentile lag above ``SYNC_ESTIMATED_LAG_SECONDS``, so the
  figure trails the shelf by about that long;
- ``confirmed`` otherwise.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import Channel, Sku
from catalog.selectors import records_by_code
from config.database import among, moment_from_row, read_rows
from config.records import built
from config.replicas import reading_alias

# Availability and a SKU's own buffer, else the channel's: defined in one place.
from .availability import available_from, safety_buffer, safety_buffer_for  # noqa: F401
from .locking import BalanceKey
from .models import (
    Location,
    Reservation,
    ReservationLine,
    SourceHealth,
    StockBalance,
    StockConflict,
    StockMovement,
)
from .movements import BUCKETS


class AvailabilityStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    ESTIMATED = "estimated", "Estimated: its source reports late"
    DELAYED = "delayed", "Delayed: its source has not synced recently"
    UNDER_REVIEW = "under_review", "Under review: an open stock conflict"


def pickup_ready_by(*, location: Location, placed_at: datetime) -> datetime:
    """When a click-and-collect order placed at ``placed_at`` will be ready: the
    preparation time after placing when placed between opening and the cut-off, after
    opening when placed before it, and after the next opening when placed after the
    cut-off. Every day is an opening day."""
    zone = ZoneInfo(location.time_zone or "UTC")
    local = placed_at.astimezone(zone)
    preparation = timedelta(minutes=location.pickup_preparation_minutes)
    opening = datetime.combine(local.date(), location.opens_at, tzinfo=zone)
    if local.time() >= location.pickup_cutoff:
        opening = datetime.combine(
            local.date() + timedelta(days=1), location.opens_at, tzinfo=zone
        )
    start = max(local, opening)
    return (start + preparation).astimezone(placed_at.tzinfo)


def location_queryset() -> QuerySet[Location]:
    return Location.objects.all()


def locations_by_code(*, codes: set[str]) -> dict[str, Location]:
    return {loc.code: loc for loc in Location.objects.filter(code__in=codes)}


def movement_queryset() -> QuerySet[StockMovement]:
    return StockMovement.objects.select_related(
        "channel", "sku", "location", "other_location"
    ).order_by("-recorded_at", "-id")


def reservation_queryset() -> QuerySet[Reservation]:
    return (
        Reservation.objects.select_related("channel")
        .prefetch_related(
            models.Prefetch(
                "lines", ReservationLine.objects.select_related("sku", "location")
            ),
            "events",
        )
        .order_by("-created_at", "-id")
    )


def reservations_in_status(
    queryset: QuerySet[Reservation], status: str, now: datetime | None = None
) -> QuerySet[Reservation]:
    """Filter by the status a reader sees: a hold past its expiry is ``expired``
    whether or not the sweep has written it."""
    now = now or timezone.now()
    active = models.Q(status=Reservation.Status.ACTIVE)
    if status == Reservation.Status.ACTIVE:
        return queryset.filter(active, expires_at__gt=now)
    if status == Reservation.Status.EXPIRED:
        return queryset.filter(
            models.Q(status=status) | (active & models.Q(expires_at__lte=now))
        )
    return queryset.filter(status=status)


def open_conflict_queryset() -> QuerySet[StockConflict]:
    return StockConflict.objects.filter(status=StockConflict.Status.OPEN)


class AvailabilityRow:
    """Every quantity of one SKU at one location, and what a channel may promise.

    Plain values read in one statement, beside the SKU and location records the
    caller named: a read of a hundred SKUs builds no model per row (a model costs
    several times what the database spends on its row)."""

    __slots__ = (
        "sku",
        "location",
        "channel",
        *BUCKETS,
        "sequence",
        "as_of",
        "safety_buffer",
        "available_to_promise",
        "status",
    )

    @property
    def available(self) -> int:
        return available_from(self)

    def __repr__(self) -> str:
        return f"<AvailabilityRow {self.sku.code}@{self.location.code}: {self.status}>"


def balance_queryset(
    *, locations: Sequence[Location] | None = None
) -> QuerySet[StockBalance]:
    """Balances that exist (stock has moved there), in SKU and location code order."""
    queryset = StockBalance.objects.select_related("sku", "location").order_by(
        "sku__code", "location__code"
    )
    if locations:
        queryset = queryset.filter(location__in=locations)
    return queryset


def availability_rows(
    *, pairs: Sequence[tuple[Sku, Location]], channel: Channel | None
) -> list[AvailabilityRow]:
    """Availability of each (SKU, location) pair, in that order; a pair with no
    balance yet reads all zeros. The SKUs need their ``safety_buffer``, the locations
    their ``kind`` and ``pos_last_event_at``. Four short statements whatever the
    number of pairs (three when nothing is held), on the database this request reads
    from (config.replicas)."""
    if not pairs:
        return []
    using = reading_alias()
    skus = {sku.pk for sku, _ in pairs}
    locations = {location.pk for _, location in pairs}
    params: list = []
    statement = (
        f"SELECT sku_id, location_id, {', '.join(_READ_COLUMNS)} "
        f"FROM {StockBalance._meta.db_table} "
        f"WHERE {among('sku_id', skus, params, using=using)} "
        f"AND {among('location_id', locations, params, using=using)}"
    )
    found = {
        (sku_id, location_id): values
        for sku_id, location_id, *values in read_rows(statement, params, using=using)
    }
    return _rows(pairs, found, channel, using)


def availability_rows_for_balances(
    *, balances: Sequence[StockBalance], channel: Channel | None
) -> list[AvailabilityRow]:
    """The same rows for balances already read (with their SKU and location)."""
    pairs = [(row.sku, row.location) for row in balances]
    found = {
        (row.sku_id, row.location_id): [getattr(row, name) for name in _READ_COLUMNS]
        for row in balances
    }
    return _rows(pairs, found, channel, reading_alias())


# What a read takes of a balance: the buckets, then how often and when it changed.
_READ_COLUMNS = (*BUCKETS, "sequence", "last_event_at")
_ZEROS = [0] * len(BUCKETS) + [0, None]
_RESERVED = BUCKETS.index("reserved")


def _rows(
    pairs: Sequence[tuple[Sku, Location]],
    found: dict[BalanceKey, list],
    channel: Channel | None,
    using: str,
) -> list[AvailabilityRow]:
    now = timezone.now()
    under_review = _under_review(found.keys() if found else (), using)
    sources = source_states(using=using)
    holding = [key for key, values in found.items() if values[_RESERVED] > 0]
    lapsed = lapsed_holds(keys=holding, now=now, using=using)
    channel_buffer = None if channel is None else channel.safety_buffer
    # A location's sync status is the same for every SKU there.
    sync_status: dict[int, str] = {}
    rows = []
    for sku, location in pairs:
        key = (sku.pk, location.pk)
        row = AvailabilityRow()
        row.sku, row.location, row.channel = sku, location, channel
        *quantities, row.sequence, as_of = found.get(key, _ZEROS)
        for bucket, quantity in zip(BUCKETS, quantities, strict=True):
            setattr(row, bucket, quantity)
        row.as_of = moment_from_row(as_of)
        if key in lapsed:
            # Read as of now: a lapsed hold holds nothing, swept or not.
            row.reserved -= lapsed[key]
        buffer = safety_buffer(sku.safety_buffer, channel_buffer)
        row.safety_buffer = buffer
        row.available_to_promise = max(0, row.available - buffer)
        if key in under_review:
            row.status = AvailabilityStatus.UNDER_REVIEW
        else:
            status = sync_status.get(location.pk)
            if status is None:
                status = sync_status[location.pk] = _sync_status(location, now, sources)
            row.status = status
        rows.append(row)
    return rows


# Which kinds of source report the stock of which kind of location.
SOURCE_KINDS = {
    Location.Kind.STORE: {Channel.Kind.STORE_POS},
    Location.Kind.WAREHOUSE: {Channel.Kind.BACK_OFFICE},
    Location.Kind.DISTRIBUTION_CENTRE: {Channel.Kind.BACK_OFFICE},
}


@dataclass(frozen=True)
class SourceStates:
    """Per kind of location: is one of its sources delayed, is one late."""

    delayed: frozenset[str]
    late: frozenset[str]


def source_states(*, using: str = DEFAULT_DB_ALIAS) -> SourceStates:
    """The kinds of location whose sources are delayed or late, from the minute's
    health check: one short statement of a row per source."""
    delayed: set[str] = set()
    late: set[str] = set()
    threshold = settings.SYNC_ESTIMATED_LAG_SECONDS
    # A source switched off is no longer measured: its last state says nothing.
    statement = (
        f"SELECT channel.kind, health.delayed, health.lag_p95_seconds "
        f"FROM {SourceHealth._meta.db_table} health "
        f"JOIN {Channel._meta.db_table} channel ON channel.id = health.channel_id "
        f"WHERE channel.is_active"
    )
    for source_kind, is_delayed, lag_p95 in read_rows(statement, [], using=using):
        kinds = {
            location_kind
            for location_kind, source_kinds in SOURCE_KINDS.items()
            if source_kind in source_kinds
        }
        if is_delayed:
            delayed |= kinds
        elif lag_p95 is not None and lag_p95 > threshold:
            late |= kinds
    return SourceStates(frozenset(delayed), frozenset(late))


def _sync_status(location: Location, now: datetime, sources: SourceStates) -> str:
    if location.kind in sources.delayed or _tills_are_late(location, now):
        return AvailabilityStatus.DELAYED
    if location.kind in sources.late:
        return AvailabilityStatus.ESTIMATED
    return AvailabilityStatus.CONFIRMED


def availability_statuses(
    *, pairs: Iterable[BalanceKey], locations: dict[int, Location]
) -> dict[BalanceKey, str]:
    """The status of each (SKU id, location id) pair, as ``availability_rows`` derives
    it, without reading the balances (the webhooks and the feed carry their own).
    ``locations`` needs each one's ``kind`` and ``pos_last_event_at``."""
    pairs = list(pairs)
    if not pairs:
        return {}
    using = reading_alias()
    under_review = _under_review(pairs, using)
    now = timezone.now()
    sources = source_states(using=using)
    return {
        key: AvailabilityStatus.UNDER_REVIEW
        if key in under_review
        else _sync_status(locations[key[1]], now, sources)
        for key in pairs
    }


def _under_review(keys: Iterable[BalanceKey], using: str) -> set[BalanceKey]:
    """The pairs among ``keys`` with an open stock conflict."""
    keys = set(keys)
    if not keys:
        return set()
    params: list = [StockConflict.Status.OPEN]
    statement = (
        f"SELECT sku_id, location_id FROM {StockConflict._meta.db_table} "
        f"WHERE status = %s "
        f"AND {among('sku_id', {sku for sku, _ in keys}, params, using=using)} "
        f"AND {among('location_id', {loc for _, loc in keys}, params, using=using)}"
    )
    return {tuple(row) for row in read_rows(statement, params, using=using)} & keys


def _tills_are_late(location: Location, now: datetime) -> bool:
    if location.kind != Location.Kind.STORE:
        return False
    last = location.pos_last_event_at
    threshold = timedelta(seconds=settings.ONESTOCK_POS_DELAY_SECONDS)
    return last is None or now - last > threshold


def lapsed_holds(
    *, keys: Iterable[BalanceKey], now: datetime, using: str = DEFAULT_DB_ALIAS
) -> dict[BalanceKey, int]:
    """Units of active reservations past their expiry, per (SKU, location): still in
    the ``reserved`` bucket until the sweep writes their release, but holding nothing.
    Availability and new promises add them back."""
    wanted = set(keys)
    if not wanted:
        return {}
    params: list = [
        Reservation.Status.ACTIVE,
        connections[using].ops.adapt_datetimefield_value(now),
    ]
    statement = (
        f"SELECT line.sku_id, line.location_id, SUM(line.quantity) "
        f"FROM {ReservationLine._meta.db_table} line "
        f"JOIN {Reservation._meta.db_table} hold ON hold.id = line.reservation_id "
        f"WHERE hold.status = %s AND hold.expires_at <= %s "
        f"AND {among('line.sku_id', {sku for sku, _ in wanted}, params, using=using)} "
        f"AND {among('line.location_id', {loc for _, loc in wanted}, params, using=using)} "
        f"GROUP BY line.sku_id, line.location_id"
    )
    return {
        (sku, location): int(units)
        for sku, location, units in read_rows(statement, params, using=using)
        if (sku, location) in wanted
    }


@dataclass(frozen=True)
class CheckoutRecords:
    channel: Channel | None
    skus: dict[str, Sku]
    locations: dict[str, Location]


def checkout_records(
    *, channel_code: str, sku_codes: set[str], location_codes: set[str]
) -> CheckoutRecords:
    """What a cart names, in one query: only the fields a hold reads are loaded."""
    found = records_by_code(
        wanted={
            Channel: (
                (
                    "id",
                    "code",
                    "kind",
                    "is_active",
                    "safety_buffer",
                    "reservation_ttl_seconds",
                ),
                {channel_code},
            ),
            Sku: (("id", "code", "is_active", "safety_buffer"), sku_codes),
            Location: (("id", "code", "kind", "is_active"), location_codes),
        }  # fmt: skip
    )
    return CheckoutRecords(
        channel=found[Channel].get(channel_code),
        skus=found[Sku],
        locations=found[Location],
    )


# What availability reads of its records: a SKU's buffer, a location's kind and its
# tills' last event (its status), a channel's buffer.
_AVAILABILITY_FIELDS = {
    Sku: ("id", "code", "safety_buffer"),
    Location: ("id", "code", "kind", "pos_last_event_at"),
    Channel: ("id", "code", "safety_buffer"),
}


def availability_records(
    *, sku_codes: set[str], location_codes: set[str], channel_code: str | None
) -> CheckoutRecords:
    """The records an availability read names, in one statement, with only the
    fields it reads (``availability_rows``); codes not found are simply absent."""
    found = records_by_code(
        wanted={
            model: (fields, codes)
            for model, fields, codes in (
                (Sku, _AVAILABILITY_FIELDS[Sku], sku_codes),
                (Location, _AVAILABILITY_FIELDS[Location], location_codes),
                (Channel, _AVAILABILITY_FIELDS[Channel], {channel_code} - {None}),
            )
        }
    )
    return CheckoutRecords(
        channel=found[Channel].get(channel_code),
        skus=found[Sku],
        locations=found[Location],
    )


def locations_for_availability() -> list[Location]:
    """Every location in code order, with the fields availability reads."""
    fields = _AVAILABILITY_FIELDS[Location]
    statement = (
        f"SELECT {', '.join(fields)} FROM {Location._meta.db_table} ORDER BY code"
    )
    return [
        built(
            Location,
            id=location_id,
            code=code,
            kind=kind,
            pos_last_event_at=moment_from_row(last),
        )
        for location_id, code, kind, last in read_rows(
            statement, [], using=reading_alias()
        )
    ]


def on_hand_as_of(
    *, location: Location, moments: dict[int, datetime]
) -> dict[int, int]:
    """On-hand of each SKU (by id) at ``location`` as of its own moment: the balance
    less the on-hand the ledger moved after that moment. One statement, so a movement
    committing meanwhile is either in both figures or in neither. A count compares
    with this, so a sale at the till between the count and its comparison is not a
    variance."""
    if not moments:
        return {}
    adapt = connection.ops.adapt_datetimefield_value
    rows = ", ".join(["(%s, %s)"] * len(moments))
    params: list[object] = []
    for sku_id, moment in moments.items():
        params += [sku_id, adapt(moment)]
    params += [location.pk, location.pk]
    entries, balances = StockMovement._meta.db_table, StockBalance._meta.db_table
    sql = (
        f"WITH wanted(sku_id, moment) AS (VALUES {rows}) "
        f"SELECT wanted.sku_id, COALESCE(balance.on_hand, 0) - COALESCE(("
        f"SELECT SUM(entry.on_hand_delta) FROM {entries} entry "
        f"WHERE entry.sku_id = wanted.sku_id AND entry.location_id = %s "
        f"AND entry.occurred_at > wanted.moment), 0) "
        f"FROM wanted LEFT JOIN {balances} balance "
        f"ON balance.sku_id = wanted.sku_id AND balance.location_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(sku_id): int(on_hand) for sku_id, on_hand in cursor.fetchall()}
