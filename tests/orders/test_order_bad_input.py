"""Bad orders are refused with field messages, and leave nothing behind."""

import pytest

from inventory.models import StockBalance, StockMovement
from orders.models import Order, OrderEvent
from tests.factories import Holds
from tests.orders.conftest import stock, web_order

LINE = {"sku": "TEE-BLK-M", "quantity": 1}

BAD_ORDERS = {
    "no lines nor reservation": (web_order(), "lines"),
    "an unknown SKU": (web_order(lines=[{"sku": "NOPE", "quantity": 1}]), "lines"),
    "an unknown location": (
        web_order(lines=[{**LINE, "location": "NOWHERE"}]),
        "lines",
    ),
    "a quantity of zero": (web_order(lines=[{**LINE, "quantity": 0}]), "lines"),
    "a quantity as text": (web_order(lines=[{**LINE, "quantity": "2"}]), "lines"),
    "the same SKU twice": (web_order(lines=[LINE, LINE]), "lines"),
    "an unknown field": ({**web_order(lines=[LINE]), "gift_wrap": True}, "gift_wrap"),
    "an unknown method": (web_order(lines=[LINE], method="drone"), "fulfilment_method"),
    "a pickup without a store": (
        web_order(lines=[LINE], method="pickup"),
        "pickup_location",
    ),
    "a pickup at a warehouse": (
        web_order(lines=[LINE], method="pickup", pickup_location="DC-NORTH"),
        "pickup_location",
    ),
    "a shipped order with a pickup store": (
        web_order(lines=[LINE], pickup_location="LON-OXF"),
        "pickup_location",
    ),
    "a reference kept for the system": (
        web_order("#order/1", lines=[LINE]),
        "reference",
    ),
    "no customer name": (
        {**web_order(lines=[LINE]), "customer": {"email": "a@b.c"}},
        "customer",
    ),
    "a bad email": (
        {**web_order(lines=[LINE]), "customer": {"name": "A", "email": "not-mail"}},
        "customer",
    ),
    "a latitude without longitude": (
        web_order(lines=[LINE], delivery_address={"latitude": 51.5}),
        "delivery_address",
    ),
    "an unknown channel": ({**web_order(lines=[LINE]), "channel": "fax"}, "channel"),
    "some lines located and some not": (
        web_order(
            lines=[
                {**LINE, "location": "DC-NORTH"},
                {"sku": "HOOD-GRE-L", "quantity": 1},
            ]
        ),
        "lines",
    ),
}


@pytest.mark.parametrize("body, field", BAD_ORDERS.values(), ids=BAD_ORDERS)
def test_a_bad_order_is_a_400_naming_its_field_and_writes_nothing(
    api, network, body, field
):
    stock(network["tee"], network["dc"], 5)
    stock(network["hoodie"], network["dc"], 5)
    entries = StockMovement.objects.count()
    balances = list(StockBalance.objects.values_list("committed", "reserved"))

    answer = api.post("/api/v1/orders/", body, format="json")

    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert StockMovement.objects.count() == entries
    assert list(StockBalance.objects.values_list("committed", "reserved")) == balances


def test_a_reservation_and_lines_together_are_refused(api, network):
    stock(network["tee"], network["oxford_st"], 2)
    hold = Holds.place(
        channel=network["web"], lines=[(network["tee"], network["oxford_st"], 1)]
    )

    answer = api.post(
        "/api/v1/orders/", web_order(reservation=hold.pk, lines=[LINE]), format="json"
    )

    assert answer.status_code == 400
    assert "lines" in answer.json()
    hold.refresh_from_db()
    assert hold.status == "active"


BAD_ACTIONS = {
    "cancel without a reason": ("cancel", {}, "reason"),
    "an unknown line": (
        "cancel",
        {"reason": "x", "lines": [{"line": 999999}]},
        "lines",
    ),
    "more than the line holds": (
        "ship",
        {"lines": [{"line": "LINE", "quantity": 5}]},
        "lines",
    ),
    "a line named twice": (
        "pick",
        {"lines": [{"line": "LINE"}, {"line": "LINE"}]},
        "lines",
    ),
    "an empty list of lines": ("pick", {"lines": []}, "lines"),
}


@pytest.mark.parametrize("verb, body, field", BAD_ACTIONS.values(), ids=BAD_ACTIONS)
def test_a_bad_request_on_an_order_is_a_400_and_moves_nothing(
    api, network, verb, body, field
):
    stock(network["tee"], network["dc"], 5)
    order = api.post(
        "/api/v1/orders/", web_order(lines=[{**LINE, "quantity": 2}]), format="json"
    ).json()
    line = order["lines"][0]["id"]
    named = [
        {**asked, "line": line} if asked["line"] == "LINE" else asked
        for asked in body.get("lines", [])
    ]
    if "lines" in body:
        body = {**body, "lines": named}
    entries = StockMovement.objects.count()

    answer = api.post(f"/api/v1/orders/{order['id']}/{verb}/", body, format="json")

    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert StockMovement.objects.count() == entries
    assert len(api.get(f"/api/v1/orders/{order['id']}/").json()["timeline"]) == 3
