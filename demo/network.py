"""A generated demo retail network: stores, a warehouse, a distribution centre, a
clothing catalogue and the four sales channels. Every write goes through the apps'
services, so the demo exercises the same paths as an integration; running it again
updates the same records instead of duplicating them."""

from dataclasses import dataclass
from decimal import Decimal
from itertools import product as cartesian

from catalog.gtin import gtin_check_digit
from catalog.services import channel_upsert, product_upsert, sku_upsert
from inventory.services import location_upsert

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
                code=f"{style.code}-{colour.upper()[:3]}-{size}",
                name=f"{style.name}, {colour}, {size}",
                product=style_product,
                barcode=demo_gtin(item_number),
                attributes={"colour": colour, "size": size},
            )
    return DemoNetwork(
        locations=len(LOCATIONS),
        channels=len(CHANNELS),
        products=len(STYLES),
        skus=item_number,
    )
