"""Availability by date: what one channel may promise of one SKU now, at one location
or across the channel's network, and how that grows as dated supply lands (purchase
orders due, transfers on the road), up to a horizon (``GET /api/v1/availability/
timeline/``, docs/supply.md).

- **Now**: ``available`` and the channel's ``available_to_promise``, by the one rule
  (``inventory.selectors.availability_rows`` at one location; summed over the network
  as ``inventory.network_selectors.network_availability`` sums it).
- **Dated supply**: each open ``Supply`` with an ``expected_at`` at the location(s),
  due on or before the horizon, lands on its location's local date; supply already
  late (expected before now, still open) lands today, flagged ``late``. Its free
  units are its ``outstanding`` less the units of its open ``SupplyPromise`` rows (a
  pre-order waiting for it). One entry per date: the units landing that day and the
  cumulative available-to-promise then (now + every free unit landed so far).
- **Undated incoming**: information only, never promisable: the ``incoming`` and
  ``in_transit`` buckets not covered by open dated supply (an advance notice without
  a date, an announced return), with the open supply that has no date.
- **Pre-orderable**: what a pre-order could take now: the free dated units up to
  the horizon, within the SKU's ``future_promise_limit`` less the units of every
  open promise of that SKU (any location, any channel).

Read-only; on the database the request reads from (config.replicas)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from catalog.models import Channel, Sku

from .models import Location, StockBalance, Supply, SupplyPromise, promised_units
from .network_selectors import network_availability
from .networks import network_locations
from .selectors import availability_rows

# How far ahead a timeline looks when not told, and at most.
DEFAULT_HORIZON_DAYS = 90
MAX_HORIZON_DAYS = 366


@dataclass(frozen=True)
class SupplyLine:
    """One supply as the timeline shows it."""

    kind: str
    reference: str
    location: str  # its code
    expected_at: datetime | None
    outstanding: int
    promised: int
    free: int
    late: bool


@dataclass
class TimelineEntry:
    """What lands on one date, and what the channel may promise from then on."""

    date: date
    free: int = 0  # free units landing that day
    available_to_promise: int = 0
    supply: list[SupplyLine] = field(default_factory=list)


@dataclass
class Timeline:
    sku: str
    channel: str
    location: str | None  # None: the channel's network
    until: date
    as_of: datetime
    available: int
    available_to_promise: int
    status: str
    entries: list[TimelineEntry]
    undated_units: int
    undated_supply: list[SupplyLine]
    preorderable: int


def today_at(*, location: Location | None, now: datetime | None = None) -> date:
    """Today's date where the timeline is read: the location's local date, or UTC's
    for a network (its locations may keep several)."""
    now = now or timezone.now()
    zone = ZoneInfo(location.time_zone or "UTC") if location else ZoneInfo("UTC")
    return now.astimezone(zone).date()


def availability_timeline(
    *,
    sku: Sku,
    channel: Channel,
    location: Location | None,
    until: date,
    now: datetime | None = None,
) -> Timeline:
    """The timeline of ``sku`` for ``channel`` at ``location`` (None: across the
    channel's network), with dated supply up to ``until`` (inclusive, in each
    supply's location's local calendar). The caller has checked that ``location``
    is in the channel's network. About six short queries, whatever the network."""
    now = now or timezone.now()
    if location is not None:
        (row,) = availability_rows(pairs=[(sku, location)], channel=channel)
        places = {location.pk: location}
    else:
        (row,) = network_availability(channel=channel, skus=[sku])
        places = {place.pk: place for place in network_locations(channel=channel)}
    supplies = _open_supply(sku=sku, location_ids=places.keys())
    entries: dict[date, TimelineEntry] = {}
    undated: list[SupplyLine] = []
    dated_outstanding: dict[int, int] = {}  # by location id, whatever the date
    undated_outstanding: dict[int, int] = {}
    for supply in supplies:
        place = places[supply.location_id]
        line = _line(supply, place, now)
        if supply.expected_at is None:
            undated.append(line)
            _add(undated_outstanding, supply.location_id, line.outstanding)
            continue
        _add(dated_outstanding, supply.location_id, line.outstanding)
        zone = ZoneInfo(place.time_zone or "UTC")
        # Late supply may still come: it lands today, not on a day gone by.
        landing = max(supply.expected_at, now).astimezone(zone).date()
        if landing > until:
            continue
        entry = entries.setdefault(landing, TimelineEntry(date=landing))
        entry.free += line.free
        entry.supply.append(line)
    timeline = sorted(entries.values(), key=lambda entry: entry.date)
    promisable = row.available_to_promise
    for entry in timeline:
        promisable += entry.free
        entry.available_to_promise = promisable
    free = promisable - row.available_to_promise
    return Timeline(
        sku=sku.code,
        channel=channel.code,
        location=None if location is None else location.code,
        until=until,
        as_of=now,
        available=row.available,
        available_to_promise=row.available_to_promise,
        status=row.status,
        entries=timeline,
        undated_units=_undated_units(
            sku=sku,
            location_ids=places.keys(),
            dated=dated_outstanding,
            undated=undated_outstanding,
        ),
        undated_supply=undated,
        preorderable=max(
            0, min(free, sku.future_promise_limit - promised_ahead(sku=sku))
        ),
    )


def _open_supply(*, sku: Sku, location_ids) -> list[Supply]:
    """The SKU's open supply due at these locations, earliest first (undated last),
    each with ``promised``: the units of its open promises."""
    return list(
        Supply.objects.filter(
            sku=sku, location_id__in=list(location_ids), status=Supply.Status.OPEN
        )
        .annotate(promised=promised_units())
        .order_by("expected_at", "id")
    )


def _line(supply: Supply, place: Location, now: datetime) -> SupplyLine:
    outstanding = supply.outstanding
    return SupplyLine(
        kind=supply.kind,
        reference=supply.reference,
        location=place.code,
        expected_at=supply.expected_at,
        outstanding=outstanding,
        promised=supply.promised,
        free=max(0, outstanding - supply.promised),
        late=supply.expected_at is not None and supply.expected_at < now,
    )


def _add(totals: dict[int, int], key: int, units: int) -> None:
    totals[key] = totals.get(key, 0) + units


def _undated_units(
    *, sku: Sku, location_ids, dated: dict[int, int], undated: dict[int, int]
) -> int:
    """Units on their way with no date: at each location, the ``incoming`` and
    ``in_transit`` buckets beyond what open dated supply accounts for (an announced
    return, a notice sent without a date), and never less than its undated supply."""
    buckets = dict.fromkeys(location_ids, 0)
    for location_id, incoming, in_transit in StockBalance.objects.filter(
        sku=sku, location_id__in=list(location_ids)
    ).values_list("location_id", "incoming", "in_transit"):
        buckets[location_id] = incoming + in_transit
    return sum(
        max(0, units - dated.get(location_id, 0), undated.get(location_id, 0))
        for location_id, units in buckets.items()
    )


def promised_ahead(*, sku: Sku) -> int:
    """Units of the SKU promised against supply and still waiting, everywhere: what
    its ``future_promise_limit`` caps (those without supply left count too)."""
    total = SupplyPromise.objects.filter(
        sku=sku,
        status__in=(SupplyPromise.Status.OPEN, SupplyPromise.Status.UNSUPPLIED),
    ).aggregate(units=Sum("units"))["units"]
    return total or 0


def horizon(*, today: date, until: date | None) -> date:
    """``until``, or the default horizon from ``today``."""
    return until or today + timedelta(days=DEFAULT_HORIZON_DAYS)
