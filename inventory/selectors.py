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
  figure trails the shelf by about that long; or the figures were read from a read
  replica that may trail the primary by more than ``READ_REPLICA_MAX_LAG_SECONDS``
  (config.replicas);
- ``confirmed`` otherwise.

The reads run on the database ``config.replicas.reading_alias`` names: a read
replica for the read views that opt in, else the primary.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import Channel, Sku
from catalog.selectors import records_by_code
from config.database import among, can_prepare, moment_from_row, read_rows
from config.replicas import reading_alias, replica_staleness

# Availability, the buffer and what a channel may promise: defined in one place.
from .availability import available_from
from .locking import BalanceKey
from .models import (
    Location,
    Reservation,
    ReservationKit,
    ReservationLine,
    SourceHealth,
    StockBalance,
    StockConflict,
    StockMovement,
)
from .movements import BUCKETS
from .terms import NO_TERMS, Terms, channel_terms, promise_under


class AvailabilityStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    ESTIMATED = "estimated", "Estimated: its source reports late"
    DELAYED = "delayed", "Delayed: its source has not synced recently"
    UNDER_REVIEW = "under_review", "Under review: an open stock conflict"


# The least certain status wins: the higher the rank (the order declared above),
# the less certain.
STATUS_RANK = {status: rank for rank, status in enumerate(AvailabilityStatus.values)}


def least_certain(statuses: Iterable[str]) -> str:
    """The least certain of ``statuses`` (a network's locations, a kit's
    components); ``confirmed`` when there are none."""
    return max(
        statuses,
        key=STATUS_RANK.__getitem__,
        default=AvailabilityStatus.CONFIRMED.value,
    )


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
            models.Prefetch(
                "kits", ReservationKit.objects.select_related("sku", "location")
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


class SkuRef(NamedTuple):
    """What availability reads of a SKU: its code, its own buffer and whether it is
    a kit. A read of a hundred SKUs builds these, not models (a model costs about
    10 µs)."""

    pk: int
    code: str
    safety_buffer: int | None
    is_kit: bool = False


class LocationRef(NamedTuple):
    """What availability reads of a location: its code, and for its status its kind
    and when its tills last reported."""

    pk: int
    code: str
    kind: str
    pos_last_event_at: datetime | None


class ChannelRef(NamedTuple):
    pk: int
    code: str
    safety_buffer: int


class AvailabilityRow:
    """Every quantity of one SKU at one location, and what a channel may promise.

    Plain values read in one statement, beside the SKU and location the caller
    named (records, or ``SkuRef`` and ``LocationRef``): a read of a hundred SKUs
    builds no model per row (a model costs several times what the database spends
    on its row). ``available`` is worked out once, by the one rule."""

    __slots__ = (
        "sku",
        "location",
        "channel",
        *BUCKETS,
        "available",
        "sequence",
        "as_of",
        "safety_buffer",
        "available_to_promise",
        "status",
    )

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
    *,
    pairs: Sequence[tuple[Sku, Location]],
    channel: Channel | None,
    sources: SourceStates | None = None,
) -> list[AvailabilityRow]:
    """Availability of each (SKU, location) pair, in that order; a pair with no
    balance yet reads all zeros. The SKUs need their ``safety_buffer`` and
    ``is_kit``, the locations their ``kind`` and ``pos_last_event_at`` (records, or
    ``SkuRef`` and ``LocationRef``). One statement whatever the number of pairs (the
    balances with their open conflicts and lapsed holds), and one for the sources'
    health unless given (``availability_records`` reads it with the codes), on the
    database this request reads from (config.replicas). A kit's row is made from its
    components' (``inventory.kit_availability``, which calls back here)."""
    if not pairs:
        return []
    if any(sku.is_kit for sku, _ in pairs):
        from .kit_availability import availability_rows_with_kits

        return availability_rows_with_kits(
            pairs=pairs, channel=channel, sources=sources
        )
    using = reading_alias()
    now = timezone.now()
    params: list = [connections[using].ops.adapt_datetimefield_value(now)]
    statement = (
        f"SELECT balance.sku_id, balance.location_id, "
        f"{', '.join(f'balance.{bucket}' for bucket in BUCKETS)}, balance.sequence, "
        # As text: psycopg reads text in C, Django's timestamp loader is Python.
        f"CAST(balance.last_event_at AS TEXT), {_OPEN_CONFLICT.format(at='balance')}, "
        f"CASE WHEN balance.reserved > 0 THEN {_LAPSED_UNITS.format(at='balance')} "
        f"ELSE 0 END FROM "
        f"{_balances_of({(sku.pk, loc.pk) for sku, loc in pairs}, params, using)}"
    )
    found = {
        (sku_id, location_id): values
        for sku_id, location_id, *values in read_rows(statement, params, using=using)
    }
    if sources is None:
        sources = source_states(using=using)
    terms = channel_terms(
        channel_id=None if channel is None else channel.pk,
        keys=found.keys(),
        now=now,
        using=using,
    )
    return _rows(pairs, found, channel, sources, now, terms)


