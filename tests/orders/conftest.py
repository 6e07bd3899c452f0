"""A small retail network around London for order stories: three stores, a
distribution centre, a web shop, and the client an integration calls with."""

from decimal import Decimal

import pytest

from inventory.models import MovementType
from tests.factories import ChannelFactory, LocationFactory, SkuFactory, StockEvents


@pytest.fixture
def network(db):
    def place(code, kind="store", *, lat, lon, **settings):
        return LocationFactory(
            code=code,
            kind=kind,
            latitude=Decimal(str(lat)),
            longitude=Decimal(str(lon)),
            pickup_enabled=kind == "store",
            ship_from_store_enabled=kind == "store",
            **settings,
        )

    return {
        "oxford_st": place("LON-OXF", lat=51.5154, lon=-0.1420),
        "camden": place("LON-CAM", lat=51.5390, lon=-0.1426),
        "brighton": place("BRI-NST", lat=50.8225, lon=-0.1372),
        "dc": place("DC-NORTH", "distribution_centre", lat=52.4862, lon=-1.8904),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "hoodie": SkuFactory(code="HOOD-GRE-L"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
    }


def stock(sku, location, quantity):
    StockEvents.post(
        MovementType.RECEIPT, sku=sku, location=location, quantity=quantity
    )


CUSTOMER_IN_ISLINGTON = {
    "address": "1 Upper Street",
    "city": "London",
    "postal_code": "N1 0PN",
    "country": "GB",
    "latitude": 51.5362,
    "longitude": -0.1033,
}


def web_order(reference="WEB-1001", *, lines=None, method="ship", **extra):
    body = {
        "reference": reference,
        "channel": "web",
        "fulfilment_method": method,
        "customer": {
            "name": "Ada Byron",
            "email": "ada@example.com",
            "phone": "+44 20 7946 0000",
        },
        **extra,
    }
    if lines is not None:
        body["lines"] = lines
    if (
        method in ("ship", "ship_from_store", "local_delivery")
        and "delivery_address" not in extra
    ):
        body["delivery_address"] = CUSTOMER_IN_ISLINGTON
    return body
