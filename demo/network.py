"""A generated demo retail network: stores, a warehouse, a distribution centre, a
clothing catalogue and the four sales channels. Every write goes through the apps'
services, so the demo exercises the same paths as an integration; running it again
updates the same records instead of duplicating them."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import product as cartesian

from django.utils import timezone

from catalog.gtin import gtin_check_digit
from catalog.selectors import channels_by_code, skus_by_code
from catalog.services import channel_upsert, product_upsert, sku_upsert
from config.access import Actor
from inventory.errors import InsufficientStock
from inventory.models import Reservation, StockConflict
from inventory.selectors import (
    availability_rows_for_balances,
    balance_queryset,
    locations_by_code,
    movement_queryset,
)
from inventory.services import (
    MovementInput,
    Outcome,
    ReservationLineInput,
    location_upsert,
    movements_record,
    reservation_place,
    reservation_transition,
)

# Who the demo's stock and holds are recorded as done by.
DEMO = Actor(name="system:demo")
# The channels' own integrations, each token bound to its channel (seed_demo makes
# them): the demo's web orders and the tills' snapshot are sent in their names, and
# the screens call each by its channel's name.
CHANNEL_TOKENS = {"demo-web-shop": "web", "demo-tills": "pos"}
WEB_SHOP = Actor(name="token:demo-web-shop", source="web")

# (code, name, kind, city, postcode, latitude, longitude, pickup, ship-from-store)
LOCATIONS = [
    ("LON-OXF", "London Oxford Street", "store", "London", "W1C 1DX", 51.5154, -0.1410, True, True),
    ("MAN-MKT", "Manchester Market Street", "store", "Manchester", "M1 1WR", 53.4826, -2.2416, True, True),
    ("LDS-BRG", "Leeds Briggate", "store", "Leeds", "LS1 6HD", 53.7973, -1.5426, True, False),
    ("BRS-CAB", "Bristol Cabot Circus", "store", "Bristol", "BS1 3BX", 51.4585, -2.5852, True, False),
    ("WH-DAV", "Daventry Warehouse", "warehouse", "Daventry", "NN11 8RB", 52.2580, -1.1620, False, False),
    ("DC-MID", "Midlands Distribution Centre", "distribution_centre", "Coventry", "CV3 4FJ", 52.3780, -1.4760, False, False),
]  # fmt: skip

# (code, name, kind, safety buffer, reservation time-to-live in seconds)
CHANNELS = [
    ("pos", "Store tills", "store_pos", 0, 300),
    ("web", "Web shop", "web", 2, 900),
    ("app", "Mobile app", "app", 2, 900),
    ("marketplace", "Marketplace", "marketplace", 5, 1800),
    # Not a sales channel: the warehouse system, source of receipts and transfers.
    ("wms", "Warehouse management system", "back_office", 0, 900),
]


@dataclass(frozen=True)
class Style:
    code: str
    name: str
    colours: tuple[str, ...]
    sizes: tuple[str, ...]


STYLES = [
    Style("TEE", "Organic cotton T-shirt", ("white", "black", "navy"), ("XS", "S", "M", "L", "XL")),
    Style("HOOD", "Loopback hoodie", ("grey", "forest"), ("XS", "S", "M", "L", "XL")),
    Style("JEAN", "Straight jeans", ("indigo", "black"), ("28", "30", "32", "34", "36", "38")),
    Style("TRNR", "Canvas trainers", ("white", "black"), ("6", "7", "8", "9", "10", "11", "12")),
    Style("BEAN", "Ribbed beanie", ("black", "mustard", "navy", "red"), ("ONE",)),
]  # fmt: skip

# What each style's units cost the retailer and sell for (every size and colour
# alike), so the dashboard shows lost stock and lost sales in money.
COST_AND_PRICE = {
    "TEE": (Decimal("6.50"), Decimal("24.00")),
    "HOOD": (Decimal("18.00"), Decimal("65.00")),
    "JEAN": (Decimal("22.00"), Decimal("80.00")),
    "TRNR": (Decimal("19.50"), Decimal("70.00")),
    "BEAN": (Decimal("4.00"), Decimal("18.00")),
}

# A GS1 company prefix reserved for the demo; item numbers follow it.
GTIN_COMPANY_PREFIX = "5012345"


def demo_gtin(item_number: int) -> str:
    body = f"{GTIN_COMPANY_PREFIX}{item_number:05d}"
    return body + str(gtin_check_digit(body))


@dataclass
class DemoNetwork:
    locations: int
    channels: int
    products: int
    skus: int


def demo_network_build() -> DemoNetwork:
    for code, name, kind, city, postcode, lat, lon, pickup, ship in LOCATIONS:
        location_upsert(
            code=code,
            name=name,
            kind=kind,
            city=city,
            postal_code=postcode,
            country="GB",
            latitude=Decimal(str(lat)),
            longitude=Decimal(str(lon)),
            time_zone="Europe/London",
            pickup_enabled=pickup,
            ship_from_store_enabled=ship,
        )
    for code, name, kind, buffer, ttl in CHANNELS:
        channel_upsert(
            code=code,
            name=name,
            kind=kind,
            safety_buffer=buffer,
            reservation_ttl_seconds=ttl,
        )
    item_number = 0
    for style in STYLES:
        style_product, _ = product_upsert(
            code=style.code, name=style.name, brand="Northfold"
        )
        for colour, size in cartesian(style.colours, style.sizes):
            item_number += 1
            sku_upsert(
                code=demo_sku_code(style, colour, size),
                name=f"{style.name}, {colour}, {size}",
                product=style_product,
                barcode=demo_gtin(item_number),
                attributes={"colour": colour, "size": size},
                cost=COST_AND_PRICE[style.code][0],
                price=COST_AND_PRICE[style.code][1],
            )
    return DemoNetwork(
        locations=len(LOCATIONS),
        channels=len(CHANNELS),
        products=len(STYLES),
        skus=item_number,
    )


@dataclass
class DemoStock:
    entries: int
    new_entries: int
    conflicts: int


def demo_stock_build(*, now: datetime | None = None) -> DemoStock:
    """A week of stock for the network, all through the ledger: receipts everywhere,
    an expected delivery, a transfer on the road, till sales, damaged units, returns
    awaiting inspection (and two inspected), a shelf count with a variance, and one
    unit sold twice at the tills, which raises a conflict.

    The events are the same on every run (fixed references, times anchored on the
    first run), so running again records nothing new.
    """
    now = now or timezone.now()
    channels = channels_by_code(codes={"wms", "pos"})
    wms, pos = channels["wms"], channels["pos"]
    locations = locations_by_code(codes={row[0] for row in LOCATIONS})
    skus = sorted(
        skus_by_code(codes=set(demo_sku_codes())).values(), key=lambda s: s.code
    )
    anchor = _demo_anchor(wms) or (now - timedelta(days=7)).replace(
        minute=0, second=0, microsecond=0
    )
    rng = random.Random(20261123)
    events: list[MovementInput] = []

    def add(reference, type, sku, location, quantity, hours, channel=wms, **extra):
        events.append(
            MovementInput(
                reference=f"DEMO-{reference}",
                type=type,
                sku=sku,
                location=locations[location],
                quantity=quantity,
                occurred_at=anchor + timedelta(hours=hours),
                channel=channel,
                **extra,
            )
        )

    stores = [row[0] for row in LOCATIONS if row[2] == "store"]
    for sku in skus:
        add(f"RCPT-WH-DAV-{sku.code}", "receipt", sku, "WH-DAV", rng.randint(30, 80), 1)
        add(f"RCPT-DC-MID-{sku.code}", "receipt", sku, "DC-MID", rng.randint(10, 40), 1)
        for store in stores:
            add(
                f"RCPT-{store}-{sku.code}", "receipt", sku, store, rng.randint(2, 12), 2
            )
    for n, sku in enumerate(skus[::3]):
        add(f"ASN-DC-MID-{sku.code}", "receipt_expected", sku, "DC-MID", 24, 100)
        add(
            f"TRF-{n}", "transfer_out", sku, "WH-DAV", 6, 120,
            other_location=locations["LDS-BRG"],
        )  # fmt: skip
    # Till sales through the last day, so every store's tills have reported lately.
    for n in range(60):
        sku, store = rng.choice(skus), rng.choice(stores)
        add(f"SALE-{n}", "sale", sku, store, 1, 144 + n * 0.3, channel=pos)
    for n, sku in enumerate(skus[1::7]):
        add(f"DMG-{n}", "damage", sku, rng.choice(stores), 1, 50)
    for n, sku in enumerate(skus[2::6]):
        store = stores[n % len(stores)]
        add(f"RTN-{n}", "return_received", sku, store, 1, 130, channel=pos)
        if n == 0:
            add(f"QC-PASS-{n}", "inspection_pass", sku, store, 1, 140)
        elif n == 1:
            add(f"QC-FAIL-{n}", "inspection_fail", sku, store, 1, 140)
    beanies = [sku for sku in skus if sku.code.startswith("BEAN-")]
    for sku in beanies:
        add(f"COUNT-LON-OXF-{sku.code}", "count", sku, "LON-OXF", 5, 150)
    # The final unit, sold at two tills: the second sale stands and raises a conflict.
    last = skus[-1]
    add("COUNT-BRS-CAB-LAST", "count", last, "BRS-CAB", 1, 163)
    add("SALE-LAST-1", "sale", last, "BRS-CAB", 1, 164, channel=pos)
    add("SALE-LAST-2", "sale", last, "BRS-CAB", 1, 165, channel=pos)

    before = StockConflict.objects.count()
    outcomes = movements_record(movements=events, actor=DEMO)
    created = sum(outcome.outcome == Outcome.CREATED for outcome in outcomes)
    return DemoStock(
        entries=len(events),
        new_entries=created,
        conflicts=StockConflict.objects.count() - before,
    )


# (reference, channel, store, lines, time-to-live in seconds, transitions after placing)
HOLDS = [
    ("DEMO-CART-1", "web", "LON-OXF", 2, 86_400, []),
    ("DEMO-CART-2", "app", "MAN-MKT", 1, 86_400, []),
    ("DEMO-ORDER-1", "web", "LON-OXF", 1, 900, ["committed"]),
    ("DEMO-ORDER-2", "app", "LON-OXF", 1, 900, ["committed", "fulfilled"]),
    ("DEMO-ORDER-3", "web", "MAN-MKT", 1, 900, ["committed", "cancelled"]),
    ("DEMO-CART-ABANDONED", "web", "MAN-MKT", 1, 900, ["released"]),
    # Lapses a second after it is placed; no sweep runs in the demo, and availability
    # ignores it all the same.
    ("DEMO-CART-LAPSED", "app", "LON-OXF", 1, 1, []),
]


def demo_holds_build() -> int:
    """Checkout holds in every state, placed through the reservation service; each
    placed once (a hold already there is left as it is). Returns how many are new."""
    channels = channels_by_code(codes={row[1] for row in HOLDS})
    placed = 0
    for reference, channel_code, store, line_count, ttl, steps in HOLDS:
        channel = channels[channel_code]
        if Reservation.objects.filter(channel=channel, reference=reference).exists():
            continue
        lines = _demo_cart(channel, store, line_count, skip=placed * 2)
        reservation, _ = reservation_place(
            channel=channel,
            reference=reference,
            lines=lines,
            ttl_seconds=ttl,
            actor=DEMO,
        )
        for status in steps:
            reservation_transition(
                reservation_id=reservation.pk, to_status=status, actor=DEMO
            )
        placed += 1
    _demo_refused_checkout(channels["web"])
    return placed


def _demo_refused_checkout(channel) -> None:
    """A shopper asks the web shop for more of an item than Oxford Street can
    promise: refused, nothing held, and the demand kept (the managers' dashboard
    counts it as sales lost). The same reference again is the same demand."""
    balances = balance_queryset(
        locations=list(locations_by_code(codes={"LON-OXF"}).values())
    )
    rows = availability_rows_for_balances(balances=list(balances), channel=channel)
    short = next((row for row in rows if 0 < row.available_to_promise < 5), None)
    if short is None:
        return
    try:
        reservation_place(
            channel=channel,
            reference="DEMO-CART-TOO-MANY",
            lines=[ReservationLineInput(short.sku, short.location, 6)],
            actor=DEMO,
        )
    except InsufficientStock:
        pass  # refused, as it should be: the refusal is what the demo shows


def _demo_cart(channel, store: str, count: int, skip: int) -> list:
    """``count`` SKUs the channel can promise two of at ``store``, one unit each,
    different for each cart."""
    balances = balance_queryset(
        locations=list(locations_by_code(codes={store}).values())
    )
    rows = availability_rows_for_balances(balances=list(balances), channel=channel)
    promisable = [row for row in rows if row.available_to_promise >= 2]
    chosen = promisable[skip : skip + count]
    return [ReservationLineInput(row.sku, row.location, 1) for row in chosen]


def demo_sku_code(style: Style, colour: str, size: str) -> str:
    return f"{style.code}-{colour.upper()[:3]}-{size}"


def demo_sku_codes() -> list[str]:
    return [
        demo_sku_code(style, colour, size)
        for style in STYLES
        for colour, size in cartesian(style.colours, style.sizes)
    ]


def _demo_anchor(wms) -> datetime | None:
    first = movement_queryset().filter(channel=wms, reference__startswith="DEMO-RCPT-")
    earliest = first.order_by("occurred_at").values_list("occurred_at", flat=True)[:1]
    return earliest[0] - timedelta(hours=1) if earliest else None
