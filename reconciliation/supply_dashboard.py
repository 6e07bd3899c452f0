"""The managers' dashboard's future supply (reads only): what is on its way, what is
late, and what customers have already bought from it.

- Incoming by expected date: the open supply (``inventory.models.Supply``: purchase
  orders due, transfers on the road) due today or later, per location and expected
  day, soonest first: units still to come, how many SKUs, and which purchase orders
  and transfers bring them. Supply announced without a date is listed last, as
  "undated" (it is counted as incoming, never promised). The seed's fourth metric: a
  manager who sees the units already coming does not reorder in a panic.
- Late supply: open supply whose expected date is before today, most late first, with
  the units pre-ordered against it (customers waiting on a date already missed).
- Pre-orders per supply: each open supply with open promises (``SupplyPromise``):
  units promised, the order lines and checkout holds waiting on it, the first
  promise; and apart, the pre-ordered units no supply covers any more (``unsupplied``,
  each a ``supply_delayed`` case in the queue).

None of them is filtered by the period: they are about now and what comes next. Each
table is one grouped query (plus its count when the screen shows the first rows
only, and the references of the rows shown), whatever the number of supplies.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import (
    Count,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone

from inventory.models import Location, Supply, SupplyPromise, promised_units

from .dashboard import LOCATION_COLUMNS, Table, location_cells

UNDATED = "undated"
# The references a row of incoming lists on the screen; the CSV lists them all.
REFERENCES_SHOWN = 4
OPEN = Supply.Status.OPEN
PROMISED = Q(promises__status=SupplyPromise.Status.OPEN)
# Units still to come of a supply (``Supply.outstanding``), in the database.
OUTSTANDING = Greatest(F("quantity") - F("received"), Value(0))


@dataclass
class SupplyTable(Table):
    """A dashboard table that says what it lists in its caption, and names the
    headings whose cells are words (references) that take a whole line on a phone."""

    caption: str = ""
    wide: tuple[str, ...] = ()


def supply_words(kind: str, reference: str, sender: str | None) -> str:
    """A supply as people name it: the purchase order's number, or the transfer."""
    if kind == Supply.Kind.TRANSFER:
        named = f"Transfer {reference}" if reference else "Transfer"
        return f"{named} from {sender}" if sender else named
    return reference or "Purchase order without a number"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _open_at(locations: list[Location]) -> QuerySet[Supply]:
    return Supply.objects.filter(status=OPEN, location__in=locations)


def _limited(rows: QuerySet, limit: int | None) -> tuple[QuerySet, int | None]:
    """The rows the screen shows and how many there are in all (None: all shown)."""
    if limit is None:
        return rows, None
    return rows[:limit], rows.count()


# ------------------------------------------------------------------- incoming


def incoming_by_date(*, locations: list[Location], limit: int | None) -> SupplyTable:
    """Open supply due today or later (or undated), per location and expected day:
    ``limit`` rows, soonest first, undated last (the screen), or all (the CSV)."""
    today = timezone.localdate()
    table = SupplyTable(
        "incoming",
        "Incoming by expected date",
        [
            ("expected", "Expected"),
            *LOCATION_COLUMNS,
            ("units", "Units due"),
            ("skus", "SKUs"),
            ("coming", "Purchase orders and transfers"),
        ],
        caption=(
            "Units still to come from open purchase orders and transfers, by the day "
            "they are expected at each location, soonest first. Undated supply (sent "
            "without a date) comes last: counted as incoming, never promised."
        ),
        wide=("Purchase orders and transfers",),
    )
    supply = (
        _open_at(locations)
        .filter(Q(expected_at__gte=_start_of(today)) | Q(expected_at__isnull=True))
        .annotate(day=TruncDate("expected_at"))
    )
    grouped = (
        supply.values("day", "location")
        .annotate(units=Sum(OUTSTANDING), skus=Count("sku", distinct=True))
        .order_by(F("day").asc(nulls_last=True), "location__name", "location")
    )
    shown, table.total = _limited(grouped, limit)
    shown = list(shown)
    if not shown:
        return table
    coming = _references(supply, shown if limit is not None else None)
    places = {location.pk: location for location in locations}
    for row in shown:
        key = (row["day"], row["location"])
        named = coming.get(key, [])
        if limit is not None and len(named) > REFERENCES_SHOWN:
            more = len(named) - REFERENCES_SHOWN
            named = [*named[:REFERENCES_SHOWN], f"and {more} more"]
        table.rows.append(
            {
                "expected": row["day"] or UNDATED,
                **location_cells(places[row["location"]]),
                "units": row["units"] or 0,
                "skus": row["skus"],
                "coming": ", ".join(named),
            }
        )
    return table


