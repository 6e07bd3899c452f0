"""The figures of the managers' dashboard (reads only): where stock and promises are
going wrong, per location and period. The losses the page leads with (shrink, lost
sales, the SKU-locations at risk) are in ``losses``; these are the details under them.

Each figure is a ``Table`` (what the screen lists and the CSV export writes, from the
same rows) and, where a picture helps, chart data for ``static/js/dashboard.js``
(one style for every chart: labels already in words, "3 Dec", never ISO dates).
Charts by location show stores only, by name; warehouses and distribution centres are in the
tables, marked by kind, after the stores. Every figure is one grouped query over
indexed columns, so the page stays quick as the balances grow
(``bench/dashboard.py`` measures it at 200,000 balances):

- Inventory Record Accuracy per location and day (``selectors.record_accuracy``).
- Cancellation rate: units cancelled ÷ units ordered on order lines placed in the
  period, by fulfilling location and by SKU.
- Oversell conflicts per week (the ledger's StockConflicts, by ISO week).
- Open exceptions by kind and age (past their kind's target, and by days open).
- Days of supply per SKU and location: available now ÷ units sold per day over the
  trailing ``SALES_RATE_DAYS`` (every channel: till sales and fulfilled orders;
  ``SalesRate``, computed nightly, so the page never sums a month of the ledger),
  with incoming and in transit beside it; under ``AT_RISK_DAYS`` marked.
- Sell-through per location: units sold ÷ (units sold + on hand now).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from inventory.availability import available_sql
from inventory.models import (
    Location,
    StockBalance,
    StockConflict,
    StockMovement,
)
from inventory.movements import SOLD, SOLD_STATUSES
from orders.models import OrderLine

from .models import ExceptionCase, ExceptionKind, SalesRate
from .selectors import record_accuracy, target_hours

AT_RISK_DAYS = 7
# A location in a table: its code (what the CSV is joined on) and its name (what
# people call it, and what the screen shows).
LOCATION_NAME = "location_name"
LOCATION_COLUMNS = [("location", "Location"), (LOCATION_NAME, "Location name")]
STORE = Location.Kind.STORE.label
# Open cases by how long they have been open, in days: [from, to).
AGE_BANDS = (("under 1 day", 0, 1), ("1–3 days", 1, 3), ("3–7 days", 3, 7))
OLDEST_BAND = "7 days or more"


@dataclass
class Table:
    """Rows for the screen and the CSV: ``columns`` are (key, heading)."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict] = field(default_factory=list)
    # How many rows there are in all, when the screen shows only the first ones.
    total: int | None = None
    at_risk: int | None = None
    # The columns that are money (the screen writes them with the currency).
    money: tuple[str, ...] = ()

    @property
    def cells(self) -> list[list]:
        return [[row[key] for key, _ in self.columns] for row in self.rows]

    @property
    def headings(self) -> list[str]:
        """The screen's columns: a location's name and code are one column there."""
        return [heading for key, heading in self.columns if key != LOCATION_NAME]

    @property
    def shown(self) -> list[list[tuple]]:
        """Each row's cells for the screen: (heading, value, whether money, the words
        under it). A location reads by its name, its code under it (the CSV keeps
        both columns); the heading labels a cell when a phone stacks the table."""
        return [
            [
                (heading, row[LOCATION_NAME], False, row[key])
                if key == "location" and LOCATION_NAME in row
                else (heading, row[key], key in self.money, None)
                for key, heading in self.columns
                if key != LOCATION_NAME
            ]
            for row in self.rows
        ]


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # inclusive

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.since, time.min, tzinfo=zone)
        return start, datetime.combine(self.until + timedelta(days=1), time.min, zone)


def day_label(day: date) -> str:
    """A date as a chart's axis says it: "3 Dec"."""
    return f"{day.day} {day:%b}"


def location_cells(location: Location) -> dict:
    """A table row's location columns."""
    return {"location": location.code, LOCATION_NAME: location.name}


def is_store(location: Location) -> bool:
    return location.kind == Location.Kind.STORE


def stores_first(locations: list[Location]) -> list[Location]:
    """Stores, then warehouses and distribution centres: never mixed in a chart."""
    return sorted(locations, key=lambda place: not is_store(place))


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# ------------------------------------------------------------------- accuracy


