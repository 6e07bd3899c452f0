"""Reads of returns: for the API, the store's screens (what is expected, what waits
for inspection, finding the purchase at the counter, what a kit comes back as) and
the managers' insight."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from catalog.kits import kit_parts
from catalog.models import Channel, Sku
from inventory.models import Location, StockMovement
from inventory.movements import SOLD
from orders.models import Order, OrderLine

from .models import Return, ReturnEvent, ReturnInspection, ReturnLine, ReturnReason

# The counter's search shows this many purchases at most: enough for a name, not a
# dump of the order book.
SEARCH_LIMIT = 20


def returnable_quantities(lines: list[OrderLine]) -> dict[int, int]:
    """Units of each order line that may still come back, in one query: fulfilled,
    less those on returns not cancelled (announced units count until they arrive or
    are called off)."""
    expected = Q(customer_return__status=Return.Status.EXPECTED)
    taken = dict(
        ReturnLine.objects.filter(order_line__in=lines)
        .exclude(customer_return__status=Return.Status.CANCELLED)
        .values("order_line")
        .annotate(
            units=Coalesce(Sum("expected_quantity", filter=expected), 0)
            + Coalesce(Sum("quantity", filter=~expected), 0)
        )
        .values_list("order_line", "units")
    )
    return {line.pk: line.fulfilled_quantity - taken.get(line.pk, 0) for line in lines}


def returnable_quantity(line: OrderLine) -> int:
    return returnable_quantities([line])[line.pk]


def returnable_lines(order: Order) -> list[OrderLine]:
    """The order's lines, each with ``returnable``: units that may still come back;
    the lines sold alone first, then each kit's component lines together, kit by
    kit (the counter shows them under their kit)."""
    lines = sorted(
        order.lines.select_related("sku", "kit_line__sku"),
        key=lambda line: (line.kit_line_id is not None, line.kit_line_id or 0, line.pk),
    )
    room = returnable_quantities(lines)
    for line in lines:
        line.returnable = max(room[line.pk], 0)
    return lines


def kit_contents(kit: Sku) -> str:
    """What a kit comes back as, in words: "1 × BODY-X, 2 × LENS-50"; empty for a
    SKU that is not a kit."""
    parts = kit_parts(sku_ids=[kit.pk]).get(kit.pk, [])
    return ", ".join(f"{part.quantity} × {part.sku.code}" for part in parts)


def open_announcements(order: Order) -> list[Return]:
    """Returns of this order announced and not yet here: the customer may be
    carrying one of them."""
    return list(
        order.returns.filter(status=Return.Status.EXPECTED).select_related("location")
    )


def return_queryset() -> QuerySet[Return]:
    return Return.objects.select_related(
        "channel", "location", "order"
    ).prefetch_related(
        Prefetch(
            "lines",
            ReturnLine.objects.select_related(
                "sku", "kit", "order_line"
            ).prefetch_related(
                Prefetch(
                    "inspections",
                    ReturnInspection.objects.select_related("graded_by"),
                )
            ),
        ),
        Prefetch("events", ReturnEvent.objects.order_by("at", "id")),
    )


def return_for_staff(*, locations: list[Location], return_id: int) -> Return | None:
    """A return at one of the member of staff's stores; or one announced and not yet
    here, wherever it was announced for, since the customer may bring the parcel
    to any store."""
    if not locations:
        return None
    at_theirs = Q(location__in=locations) | Q(status=Return.Status.EXPECTED)
    return return_queryset().filter(at_theirs, pk=return_id).first()


def store_returns(*, location: Location) -> dict:
    """The store's returns screen: parcels on their way, units waiting for a grade
    (oldest first: they are the ones going overdue), and today's graded."""
    here = return_queryset().filter(location=location)
    return {
        "expected": list(here.filter(status=Return.Status.EXPECTED).order_by("id")),
        "to_inspect": list(
            here.filter(status__in=Return.AWAITING_GRADE).order_by("received_at", "id")
        ),
        "graded": list(
            here.filter(status=Return.Status.GRADED).order_by("-graded_at")[:20]
        ),
    }


def purchases_matching(*, search: str) -> list[Order]:
    """Orders of any channel a customer may be bringing back: by order number (typed
    or scanned from the receipt's barcode), name, email, or a scanned item."""
    search = search.strip()
    if len(search) < 2:
        return []
    fulfilled = OrderLine.objects.filter(fulfilled_quantity__gt=0)
    by_item = fulfilled.filter(
        Q(sku__barcode=search)
        | Q(sku__code__iexact=search)
        | Q(kit_line__sku__barcode=search)
        | Q(kit_line__sku__code__iexact=search)
    ).values("order_id")
    return list(
        Order.objects.filter(
            Q(reference__iexact=search)
            | Q(customer_name__icontains=search)
            | Q(customer_email__iexact=search)
            | Q(pk__in=by_item)
        )
        .filter(lines__in=fulfilled)
        .distinct()
        .select_related("channel")
        .order_by("-placed_at")[:SEARCH_LIMIT]
    )


