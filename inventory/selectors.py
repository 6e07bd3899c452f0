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
from django.db import connection, models
from django.db.models import QuerySet, Sum
from django.utils import timezone

from catalog.models import Channel, Sku
from catalog.selectors import records_by_code

# A SKU's own buffer, else the channel's: defined with the rest of availability.
from .availability import safety_buffer_for
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


@dataclass(frozen=True)
class AvailabilityRow:
    """Every quantity of one SKU at one location, and what a channel may promise."""

    sku: Sku
    location: Location
    balance: StockBalance
    channel: Channel | None
    safety_buffer: int
    available_to_promise: int
    status: str
    as_of: datetime | None

    @property
    def available(self) -> int:
        return self.balance.available


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
    balance yet reads all zeros. Three queries whatever the number of pairs."""
    if not pairs:
        return []
    skus = {sku.pk for sku, _ in pairs}
    locations = {location.pk for _, location in pairs}
    balances = {
        (row.sku_id, row.location_id): row
        for row in StockBalance.objects.filter(
            sku_id__in=skus, location_id__in=locations
        )
    }
    return _rows(pairs, balances, channel)


def availability_rows_for_balances(
    *, balances: Sequence[StockBalance], channel: Channel | None
) -> list[AvailabilityRow]:
    pairs = [(row.sku, row.location) for row in balances]
    return _rows(pairs, {(b.sku_id, b.location_id): b for b in balances}, channel)


def _rows(
    pairs: Sequence[tuple[Sku, Location]],
    balances: dict[BalanceKey, StockBalance],
    channel: Channel | None,
) -> list[AvailabilityRow]:
    under_review = set(
        open_conflict_queryset()
        .filter(
            sku_id__in={sku.pk for sku, _ in pairs},
            location_id__in={location.pk for _, location in pairs},
        )
        .values_list("sku_id", "location_id")
    )
    now = timezone.now()
    sources = source_states()
    holding = [key for key, balance in balances.items() if balance.reserved > 0]
    lapsed = lapsed_holds(keys=holding, now=now)
    rows = []
    for sku, location in pairs:
        key = (sku.pk, location.pk)
        balance = balances.get(key) or StockBalance(sku=sku, location=location)
        if key in lapsed:
            # Read as of now: a lapsed hold holds nothing, swept or not. The balance
            # is a read copy; only the ledger writes balances.
            balance.reserved -= lapsed.pop(key)
        buffer = safety_buffer_for(sku=sku, channel=channel)
        if key in under_review:
            status = AvailabilityStatus.UNDER_REVIEW
        else:
            status = _sync_status(location, now, sources)
        rows.append(
            AvailabilityRow(
                sku=sku,
                location=location,
                balance=balance,
                channel=channel,
                safety_buffer=buffer,
                available_to_promise=max(0, balance.available - buffer),
                status=status,
                as_of=balance.last_event_at,
            )
        )
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


def source_states() -> SourceStates:
    """The kinds of location whose sources are delayed or late, from the minute's
    health check: one query of a row per source."""
    delayed: set[str] = set()
    late: set[str] = set()
    threshold = settings.SYNC_ESTIMATED_LAG_SECONDS
    # A source switched off is no longer measured: its last state says nothing.
    watched = SourceHealth.objects.filter(channel__is_active=True)
    for health in watched.select_related("channel"):
        kinds = {
            location_kind
            for location_kind, source_kinds in SOURCE_KINDS.items()
            if health.channel.kind in source_kinds
        }
        if health.delayed:
            delayed |= kinds
        elif health.lag_p95_seconds is not None and health.lag_p95_seconds > threshold:
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
    it, without reading the balances (the webhooks and the feed carry their own)."""
    pairs = list(pairs)
    if not pairs:
        return {}
    under_review = set(
        open_conflict_queryset()
        .filter(
            sku_id__in={sku for sku, _ in pairs},
            location_id__in={location for _, location in pairs},
        )
        .values_list("sku_id", "location_id")
    )
    now = timezone.now()
    sources = source_states()
    return {
        key: AvailabilityStatus.UNDER_REVIEW
        if key in under_review
        else _sync_status(locations[key[1]], now, sources)
        for key in pairs
    }


def _tills_are_late(location: Location, now: datetime) -> bool:
    if location.kind != Location.Kind.STORE:
        return False
    last = location.pos_last_event_at
    threshold = timedelta(seconds=settings.ONESTOCK_POS_DELAY_SECONDS)
    return last is None or now - last > threshold


def lapsed_holds(*, keys: Iterable[BalanceKey], now: datetime) -> dict[BalanceKey, int]:
    """Units of active reservations past their expiry, per (SKU, location): still in
    the ``reserved`` bucket until the sweep writes their release, but holding nothing.
    Availability and new promises add them back."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = (
        ReservationLine.objects.filter(
            reservation__status=Reservation.Status.ACTIVE,
            reservation__expires_at__lte=now,
            sku_id__in={sku for sku, _ in wanted},
            location_id__in={location for _, location in wanted},
        )
        .values_list("sku_id", "location_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    return {
        (sku, location): units
        for sku, location, units in rows
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
