"""Support reads an order and its timeline in the back-office; a manager confirms a
put-away there, through the same service as the API."""

import pytest
from django.contrib.auth import get_user_model

from orders.models import ReturnToStockTask
from tests.factories import balance_of
from tests.orders.conftest import stock, web_order


@pytest.fixture
def manager(client):
    user = get_user_model().objects.create_superuser("manager", password="pw-123456!")
    client.force_login(user)
    return client


def test_an_order_and_a_put_away_in_the_back_office(api, network, manager):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 1)
    order = api.post(
        "/api/v1/orders/",
        web_order(
            method="pickup",
            pickup_location="LON-OXF",
            lines=[{"sku": "TEE-BLK-M", "quantity": 1}],
        ),
        format="json",
    ).json()
    api.post(f"/api/v1/orders/{order['id']}/pick/", {}, format="json")
    api.post(
        f"/api/v1/orders/{order['id']}/cancel/", {"reason": "No-show"}, format="json"
    )
    task = ReturnToStockTask.objects.get()

    page = manager.get(f"/admin/orders/order/{order['id']}/change/")
    assert page.status_code == 200
    assert b"No-show" in page.content
    assert manager.get("/admin/orders/order/").status_code == 200
    confirmed = manager.post(
        "/admin/orders/returntostocktask/",
        {"action": "confirm_put_away", "_selected_action": [task.pk]},
    )

    assert confirmed.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.put_away_by) == ("put_away", "user:manager")
    assert balance_of(tee, store).available == 1