def expected_matching(*, search: str) -> list[Return]:
    """Announced returns the customer may be carrying, to whichever store they were
    announced for: by return number, order number or name."""
    search = search.strip()
    if len(search) < 2:
        return []
    return list(
        return_queryset()
        .filter(status=Return.Status.EXPECTED)
        .filter(
            Q(reference__iexact=search)
            | Q(order__reference__iexact=search)
            | Q(customer_name__icontains=search)
        )[:SEARCH_LIMIT]
    )


# ---------------------------------------------------------------- the managers' view

GROUPINGS = {
    "channel": "Channel",
    "sku": "SKU: online against in store",
    "reason": "Reason",
}
ONLINE = frozenset({Channel.Kind.WEB, Channel.Kind.APP, Channel.Kind.MARKETPLACE})
IN_STORE = frozenset({Channel.Kind.STORE_POS})


@dataclass
class RateRow:
    """One row of the return-rate table: units sold and returned in the period, as a
    whole and split online / in store (by the channel the goods were bought
    through)."""

    key: str
    label: str
    sold: int = 0
    returned: int = 0
    sold_online: int = 0
    returned_online: int = 0
    sold_in_store: int = 0
    returned_in_store: int = 0

    @property
    def rate(self) -> float | None:
        return _rate(self.returned, self.sold)

    @property
    def rate_online(self) -> float | None:
        return _rate(self.returned_online, self.sold_online)

    @property
    def rate_in_store(self) -> float | None:
        return _rate(self.returned_in_store, self.sold_in_store)

    def add(self, kind: str, *, sold: int = 0, returned: int = 0) -> None:
        self.sold += sold
        self.returned += returned
        if kind in ONLINE:
            self.sold_online += sold
            self.returned_online += returned
        elif kind in IN_STORE:
            self.sold_in_store += sold
            self.returned_in_store += returned


def _rate(returned: int, sold: int) -> float | None:
    return round(100 * returned / sold, 1) if sold else None


def return_rates(
    *, since: datetime, until: datetime, group: str, locations=None
) -> list[RateRow]:
    """Return rate (units returned / units sold, %) in ``[since, until)``, by channel,
    SKU or reason. Sold: the ledger's sales and fulfilments, by the channel they were
    sold through; returned: units received back in the period, by the channel they
    were bought through. By reason, ``sold`` is the period's total, so each reason's
    rate is its share of what was sold. ``locations`` narrows both to where the
    units left and came back."""
    if group not in GROUPINGS:
        raise ValueError(f"No grouping {group!r}.")
    sales = StockMovement.objects.filter(
        type__in=SOLD, occurred_at__gte=since, occurred_at__lt=until
    ).exclude(status=StockMovement.Status.REJECTED)
    back = ReturnLine.objects.filter(
        quantity__gt=0,
        customer_return__received_at__gte=since,
        customer_return__received_at__lt=until,
    )
    if locations is not None:
        sales = sales.filter(location__in=locations)
        back = back.filter(customer_return__location__in=locations)
    channels = {channel.pk: channel for channel in Channel.objects.all()}
    rows: dict[str, RateRow] = {}

    def row(key: str, label: str) -> RateRow:
        return rows.setdefault(key, RateRow(key=key, label=label))

    sold_by = sales.values("channel_id", "sku__code", "sku__name").annotate(
        units=Sum("quantity")
    )
    returned_by = back.values(
        "customer_return__channel_id", "sku__code", "sku__name", "reason"
    ).annotate(units=Sum("quantity"))
    total = RateRow(key="", label="All")
    for sold in sold_by:
        channel = channels[sold["channel_id"]]
        total.add(channel.kind, sold=sold["units"])
        if group == "channel":
            row(channel.code, channel.name).add(channel.kind, sold=sold["units"])
        elif group == "sku":
            label = f"{sold['sku__code']} · {sold['sku__name']}"
            row(sold["sku__code"], label).add(channel.kind, sold=sold["units"])
    for returned in returned_by:
        channel = channels[returned["customer_return__channel_id"]]
        units = returned["units"]
        total.add(channel.kind, returned=units)
        if group == "channel":
            row(channel.code, channel.name).add(channel.kind, returned=units)
        elif group == "sku":
            label = f"{returned['sku__code']} · {returned['sku__name']}"
            row(returned["sku__code"], label).add(channel.kind, returned=units)
        else:
            reason = ReturnReason(returned["reason"])
            row(reason.value, reason.label).add(channel.kind, returned=units)
    if group == "reason":
        for each in rows.values():
            each.sold = total.sold
            each.sold_online = total.sold_online
            each.sold_in_store = total.sold_in_store
    ordered = sorted(rows.values(), key=lambda r: (-r.returned, -r.sold, r.key))
    return ordered + [total] if ordered or total.sold else []


def overdue_returns(*, locations) -> list[Return]:
    """Returns flagged as waiting too long for inspection, oldest first."""
    return list(
        return_queryset()
        .filter(
            location__in=locations,
            status__in=Return.AWAITING_GRADE,
            overdue_since__isnull=False,
        )
        .order_by("received_at")
    )