def accuracy(*, period: Period, locations: list[Location]) -> tuple[Table, dict]:
    report = record_accuracy(start=period.since, end=period.until, locations=locations)
    table = Table(
        "accuracy",
        "Inventory record accuracy",
        [
            *LOCATION_COLUMNS,
            ("kind", "Kind"),
            ("counted", "Counted"),
            ("accurate", "Accurate"),
            ("ira", "IRA %"),
        ],
    )
    for location in stores_first(locations):
        cell = report.at(location.pk, None)
        table.rows.append(
            {
                **location_cells(location),
                "kind": location.get_kind_display(),
                "counted": cell.counted,
                "accurate": cell.accurate,
                "ira": cell.percent,
            }
        )
    chart = {
        "kind": "line",
        "labels": [day_label(day) for day in report.days],
        "series": [
            {
                "label": location.name,
                "values": [report.at(location.pk, day).percent for day in report.days],
            }
            for location in locations
            if report.at(location.pk, None).counted and is_store(location)
        ],
        "unit": "%",
    }
    return table, chart


# -------------------------------------------------------------- cancellations


def _ordered_lines(period: Period, locations: list[Location]):
    start, end = period.bounds()
    return OrderLine.objects.filter(
        order__placed_at__gte=start, order__placed_at__lt=end, location__in=locations
    )


def cancellations_by_location(
    *, period: Period, locations: list[Location]
) -> tuple[Table, dict]:
    grouped = {
        row["location"]: row
        for row in _ordered_lines(period, locations)
        .values("location")
        .annotate(
            orders=Count("order", distinct=True),
            ordered=Sum("quantity"),
            cancelled=Sum("cancelled_quantity"),
        )
    }
    table = Table(
        "cancellations_by_location",
        "Cancellations by location",
        [
            *LOCATION_COLUMNS,
            ("kind", "Kind"),
            ("orders", "Orders"),
            ("ordered", "Units ordered"),
            ("cancelled", "Units cancelled"),
            ("rate", "Cancelled %"),
        ],
    )
    for location in stores_first(locations):
        row = grouped.get(location.pk, {})
        ordered, cancelled = row.get("ordered") or 0, row.get("cancelled") or 0
        table.rows.append(
            {
                **location_cells(location),
                "kind": location.get_kind_display(),
                "orders": row.get("orders", 0),
                "ordered": ordered,
                "cancelled": cancelled,
                "rate": _percent(cancelled, ordered),
            }
        )
    return table, _bars(table, LOCATION_NAME, "rate", "%")


def cancellations_by_sku(
    *, period: Period, locations: list[Location], limit: int | None
) -> Table:
    grouped = (
        _ordered_lines(period, locations)
        .values("sku__code", "sku__name")
        .annotate(ordered=Sum("quantity"), cancelled=Sum("cancelled_quantity"))
        .filter(cancelled__gt=0)
        .order_by("-cancelled", "sku__code")
    )
    table = Table(
        "cancellations_by_sku",
        "Cancellations by SKU",
        [
            ("sku", "SKU"),
            ("name", "Name"),
            ("ordered", "Units ordered"),
            ("cancelled", "Units cancelled"),
            ("rate", "Cancelled %"),
        ],
        total=grouped.count() if limit else None,
    )
    for row in grouped[:limit] if limit else grouped:
        table.rows.append(
            {
                "sku": row["sku__code"],
                "name": row["sku__name"],
                "ordered": row["ordered"],
                "cancelled": row["cancelled"],
                "rate": _percent(row["cancelled"], row["ordered"]),
            }
        )
    return table


# ------------------------------------------------------------------ conflicts