def availability_rows_for_balances(
    *,
    balances: Sequence[StockBalance],
    channel: Channel | None,
    sources: SourceStates | None = None,
) -> list[AvailabilityRow]:
    """The same rows for balances already listed (with their SKU and location)."""
    return availability_rows(
        pairs=[(row.sku, row.location) for row in balances],
        channel=channel,
        sources=sources,
    )


def _balances_of(keys: set[BalanceKey], params: list, using: str) -> str:
    """``FROM`` the balances of exactly these (SKU, location) pairs, as ``balance``.

    On PostgreSQL one probe of the unique (sku, location) index per pair, the pairs
    passed as two arrays (the text is the same for any number, so it stays
    prepared): asked as ``sku_id = ANY(..) AND location_id = ANY(..)``, the generic
    plan reads every balance at the location and compares each with every SKU asked
    for, which at a store of 20,000 SKUs is two million comparisons for a product
    list. Elsewhere (SQLite) the two lists, every pair of them: callers keep the
    pairs they asked for."""
    table = StockBalance._meta.db_table
    if can_prepare(using):
        params += [[sku for sku, _ in keys], [loc for _, loc in keys]]
        return (
            "unnest(%s::bigint[], %s::bigint[]) AS wanted(sku_id, location_id) "
            f"CROSS JOIN LATERAL (SELECT * FROM {table} one "
            "WHERE one.sku_id = wanted.sku_id "
            "AND one.location_id = wanted.location_id) balance"
        )
    skus = among("balance.sku_id", {sku for sku, _ in keys}, params, using=using)
    locations = among(
        "balance.location_id", {loc for _, loc in keys}, params, using=using
    )
    return f"{table} balance WHERE {skus} AND {locations}"


# Whether an open stock conflict exists at the balance ``at``: it is under review.
_OPEN_CONFLICT = (
    f"EXISTS (SELECT 1 FROM {StockConflict._meta.db_table} conflict "
    f"WHERE conflict.status = '{StockConflict.Status.OPEN.value}' "
    "AND conflict.sku_id = {at}.sku_id AND conflict.location_id = {at}.location_id)"
)
# Units of active holds past their expiry (parameter: now) at the balance ``at``:
# reserved until the sweep writes their release, but holding nothing. Availability and
# new promises add them back (a pre-order's units still to come were never reserved).
_LAPSED_UNITS = (
    f"(SELECT CAST(COALESCE(SUM(line.quantity - line.future_quantity), 0) AS BIGINT) "
    f"FROM {ReservationLine._meta.db_table} line "
    f"JOIN {Reservation._meta.db_table} hold ON hold.id = line.reservation_id "
    f"WHERE hold.status = '{Reservation.Status.ACTIVE.value}' "
    "AND hold.expires_at <= %s "
    "AND line.sku_id = {at}.sku_id AND line.location_id = {at}.location_id)"
)
# What the statement gives for each balance, and a pair with none.
_ZEROS = [0] * len(BUCKETS) + [0, None, False, 0]


def _rows(
    pairs: Sequence[tuple[Sku, Location]],
    found: dict[BalanceKey, list],
    channel: Channel | None,
    sources: SourceStates,
    now: datetime,
    terms: dict[BalanceKey, Terms],
) -> list[AvailabilityRow]:
    channel_buffer = None if channel is None else channel.safety_buffer
    # A location's sync status is the same for every SKU there.
    sync_status: dict[int, str] = {}
    rows = []
    for sku, location in pairs:
        key = (sku.pk, location.pk)
        row = AvailabilityRow()
        row.sku, row.location, row.channel = sku, location, channel
        *quantities, row.sequence, as_of, under_review, lapsed = found.get(key, _ZEROS)
        for bucket, quantity in zip(BUCKETS, quantities, strict=True):
            setattr(row, bucket, quantity)
        row.as_of = moment_from_row(as_of)
        # Read as of now: a lapsed hold holds nothing, swept or not.
        row.reserved -= lapsed
        row.available = available = available_from(row)
        row.safety_buffer, row.available_to_promise = promise_under(
            terms.get(key, NO_TERMS) if terms else NO_TERMS,
            available=available,
            sku_buffer=sku.safety_buffer,
            channel_buffer=channel_buffer,
        )
        if under_review:
            row.status = AvailabilityStatus.UNDER_REVIEW.value
        else:
            status = sync_status.get(location.pk)
            if status is None:
                status = sync_status[location.pk] = _sync_status(location, now, sources)
            row.status = status
        rows.append(row)
    return rows