def _references(supply: QuerySet[Supply], shown: list[dict] | None) -> dict:
    """The purchase orders and transfers of each (day, location) row, in words:
    of the rows ``shown`` only, or of every row (None)."""
    if shown is not None:
        asked = Q(pk__in=[])
        for row in shown:
            day = Q(day=row["day"]) if row["day"] else Q(day__isnull=True)
            asked |= day & Q(location=row["location"])
        supply = supply.filter(asked)
    named: dict[tuple, list[str]] = {}
    for row in (
        supply.values("day", "location", "kind", "reference", "from_location__name")
        .distinct()
        .order_by("day", "location", "kind", "reference", "from_location__name")
    ):
        words = supply_words(row["kind"], row["reference"], row["from_location__name"])
        named.setdefault((row["day"], row["location"]), []).append(words)
    return named


# ----------------------------------------------------------------------- late


def late_supply(*, locations: list[Location], limit: int | None) -> SupplyTable:
    """Open supply expected before today, most late first: ``limit`` rows (the
    screen) or all (the CSV)."""
    today = timezone.localdate()
    table = SupplyTable(
        "late_supply",
        "Late supply",
        [
            ("supply", "Supply"),
            ("sku", "SKU"),
            *LOCATION_COLUMNS,
            ("expected", "Expected"),
            ("days_late", "Days late"),
            ("units", "Units due"),
            ("preordered", "Pre-ordered"),
        ],
        caption=(
            "Open purchase orders and transfers whose expected date has passed and "
            "whose units have not all arrived, the most late first. Pre-ordered: "
            "units customers are waiting for from it."
        ),
    )
    late = (
        _open_at(locations)
        .filter(expected_at__lt=_start_of(today))
        .annotate(
            due=OUTSTANDING,
            preordered=promised_units(),
        )
        .select_related("sku", "location", "from_location")
        .order_by("expected_at", "id")
    )
    shown, table.total = _limited(late, limit)
    for supply in shown:
        expected = timezone.localdate(supply.expected_at)
        table.rows.append(
            {
                "supply": _named(supply),
                "sku": supply.sku.code,
                **location_cells(supply.location),
                "expected": expected,
                "days_late": (today - expected).days,
                "units": supply.due,
                "preordered": supply.preordered,
            }
        )
    return table


def _named(supply: Supply) -> str:
    sender = supply.from_location.name if supply.from_location else None
    return supply_words(supply.kind, supply.reference, sender)


# ------------------------------------------------------------------ pre-orders


def preorders(
    *, locations: list[Location], limit: int | None
) -> tuple[SupplyTable, dict]:
    """Each open supply with open promises, soonest due first: ``limit`` rows (the
    screen) or all (the CSV); and, apart, the pre-ordered units no supply covers
    (``unsupplied``: order lines and units)."""
    table = SupplyTable(
        "preorders",
        "Pre-orders waiting for supply",
        [
            ("supply", "Supply"),
            ("sku", "SKU"),
            *LOCATION_COLUMNS,
            ("expected", "Expected"),
            ("units", "Units due"),
            ("promised", "Pre-ordered"),
            ("order_lines", "Order lines"),
            ("holds", "Checkout holds"),
            ("first", "First pre-ordered"),
        ],
        caption=(
            "Units promised to customers from each open purchase order or transfer "
            "before it arrives, soonest due first: they become the customers' when it "
            "is received, the first pre-ordered first."
        ),
    )
    waited = (
        _open_at(locations)
        .annotate(
            due=OUTSTANDING,
            promised=promised_units(),
            order_lines=Count(
                "promises__owner_id",
                distinct=True,
                filter=PROMISED
                & Q(promises__owner_kind=SupplyPromise.Owner.ORDER_LINE),
            ),
            holds=Count(
                "promises__owner_id",
                distinct=True,
                filter=PROMISED
                & Q(promises__owner_kind=SupplyPromise.Owner.RESERVATION_LINE),
            ),
            first=Min("promises__promised_at", filter=PROMISED),
        )
        .filter(promised__gt=0)
        .select_related("sku", "location", "from_location")
        .order_by(F("expected_at").asc(nulls_last=True), "id")
    )
    shown, table.total = _limited(waited, limit)
    for supply in shown:
        table.rows.append(
            {
                "supply": _named(supply),
                "sku": supply.sku.code,
                **location_cells(supply.location),
                "expected": (
                    timezone.localdate(supply.expected_at)
                    if supply.expected_at
                    else UNDATED
                ),
                "units": supply.due,
                "promised": supply.promised,
                "order_lines": supply.order_lines,
                "holds": supply.holds,
                "first": timezone.localdate(supply.first),
            }
        )
    unsupplied = SupplyPromise.objects.filter(
        status=SupplyPromise.Status.UNSUPPLIED, location__in=locations
    ).aggregate(lines=Count("id"), units=Coalesce(Sum("units"), 0))
    return table, unsupplied