def conflicts_per_week(
    *, period: Period, locations: list[Location]
) -> tuple[Table, dict]:
    start, end = period.bounds()
    weekly = {
        row["week"].date() if isinstance(row["week"], datetime) else row["week"]: row
        for row in StockConflict.objects.filter(
            created_at__gte=start, created_at__lt=end, location__in=locations
        )
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(
            conflicts=Count("id"),
            units=Sum("shortfall"),
            open=Count("id", filter=Q(status=StockConflict.Status.OPEN)),
        )
    }
    table = Table(
        "conflicts_per_week",
        "Oversell conflicts per week",
        [
            ("week", "Week of"),
            ("conflicts", "Conflicts"),
            ("units", "Units short"),
            ("open", "Still open"),
        ],
    )
    week = period.since - timedelta(days=period.since.weekday())
    while week <= period.until:
        row = weekly.get(week, {})
        table.rows.append(
            {
                "week": week,
                "conflicts": row.get("conflicts", 0),
                "units": row.get("units") or 0,
                "open": row.get("open", 0),
            }
        )
        week += timedelta(days=7)
    chart = _bars(table, "week", "conflicts", "")
    chart["labels"] = [day_label(row["week"]) for row in table.rows]
    return table, chart


# ----------------------------------------------------------------- exceptions


def open_exceptions(
    *, visible: QuerySet[ExceptionCase], locations: list[Location], everywhere: bool
) -> tuple[Table, dict]:
    """Open cases by kind and how long open, of those the viewer may see
    (``selectors.exceptions_visible_to``); ``everywhere`` (no location chosen)
    includes the cases that belong to no one location (a channel's whole feed)."""
    now = timezone.now()
    in_reach = Q(location__in=locations)
    if everywhere:
        in_reach |= Q(location__isnull=True)
    cases = visible.filter(in_reach, status=ExceptionCase.Status.OPEN)
    bands = {
        label: Count(
            "id",
            filter=Q(first_raised_at__lte=now - timedelta(days=low))
            & Q(first_raised_at__gt=now - timedelta(days=high)),
        )
        for label, low, high in AGE_BANDS
    }
    oldest = AGE_BANDS[-1][2]
    counted = {
        row["kind"]: row
        for row in cases.values("kind").annotate(
            open=Count("id"),
            **{f"band_{i}": band for i, band in enumerate(bands.values())},
            band_last=Count(
                "id", filter=Q(first_raised_at__lte=now - timedelta(days=oldest))
            ),
        )
    }
    overdue = _overdue_by_kind(cases, now)
    labels = [label for label, _, _ in AGE_BANDS] + [OLDEST_BAND]
    table = Table(
        "open_exceptions",
        "Open exceptions by kind and age",
        [("kind", "Kind"), ("open", "Open"), ("overdue", "Past target")]
        + [(f"band_{i}", label) for i, label in enumerate(labels[:-1])]
        + [("band_last", OLDEST_BAND)],
    )
    for kind in ExceptionKind:
        row = counted.get(kind.value)
        if row is None:
            continue
        table.rows.append(
            {
                "kind": kind.label,
                "open": row["open"],
                "overdue": overdue.get(kind.value, 0),
                **{f"band_{i}": row[f"band_{i}"] for i in range(len(AGE_BANDS))},
                "band_last": row["band_last"],
            }
        )
    keys = [f"band_{i}" for i in range(len(AGE_BANDS))] + ["band_last"]
    chart = {
        "kind": "stacked",
        "labels": [row["kind"] for row in table.rows],
        "series": [
            {"label": label, "values": [row[key] for row in table.rows]}
            for label, key in zip(labels, keys, strict=True)
        ],
        "unit": "",
    }
    return table, chart