# Each active source's kind, whether it is delayed and its lag's 95th percentile,
# from the minute's health check. A source switched off is no longer measured: its
# last state says nothing.
SOURCES_FROM = (
    f"FROM {SourceHealth._meta.db_table} health "
    f"JOIN {Channel._meta.db_table} channel ON channel.id = health.channel_id "
    f"WHERE channel.is_active"
)


def source_states(*, using: str = DEFAULT_DB_ALIAS) -> SourceStates:
    """The kinds of location whose sources are delayed or late: one short statement
    of a row per source."""
    statement = (
        f"SELECT channel.kind, health.delayed, health.lag_p95_seconds {SOURCES_FROM}"
    )
    return source_states_of(read_rows(statement, [], using=using), using)


def source_states_of(sources: Iterable[tuple], using: str) -> SourceStates:
    """From each source's (kind, delayed, lag p95). Read on a replica that may trail
    by more than ``READ_REPLICA_MAX_LAG_SECONDS``, every kind is late."""
    delayed: set[str] = set()
    late: set[str] = set()
    threshold = settings.SYNC_ESTIMATED_LAG_SECONDS
    for source_kind, is_delayed, lag_p95 in sources:
        kinds = {
            location_kind
            for location_kind, source_kinds in SOURCE_KINDS.items()
            if source_kind in source_kinds
        }
        if is_delayed:
            delayed |= kinds
        elif lag_p95 is not None and lag_p95 > threshold:
            late |= kinds
    if replica_staleness(using) > settings.READ_REPLICA_MAX_LAG_SECONDS:
        # Read from a replica that may be further behind than the bound: its figures
        # trail the primary's, so none of them is confirmed (config.replicas).
        late |= set(Location.Kind.values)
    return SourceStates(frozenset(delayed), frozenset(late))


def _sync_status(location: Location, now: datetime, sources: SourceStates) -> str:
    # The plain values: written into every row of a read, as they are.
    if location.kind in sources.delayed or _tills_are_late(location, now):
        return AvailabilityStatus.DELAYED.value
    if location.kind in sources.late:
        return AvailabilityStatus.ESTIMATED.value
    return AvailabilityStatus.CONFIRMED.value


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
    # A location's sync status is the same for every SKU there.
    by_location = {
        location_id: _sync_status(locations[location_id], now, sources)
        for location_id in {location_id for _, location_id in pairs}
    }
    return {
        key: AvailabilityStatus.UNDER_REVIEW.value
        if key in under_review
        else by_location[key[1]]
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
    """Units of active reservations past their expiry, per (SKU, location)
    (``_LAPSED_UNITS``): a promise adds them back, as availability does."""
    wanted = set(keys)
    if not wanted:
        return {}
    params: list = [connections[using].ops.adapt_datetimefield_value(now)]
    statement = (
        f"SELECT balance.sku_id, balance.location_id, "
        f"{_LAPSED_UNITS.format(at='balance')} "
        f"FROM {_balances_of(wanted, params, using)}"
    )
    return {
        (sku, location): int(units)
        for sku, location, units in read_rows(statement, params, using=using)
        if units and (sku, location) in wanted
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
                    "allow_future_by_default",
                ),
                {channel_code},
            ),
            Sku: (
                (
                    "id",
                    "code",
                    "is_active",
                    "is_kit",
                    "safety_buffer",
                    "future_promise_limit",
                ),
                sku_codes,
            ),
            Location: (("id", "code", "kind", "is_active"), location_codes),
        }  # fmt: skip
    )
    return CheckoutRecords(
        channel=found[Channel].get(channel_code),
        skus=found[Sku],
        locations=found[Location],
    )


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
