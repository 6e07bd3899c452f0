"""A store team for pickup stories: Oxford Street with two pickers, Camden with one,
a manager over every store, and pickup orders placed as the web shop places them."""

from datetime import time
from decimal import Decimal

import pytest

from inventory.models import MovementType
from orders import services as orders
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StaffFactory,
    StockEvents,
)


@pytest.fixture
def shop(db):
    def store(code, name, lat, lon):
        return LocationFactory(
            code=code,
            name=name,
            latitude=Decimal(str(lat)),
            longitude=Decimal(str(lon)),
            pickup_enabled=True,
            ship_from_store_enabled=True,
            opens_at=time(0, 0),
            pickup_cutoff=time(23, 59),
            pickup_preparation_minutes=60,
        )

    oxford = store("LON-OXF", "Oxford Street", 51.5154, -0.1420)
    camden = store("LON-CAM", "Camden", 51.5390, -0.1426)
    return {
        "oxford": oxford,
        "camden": camden,
        "tee": SkuFactory(
            code="TEE-BLK-M", name="Tee black M", barcode="5012345678900"
        ),
        "hoodie": SkuFactory(code="HOOD-GRE-L", name="Hoodie green L"),
        "polo": SkuFactory(code="POLO-BLU-M", name="Polo blue M"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
        "alice": StaffFactory.at(oxford, username="alice", first_name="Alice"),
        "bob": StaffFactory.at(oxford, username="bob", first_name="Bob"),
        "carol": StaffFactory.at(camden, username="carol", first_name="Carol"),
        "maria": StaffFactory.at(username="maria", first_name="Maria", manager=True),
    }


def stock(sku, location, quantity):
    StockEvents.post(
        MovementType.RECEIPT, sku=sku, location=location, quantity=quantity
    )


def pickup_order(shop, reference="WEB-2001", lines=None, store=None, **customer):
    """A click-and-collect order from the web shop, as the order API places it."""
    store = store or shop["oxford"]
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="pickup",
        customer=orders.Customer(
            name=customer.get("name", "Ada Byron"),
            email=customer.get("email", "ada@example.com"),
        ),
        who=orders.Who(actor="token:web-shop", source="web"),
        lines=[
            orders.OrderLineInput(sku=sku, quantity=quantity)
            for sku, quantity in (lines or [(shop["tee"], 1)])
        ],
        pickup_location=store,
    )
    return order