def _overdue_by_kind(cases, now: datetime) -> dict[str, int]:
    overdue = Q()
    for kind in ExceptionKind.values:
        overdue |= Q(
            kind=kind, first_raised_at__lt=now - timedelta(hours=target_hours(kind))
        )
    return dict(
        cases.filter(overdue)
        .values("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )


# ---------------------------------------------------- days of supply, sell-through


def days_of_supply(
    *, locations: list[Location], limit: int | None
) -> tuple[Table, dict]:
    """Every SKU-location that sold in the trailing ``SALES_RATE_DAYS`` (the nightly
    ``SalesRate``), lowest days of supply first; ``limit`` rows (the screen) or all
    (the CSV). The summary counts every one. Availability is live."""
    table = Table(
        "days_of_supply",
        "Days of supply",
        [
            ("sku", "SKU"),
            *LOCATION_COLUMNS,
            ("available", "Available"),
            ("incoming", "Incoming + in transit"),
            ("per_day", "Sold per day"),
            ("days", "Days of supply"),
            ("with_incoming", "Days with incoming"),
            ("at_risk", f"Under {AT_RISK_DAYS} days"),
        ],
        total=0,
        at_risk=0,
    )
    if not locations:
        return table, {}
    marks = ", ".join(["%s"] * len(locations))
    available = available_sql("b")
    # The codes are joined to the rows shown only, after the sort: joining 200,000
    # rows to the catalogue to show 25 of them was most of the page's time.
    sql = f"""
        WITH covered AS (
            SELECT r.sku_id, r.location_id, {available} AS available,
                   b.incoming + b.in_transit AS incoming,
                   r.units * 1.0 / r.days AS per_day,
                   -- Units already short are no days of supply, not a negative.
                   CASE WHEN {available} > 0 THEN {available} ELSE 0 END
                       * 1.0 * r.days / r.units AS days
            FROM {SalesRate._meta.db_table} r
            JOIN inventory_stockbalance b
              ON b.sku_id = r.sku_id AND b.location_id = r.location_id
            WHERE r.location_id IN ({marks})
        ), summary AS (
            SELECT COUNT(*) AS total,
                   SUM(CASE WHEN days < %s THEN 1 ELSE 0 END) AS at_risk
            FROM covered
        ), shown AS (
            SELECT * FROM covered
            ORDER BY days, sku_id, location_id
            {"LIMIT %s" if limit else ""}
        )
        SELECT sku.code, location.code, location.name, shown.available,
               shown.incoming, shown.per_day, shown.days, summary.total,
               summary.at_risk
        FROM shown
        CROSS JOIN summary
        JOIN catalog_sku sku ON sku.id = shown.sku_id
        JOIN inventory_location location ON location.id = shown.location_id
        ORDER BY shown.days, shown.sku_id, shown.location_id
    """
    arguments = [location.pk for location in locations] + [AT_RISK_DAYS]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments + ([limit] if limit else []))
        fetched = cursor.fetchall()
    for code, where, name, avail, incoming, per_day, supply, total, at_risk in fetched:
        per_day, avail = float(per_day), int(avail)
        table.rows.append(
            {
                "sku": code,
                "location": where,
                LOCATION_NAME: name,
                "available": avail,
                "incoming": int(incoming),
                "per_day": round(per_day, 2),
                "days": round(float(supply), 1),
                "with_incoming": round((max(avail, 0) + int(incoming)) / per_day, 1),
                "at_risk": "yes" if float(supply) < AT_RISK_DAYS else "",
            }
        )
        table.total, table.at_risk = int(total), int(at_risk)
    computed = SalesRate.objects.aggregate(at=Max("computed_at"))["at"]
    return table, {"computed_at": computed}


def sell_through(*, period: Period, locations: list[Location]) -> tuple[Table, dict]:
    start, end = period.bounds()
    sold = dict(
        StockMovement.objects.filter(
            type__in=SOLD,
            status__in=SOLD_STATUSES,
            occurred_at__gte=start,
            occurred_at__lt=end,
            location__in=locations,
        )
        .values("location")
        .annotate(units=Sum("quantity"))
        .values_list("location", "units")
    )
    on_hand = dict(
        StockBalance.objects.filter(location__in=locations)
        .values("location")
        .annotate(units=Sum("on_hand"))
        .values_list("location", "units")
    )
    table = Table(
        "sell_through",
        "Sell-through by location",
        [
            *LOCATION_COLUMNS,
            ("kind", "Kind"),
            ("sold", "Units sold"),
            ("on_hand", "On hand now"),
            ("rate", "Sell-through %"),
        ],
    )
    for location in stores_first(locations):
        units, left = sold.get(location.pk) or 0, on_hand.get(location.pk) or 0
        table.rows.append(
            {
                **location_cells(location),
                "kind": location.get_kind_display(),
                "sold": units,
                "on_hand": left,
                "rate": _percent(units, units + max(left, 0)),
            }
        )
    return table, _bars(table, LOCATION_NAME, "rate", "%")


def _bars(table: Table, label: str, value: str, unit: str) -> dict:
    """One bar per row; rows of a warehouse or distribution centre left out."""
    shown = [row for row in table.rows if row.get("kind", STORE) == STORE]
    return {
        "kind": "bar",
        "labels": [row[label] for row in shown],
        "series": [{"label": table.title, "values": [row[value] for row in shown]}],
        "unit": unit,
    }
