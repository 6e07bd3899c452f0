"""Demand turned away for lack of stock is kept (RefusedDemand), so a manager sees the
sales lost: a checkout hold refused, an order refused at its pickup store, an order
no location could fill; the same refusal sent again is counted once."""

import pytest

from inventory.models import RefusedDemand

from .conftest import stock, web_order


def refusals():
    return sorted(
        (
            r.kind,
            r.reference,
            r.sku.code,
            r.location.code if r.location else None,
            r.requested,
            r.available,
            r.units_lost,
        )
        for r in RefusedDemand.objects.select_related("sku", "location")
    )


@pytest.mark.sqlite_too
def test_a_checkout_refused_for_lack_of_stock_is_kept_once(api, network):
    stock(network["tee"], network["oxford_st"], 1)
    cart = {
        "reference": "CART-9",
        "channel": "web",
        "lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 3}],
    }
    assert api.post("/api/v1/reservations/", cart, format="json").status_code == 409
    # The shopper's browser sends it again: the same demand, not twice as much.
    assert api.post("/api/v1/reservations/", cart, format="json").status_code == 409

    assert refusals() == [("hold", "CART-9", "TEE-BLK-M", "LON-OXF", 3, 1, 2)]


def test_orders_refused_at_a_store_or_anywhere_are_kept(api, network):
    stock(network["tee"], network["oxford_st"], 1)
    at_store = web_order(
        "WEB-9001",
        method="pickup",
        pickup_location="LON-OXF",
        lines=[{"sku": "TEE-BLK-M", "quantity": 2}],
    )
    assert api.post("/api/v1/orders/", at_store, format="json").status_code == 409
    anywhere = web_order("WEB-9002", lines=[{"sku": "HOOD-GRE-L", "quantity": 4}])
    assert api.post("/api/v1/orders/", anywhere, format="json").status_code == 409

    assert refusals() == [
        ("order", "WEB-9001", "TEE-BLK-M", "LON-OXF", 2, 1, 1),
        ("order", "WEB-9002", "HOOD-GRE-L", None, 4, 0, 4),
    ]


def test_an_order_that_fits_records_nothing(api, network):
    stock(network["tee"], network["oxford_st"], 3)
    placed = web_order("WEB-9003", lines=[{"sku": "TEE-BLK-M", "quantity": 2}])
    assert api.post("/api/v1/orders/", placed, format="json").status_code == 201
    assert not RefusedDemand.objects.exists()
