"""Two shoppers press "buy" on the last unit at the same moment: one order wins."""

import pytest
from rest_framework.test import APIClient

from inventory.models import StockMovement
from orders.models import Order
from tests.factories import ApiTokenFactory, balance_of
from tests.orders.conftest import stock, web_order
from tests.threads import all_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("method", ["ship", "pickup"])
def test_two_orders_for_the_last_unit_one_wins(network, method):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 1)
    _, raw = ApiTokenFactory.issue(name="web-shop")
    extra = {"pickup_location": "LON-OXF"} if method == "pickup" else {}

    def buy(n):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        return client.post(
            "/api/v1/orders/",
            web_order(
                f"WEB-{n}",
                method=method,
                lines=[{"sku": "TEE-BLK-M", "quantity": 1}],
                **extra,
            ),
            format="json",
        )

    answers = all_at_once(2, buy)

    assert sorted(a.status_code for a in answers) == [201, 409]
    assert [a.json()["code"] for a in answers if a.status_code == 409] == [
        "insufficient_stock"
    ]
    assert Order.objects.count() == 1
    balance = balance_of(tee, store)
    assert (balance.committed, balance.available) == (1, 0)


def test_the_same_order_sent_twice_at_once_is_placed_once(network):
    stock(network["tee"], network["dc"], 5)
    _, raw = ApiTokenFactory.issue(name="web-shop")
    body = web_order("WEB-TWIN", lines=[{"sku": "TEE-BLK-M", "quantity": 2}])

    def send(n):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        return client.post("/api/v1/orders/", body, format="json")

    answers = all_at_once(4, send)

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert balance_of(network["tee"], network["dc"]).committed == 2
    assert StockMovement.objects.filter(type="commit").count() == 1
