"""Where stock and sales are lost (reads only): the figures the managers' dashboard
leads with, each a ``dashboard.Table`` for the screen and its CSV.

- Shrink: units that stopped being sellable in the period, by location and reason,
  read from the ledger's deltas (``SHRINK_REASONS``), valued at the SKU's cost. A
  write-off is not counted again: it draws from the damaged bucket, whose units were
  counted when they were found damaged (or failed a return's inspection). Count gains
  are not netted against losses: a count that finds units is no loss, and a store
  that loses ten and finds ten elsewhere still lost ten.
- Lost sales: order units cancelled because the stock was not there (short at
  picking, then cancelled: ``order_cancel_short``) and demand refused online (a
  checkout hold or an order refused for lack of stock: ``RefusedDemand``, the units
  asked for beyond what could be promised), valued at the SKU's price.
- At risk: only the SKU-locations that need someone now (``AT_RISK_RULE``).

A SKU without a cost (or price) is counted in units and said to be missing its
value: never silently zero.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    Sum,
    When,
)

from catalog.models import Channel, Sku
from inventory.availability import available_sql
from inventory.models import Location, MovementType, RefusedDemand, StockMovement
from orders.models import OrderEvent

from .dashboard import (
    AT_RISK_DAYS,
    LOCATION_COLUMNS,
    LOCATION_NAME,
    Period,
    Table,
    location_cells,
    stores_first,
)
from .models import ExceptionCase, SalesRate

# The ledger entries that are lost stock, with the words the page uses, and how the
# units lost are read from the entry's deltas.
SHRINK_REASONS = {
    MovementType.DAMAGE: "Damaged",
    MovementType.INSPECTION_FAIL: "Returned unsellable",
    MovementType.ADJUSTMENT: "Adjusted down (not found, lost)",
    MovementType.COUNT: "Count short",
}
MOVED_TO_DAMAGED = (MovementType.DAMAGE, MovementType.INSPECTION_FAIL)
STOCK_CANCELLATION = "order_cancel_short"
AT_RISK_RULE = (
    "A SKU-location is at risk when it is oversold (available below zero), has an "
    "open exception, or sold in the last {rate_days} days and is sold out, is held "
    "back from every channel that sells there (at or below the safety buffer of each: "
    "no channel can sell it any more), or runs out within "
    f"{AT_RISK_DAYS} days even counting what is incoming and in transit. A few units "
    "left that sell slowly are not at risk."
)
MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0.00")


def _kind(location: Location) -> str:
    return location.get_kind_display()


@dataclass
class Money:
    """Units lost and what those with a known cost (or price) were worth."""

    units: int = 0
    value: Decimal = ZERO
    unvalued: int = 0  # units of SKUs with no cost (or price)

    def add(self, units: int, value: Decimal | None, unvalued: int) -> None:
        self.units += units or 0
        self.value += value or ZERO
        self.unvalued += unvalued or 0


# -------------------------------------------------------------------- shrink


def _lost_units():
    return Case(
        When(type__in=MOVED_TO_DAMAGED, then=F("damaged_delta")),
        default=-F("on_hand_delta"),
    )


def shrink_entries(*, period: Period, locations: list[Location]):
    """The ledger entries that lost stock in the period, grouped by location and
    reason (the entry's type): units, value at cost, units without a cost."""
    start, end = period.bounds()
    lost = _lost_units()
    return (
        StockMovement.objects.filter(
            location__in=locations, occurred_at__gte=start, occurred_at__lt=end
        )
        .exclude(status=StockMovement.Status.REJECTED)
        .filter(
            Q(type__in=MOVED_TO_DAMAGED, damaged_delta__gt=0)
            | Q(
                type__in=[MovementType.ADJUSTMENT, MovementType.COUNT],
                on_hand_delta__lt=0,
            )
        )
        .values("location", "type")
        .annotate(
            units=Sum(lost),
            value=Sum(
                ExpressionWrapper(lost * F("sku__cost"), output_field=MONEY),
                filter=Q(sku__cost__isnull=False),
            ),
            unvalued=Sum(lost, filter=Q(sku__cost__isnull=True)),
        )
    )


def shrink(*, period: Period, locations: list[Location]) -> tuple[Table, dict]:
    """Shrink by location and reason (the CSV's rows), and the totals the page leads
    with: by location, by reason and overall."""
    cells: dict[tuple[int, str], Money] = defaultdict(Money)
    for row in shrink_entries(period=period, locations=locations):
        cells[(row["location"], row["type"])].add(
            row["units"], row["value"], row["unvalued"]
        )
    table = Table(
        "shrink",
        "Shrink by location and reason",
        [
            *LOCATION_COLUMNS,
            ("kind", "Kind"),
            ("reason", "Reason"),
            ("units", "Units lost"),
            ("value", "Value at cost"),
            ("unvalued", "Units without a cost"),
        ],
        money=("value",),
    )
    by_location: dict[int, Money] = defaultdict(Money)
    by_reason: dict[str, Money] = defaultdict(Money)
    overall = Money()
    for location in stores_first(locations):
        for reason, words in SHRINK_REASONS.items():
            cell = cells.get((location.pk, reason))
            if cell is None:
                continue
            table.rows.append(
                {
                    **location_cells(location),
                    "kind": _kind(location),
                    "reason": words,
                    "units": cell.units,
                    "value": cell.value,
                    "unvalued": cell.unvalued,
                }
            )
            for total in (by_location[location.pk], by_reason[words], overall):
                total.add(cell.units, cell.value, cell.unvalued)
    stores = [place for place in locations if place.kind == Location.Kind.STORE]
    summary = {
        "overall": overall,
        "by_location": [
            (place, by_location[place.pk])
            for place in stores_first(locations)
            if place.pk in by_location
        ],
        "by_reason": [
            (words, by_reason[words])
            for words in SHRINK_REASONS.values()
            if words in by_reason
        ],
        # Stores only, stacked by reason, in money: what is lost where.
        "chart": {
            "kind": "stacked",
            "labels": [store.name for store in stores],
            "series": [
                {
                    "label": words,
                    "values": [
                        float(cells[(place.pk, reason)].value)
                        if (place.pk, reason) in cells
                        else 0
                        for place in stores
                    ],
                }
                for reason, words in SHRINK_REASONS.items()
                if any((place.pk, reason) in cells for place in stores)
            ],
            "unit": "money",
        },
    }
    return table, summary


# --------------------------------------------------------------- lost sales


# Demand turned away with no location named: routing found none that could fill it.
NOWHERE = SimpleNamespace(
    code="",
    name="Online",
    kind="online",
    get_kind_display=lambda: "no location could fill it",
)
WHY = {"cancelled": "Cancelled: not on the shelf", "refused": "Refused: not available"}


def lost_sales(
    *, period: Period, locations: list[Location], everywhere: bool = False
) -> tuple[Table, dict]:
    """Units that could not be sold for want of stock in the period, by location and
    SKU, valued at the SKU's price: order units cancelled because the stock was not
    there (each ``order_cancel_short`` entry of an order's timeline names the SKU,
    the location and the units; units the customer was served another way, a
    substitute taken or a delivery later, are no sale lost) and demand refused
    online (RefusedDemand: a checkout hold or an order refused, the units asked for
    beyond what could be promised).
    A refusal no location could fill belongs to no store: it is counted only when
    the reader sees every location (``everywhere``)."""
    start, end = period.bounds()
    codes = {place.code: place for place in locations}
    units: dict[tuple[str, str, str], int] = defaultdict(int)
    asks: dict[tuple[str, str, str], set] = defaultdict(set)
    events = OrderEvent.objects.filter(
        action=STOCK_CANCELLATION, at__gte=start, at__lt=end
    ).values_list("order_id", "detail")
    for order_id, detail in events:
        if (detail or {}).get("served_by"):
            continue  # a substitute taken, or delivered later: no sale lost
        for line in (detail or {}).get("lines", []):
            if line.get("location") not in codes:
                continue
            key = (line["location"], line["sku"], "cancelled")
            units[key] += int(line.get("quantity") or 0)
            asks[key].add(("order", order_id))
    refused = RefusedDemand.objects.filter(refused_at__gte=start, refused_at__lt=end)
    refused = refused.filter(
        Q(location__in=locations) | Q(location__isnull=True)
        if everywhere
        else Q(location__in=locations)
    ).values_list(
        "location__code", "sku__code", "kind", "reference", "requested", "available"
    )
    for where, sku, kind, reference, requested, available in refused:
        lost = max(requested - available, 0)
        if lost:
            key = (where or "", sku, "refused")
            units[key] += lost
            asks[key].add((kind, reference))
    prices = dict(
        Sku.objects.filter(code__in={sku for _, sku, _ in units}).values_list(
            "code", "price"
        )
    )
    table = Table(
        "lost_sales",
        "Lost sales: units cancelled or refused for lack of stock",
        [
            *LOCATION_COLUMNS,
            ("kind", "Kind"),
            ("sku", "SKU"),
            ("why", "Why"),
            ("orders", "Orders or checkouts"),
            ("units", "Units lost"),
            ("price", "Price"),
            ("value", "Value at price"),
        ],
        money=("price", "value"),
    )
    places = {**codes, "": NOWHERE}
    by_location: dict[str, Money] = defaultdict(Money)
    overall = Money()
    order = {place.code: n for n, place in enumerate(stores_first(locations))}
    order[""] = len(order)
    for (where, sku, why), count in sorted(
        units.items(), key=lambda item: (order[item[0][0]], -item[1], item[0][1:])
    ):
        price = prices.get(sku)
        value = price * count if price is not None else None
        table.rows.append(
            {
                "location": where or "(none)",
                LOCATION_NAME: places[where].name,
                "kind": places[where].get_kind_display(),
                "sku": sku,
                "why": WHY[why],
                "orders": len(asks[(where, sku, why)]),
                "units": count,
                "price": price,
                "value": value,
            }
        )
        unvalued = 0 if price is not None else count
        for total in (by_location[where], overall):
            total.add(count, value, unvalued)
    return table, {
        "overall": overall,
        "by_location": [
            (place, by_location[place.code])
            for place in [*stores_first(locations), NOWHERE]
            if place.code in by_location
        ],
    }


# ------------------------------------------------------------------- at risk


def _buffers_held() -> tuple[int, int]:
    """The units a SKU without its own buffer must exceed for some channel to sell
    it, at a store and elsewhere: the smallest buffer of the channels selling there.
    A store's tills sell there too (their buffer is usually none: at a store this is
    "sold out" unless the tills keep a buffer); a warehouse or a distribution centre
    sells online only. The largest buffer would call a SKU at risk as soon as one
    channel (a marketplace keeping five back) stops offering it while the others
    still sell it: not a risk anyone needs to act on."""
    least = (
        Channel.objects.filter(is_active=True)
        .exclude(kind=Channel.Kind.BACK_OFFICE)
        .aggregate(
            at_store=Min("safety_buffer"),
            elsewhere=Min("safety_buffer", filter=~Q(kind=Channel.Kind.STORE_POS)),
        )
    )
    return least["at_store"] or 0, least["elsewhere"] or 0


def at_risk(
    *, locations: list[Location], rate_days: int, limit: int | None
) -> tuple[Table, dict]:
    """The SKU-locations really at risk (``AT_RISK_RULE``), worst first: oversold,
    then sold out, then fewest days of supply. ``limit`` rows (the screen) or all
    (the CSV); ``total`` counts them all, ``watched`` every SKU-location that sold."""
    table = Table(
        "at_risk",
        "SKU-locations at risk",
        [
            ("sku", "SKU"),
            *LOCATION_COLUMNS,
            ("kind", "Kind"),
            ("available", "Available"),
            ("incoming", "Incoming + in transit"),
            ("per_day", "Sold per day"),
            ("days", "Days of supply"),
            ("why", "Why"),
        ],
        total=0,
    )
    if not locations:
        return table, {"watched": 0, "computed_at": None}
    marks = ", ".join(["%s"] * len(locations))
    available = available_sql("b")
    # The open cases are few: gathered once and joined, not looked for per balance.
    open_cases = (
        f"SELECT DISTINCT sku_id, location_id FROM {ExceptionCase._meta.db_table} "
        "WHERE status = %s AND sku_id IS NOT NULL AND location_id IS NOT NULL"
    )
    # "risky" is kept apart (MATERIALIZED): filtered first, the few rows left sorted,
    # where PostgreSQL would otherwise sort every balance for the LIMIT, then filter.
    sql = f"""
        WITH figures AS (
            SELECT b.sku_id, b.location_id, {available} AS available,
                   b.incoming + b.in_transit AS incoming,
                   r.units AS sold, r.days AS rate_days,
                   COALESCE(s.safety_buffer, CASE WHEN l.kind = %s THEN %s ELSE %s END)
                     AS buffer,
                   c.sku_id IS NOT NULL AS has_case
            FROM inventory_stockbalance b
            JOIN catalog_sku s ON s.id = b.sku_id
            JOIN inventory_location l ON l.id = b.location_id
            LEFT JOIN {SalesRate._meta.db_table} r
              ON r.sku_id = b.sku_id AND r.location_id = b.location_id AND r.units > 0
            LEFT JOIN ({open_cases}) c
              ON c.sku_id = b.sku_id AND c.location_id = b.location_id
            WHERE b.location_id IN ({marks})
        ), risky AS MATERIALIZED (
            SELECT *,
                   CASE WHEN sold IS NULL THEN NULL
                        ELSE (CASE WHEN available > 0 THEN available ELSE 0 END)
                             * 1.0 * rate_days / sold END AS days,
                   CASE WHEN sold IS NULL THEN NULL
                        ELSE ((CASE WHEN available > 0 THEN available ELSE 0 END)
                              + incoming) * 1.0 * rate_days / sold END AS covered
            FROM figures
            WHERE available < 0 OR has_case OR (sold IS NOT NULL AND (
                available <= buffer
                OR ((CASE WHEN available > 0 THEN available ELSE 0 END) + incoming)
                   * 1.0 * rate_days / sold < %s))
        )
        SELECT sku.code, location.code, location.name, location.kind, risky.available,
               risky.incoming, risky.sold, risky.rate_days, risky.days,
               risky.covered, risky.buffer, risky.has_case,
               COUNT(*) OVER () AS total
        FROM risky
        JOIN catalog_sku sku ON sku.id = risky.sku_id
        JOIN inventory_location location ON location.id = risky.location_id
        ORDER BY CASE WHEN risky.available < 0 THEN 0
                      WHEN risky.available = 0 THEN 1 ELSE 2 END,
                 COALESCE(risky.days, 0), sku.code, location.code
        {"LIMIT %s" if limit else ""}
    """
    arguments = [
        Location.Kind.STORE,
        *_buffers_held(),
        ExceptionCase.Status.OPEN,
        *[place.pk for place in locations],
        AT_RISK_DAYS,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments + ([limit] if limit else []))
        fetched = cursor.fetchall()
    kinds = dict(Location.Kind.choices)
    for row in fetched:
        sku, where, name, kind, avail, incoming, sold, days_rated, days = row[:9]
        covered, buffer, has_case, total = row[9:]
        per_day = float(sold) / days_rated if sold else None
        table.rows.append(
            {
                "sku": sku,
                "location": where,
                LOCATION_NAME: name,
                "kind": kinds.get(kind, kind),
                "available": int(avail),
                "incoming": int(incoming),
                "per_day": round(per_day, 2) if per_day else None,
                "days": round(float(days), 1) if days is not None else None,
                "why": _why(int(avail), buffer, covered, has_case, per_day),
            }
        )
        table.total = int(total)
    watched = SalesRate.objects.filter(location__in=locations, units__gt=0)
    computed = SalesRate.objects.aggregate(at=Max("computed_at"))["at"]
    return table, {"watched": watched.count(), "computed_at": computed}


def _why(available, buffer, covered, has_case, per_day) -> str:
    reasons = []
    if available < 0:
        reasons.append(f"oversold by {-available}")
    elif per_day and available == 0:
        reasons.append("sold out")
    elif per_day and available <= buffer:
        reasons.append(
            f"no channel can sell it: {available} left, safety buffer {buffer}"
        )
    if available > 0 and per_day and covered is not None and covered < AT_RISK_DAYS:
        reasons.append(f"runs out in {float(covered):.0f} days, incoming counted")
    if has_case:
        reasons.append("open exception")
    return "; ".join(reasons).capitalize()
