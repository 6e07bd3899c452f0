"""How a story names what it tells: one ``Step`` of it, and ``Names``, the items and
places of an order as people name them (its stores, the ones it left included, and
the deliveries its pre-ordered units were promised from), its days and times in the
store's own time zone. Reads only; ``support.steps`` tells the records with them."""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inventory.models import Location, Supply, SupplyPromise
from orders.models import Order, OrderEvent


@dataclass
class Step:
    """One moment of the story: when, what (a short tag and a sentence), who, and
    where to read more."""

    at: datetime
    tag: str  # one word, also the step's style: Placed, Picking, Short, …
    words: str
    actor: str = ""  # as recorded (user:…, token:…, system:…), shown with |who
    detail: str = ""
    link: str = ""
    link_text: str = ""
    rank: int = 0  # among steps at the same moment: the order's first

    @property
    def style(self) -> str:
        return self.tag.lower().replace(" ", "-")


def store_zone(order: Order) -> str:
    """The time zone of the store the order is collected at or fulfilled from:
    its times are told in that store's time."""
    lines = list(order.lines.all())
    home = order.pickup_location or (lines[0].location if lines else None)
    return (home.time_zone if home else "") or "UTC"


class Names:
    """Items and places by the names people use (codes kept beside items, which
    customers read from their receipt)."""

    def __init__(self, order: Order):
        lines = list(order.lines.all())
        self.skus = {line.sku.code: line.sku.name for line in lines}
        places = {line.location for line in lines}
        if order.pickup_location:
            places.add(order.pickup_location)
        codes = set(codes_in(order.routing)) | _stores_changed(order)
        known = {place.code for place in places}
        places |= set(Location.objects.filter(code__in=codes - known))
        self.places = {place.code: place.name for place in places}
        self.split = len({line.location_id for line in lines}) > 1
        self.zone = store_zone(order)
        self.supplies = _supplies_by_reference(lines)

    def item(self, code: str) -> str:
        name = self.skus.get(code)
        return f"{name} ({code})" if name else code

    def place(self, code: str) -> str:
        return self.places.get(code, code)

    def units(self, rows: list[dict], *, at_place: bool = False) -> str:
        """Units as "2 × Tee black M (TEE-BLK-M), 1 × …", from a timeline entry's
        lines."""
        parts = []
        for row in rows:
            part = f"{row.get('quantity', '')} × {self.item(row.get('sku', ''))}"
            if at_place and self.split and row.get("location"):
                part += f" at {self.place(row['location'])}"
            parts.append(part)
        return ", ".join(parts)

    def moment(self, when: datetime | str | None) -> str:
        """A day and a time as people say them, in the store's time: "Mon 14 Dec,
        16:00"."""
        if isinstance(when, str):
            when = parse_datetime(when)
        if when is None:
            return "no time yet"
        local = timezone.localtime(when, ZoneInfo(self.zone))
        return f"{self.day(when)}, {local:%H:%M}"

    def day(self, when: datetime | str | None) -> str:
        """A date as people say it, in the store's time: "Mon 14 Dec" (with the year
        when it is not this one); "no date yet" for none."""
        if isinstance(when, str):
            when = parse_datetime(when)
        if when is None:
            return "no date yet"
        local = timezone.localtime(when, ZoneInfo(self.zone))
        year = f" {local.year}" if local.year != timezone.now().year else ""
        return f"{local:%a} {local.day} {local:%b}{year}"

    def delivery(self, reference: str, kind: str = "") -> str:
        """The delivery units come with, as people name it: a purchase order by its
        number, a transfer by where it comes from (``kind``: as a timeline entry
        names it, for a delivery no line is promised from any more)."""
        supply = self.supplies.get(reference)
        if supply is None:
            if kind == Supply.Kind.PURCHASE and reference:
                return f"purchase order {reference}"
            if kind == Supply.Kind.TRANSFER:
                return "a transfer"
            return f"delivery {reference}" if reference else "a delivery"
        if supply.kind == Supply.Kind.TRANSFER:
            sender = supply.from_location.name if supply.from_location else ""
            return f"a transfer from {sender}" if sender else "a transfer"
        return f"purchase order {reference}"

    def in_words(self, text: str) -> str:
        """A recorded sentence with its place and item codes given as names."""
        for code, name in sorted(
            [*self.places.items(), *self.skus.items()], key=lambda p: -len(p[0])
        ):
            # A function, not the name itself: re.sub reads a string as a template
            # ("Bag 1\2" would be a group reference and fail).
            text = re.sub(rf"\b{re.escape(code)}\b", lambda _, name=name: name, text)
        return text


def _stores_changed(order: Order) -> set[str]:
    """The stores the order's changes of pickup store name (the ones it left too)."""
    codes = set()
    for event in order.events.all():
        if event.kind == OrderEvent.Kind.PICKUP_LOCATION_CHANGED:
            detail = event.detail if isinstance(event.detail, dict) else {}
            codes |= {detail.get("from"), detail.get("to")} - {None}
    return codes


def _supplies_by_reference(lines) -> dict[str, Supply]:
    """The deliveries the order's lines were ever promised from, by reference (what
    the order's timeline names them by)."""
    supply_ids = SupplyPromise.objects.filter(
        owner_kind=SupplyPromise.Owner.ORDER_LINE,
        owner_id__in=[line.pk for line in lines],
        supply__isnull=False,
    ).values("supply_id")
    return {
        supply.reference: supply
        for supply in Supply.objects.filter(pk__in=supply_ids).select_related(
            "sku", "location", "from_location"
        )
        if supply.reference
    }


def codes_in(value) -> list[str]:
    """Location codes a routing decision names (its allocations and candidates)."""
    if isinstance(value, dict):
        found = [
            value[key]
            for key in ("location", "code")
            if isinstance(value.get(key), str)
        ]
        return found + [code for item in value.values() for code in codes_in(item)]
    if isinstance(value, list):
        return [code for item in value for code in codes_in(item)]
    return []
