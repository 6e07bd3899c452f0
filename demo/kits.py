"""The demo's kits: an outfit (a black T-shirt with indigo jeans) and a three-pack of
white T-shirts, sold as one SKU each while the shelves hold the parts; a web
checkout holding an outfit at Oxford Street and a click-and-collect order of a
three-pack there. What ``GET /api/v1/availability/?sku=OUTFIT-BLA-M-32`` answers,
and what the pickup screen shows as a kit's parts.

Through the catalogue, the reservation and the order services like the rest of the
demo: running again defines nothing anew and places nothing twice."""

from dataclasses import dataclass

from catalog.selectors import channels_by_code, skus_by_code
from catalog.services import sku_upsert
from inventory.errors import InsufficientStock
from inventory.models import Reservation
from inventory.selectors import locations_by_code
from inventory.services import ReservationLineInput, reservation_place
from orders import services as orders
from orders.models import Order

from .network import DEMO, WEB_SHOP, demo_gtin

# (kit, name, its own barcode's item number, [(component, units per kit)]): a kit
# carries a barcode of its own, far above the articles' numbers (demo.network).
KITS = [
    (
        "OUTFIT-BLA-M-32",
        "Outfit: black T-shirt M with indigo jeans 32",
        90001,
        [("TEE-BLA-M", 1), ("JEAN-IND-32", 1)],
    ),
    ("TEE-3PACK-WHI-M", "Three white T-shirts, M", 90002, [("TEE-WHI-M", 3)]),
]
KIT_CART = "DEMO-KIT-CART"
KIT_ORDER = "DEMO-KIT-ORDER-1"


@dataclass(frozen=True)
class DemoKits:
    kits: int
    holds: int
    orders: int


def demo_kits_build() -> DemoKits:
    """The kits defined, a web checkout holding one outfit at LON-OXF and a
    click-and-collect order of a three-pack there (each placed once; skipped if the
    shelf cannot cover it)."""
    skus = skus_by_code(codes={code for *_, parts in KITS for code, _ in parts})
    for code, name, item_number, parts in KITS:
        sku_upsert(
            code=code,
            name=name,
            barcode=demo_gtin(item_number),
            components=[(skus[part], units) for part, units in parts],
        )
    web = channels_by_code(codes={"web"})["web"]
    held = 0
    if not Reservation.objects.filter(channel=web, reference=KIT_CART).exists():
        outfit = skus_by_code(codes={"OUTFIT-BLA-M-32"})["OUTFIT-BLA-M-32"]
        store = locations_by_code(codes={"LON-OXF"})["LON-OXF"]
        try:
            reservation_place(
                channel=web,
                reference=KIT_CART,
                lines=[ReservationLineInput(outfit, store, 1)],
                ttl_seconds=24 * 3600,
                actor=DEMO,
            )
            held = 1
        except InsufficientStock:
            pass  # the shelf cannot cover it today: the demo holds no outfit
    return DemoKits(kits=len(KITS), holds=held, orders=_kit_order(web))


def _kit_order(web) -> int:
    """Sam's pickup queue shows the three-pack's T-shirts as parts of one kit."""
    if Order.objects.filter(channel=web, reference=KIT_ORDER).exists():
        return 0
    pack = skus_by_code(codes={"TEE-3PACK-WHI-M"})["TEE-3PACK-WHI-M"]
    store = locations_by_code(codes={"LON-OXF"})["LON-OXF"]
    try:
        orders.order_place(
            channel=web,
            reference=KIT_ORDER,
            method="pickup",
            pickup_location=store,
            customer=orders.Customer(name="Priya Shah", email="priya.shah@example.com"),
            actor=WEB_SHOP,
            lines=[orders.OrderLineInput(sku=pack, quantity=1)],
        )
    except InsufficientStock:
        return 0  # the shelf cannot cover it today
    return 1
