"""Buyers who press the button at the same moment: real threads, each on its own
database connection, against PostgreSQL."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation, StockMovement
from inventory.services import balances_rebuild, reservations_expire
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
)
from tests.threads import all_at_once, every_row_slowed

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/reservations/"


@pytest.fixture
def flash_sale():
    return {
        "store": LocationFactory(code="LON-OXF"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "hoodie": SkuFactory(code="HOOD-GRE-L"),
        "web": ChannelFactory(code="web", kind="web"),
        "token": ApiTokenFactory.issue(name="web-checkout", channel_code="web")[1],
    }


def stock(shop, sku, quantity):
    StockEvents.post(
        "receipt", sku=shop[sku], location=shop["store"], quantity=quantity
    )


def buy(token, reference, lines):
    body = {
        "reference": reference,
        "lines": [
            {"sku": sku, "location": "LON-OXF", "quantity": quantity}
            for sku, quantity in lines
        ],
    }
    return client_for(token).post(URL, body, format="json").status_code


def test_twenty_buyers_for_the_last_unit_one_wins(flash_sale):
    stock(flash_sale, "tee", 1)
    statuses = all_at_once(
        20, lambda n: buy(flash_sale["token"], f"CART-{n}", [("TEE-BLK-M", 1)])
    )
    assert Counter(statuses) == {201: 1, 409: 19}
    tee = balance_of(flash_sale["tee"], flash_sale["store"])
    assert (tee.reserved, tee.available) == (1, 0)
    assert StockMovement.objects.filter(type="reserve").count() == 1


def test_sixteen_buyers_of_five_share_twenty_five_units_exactly(flash_sale):
    stock(flash_sale, "tee", 25)
    statuses = all_at_once(
        16, lambda n: buy(flash_sale["token"], f"CART-{n}", [("TEE-BLK-M", 5)])
    )
    assert Counter(statuses) == {201: 5, 409: 11}
    tee = balance_of(flash_sale["tee"], flash_sale["store"])
    assert (tee.reserved, tee.available) == (25, 0)
    assert balances_rebuild(repair=False) == []


def test_carts_naming_the_same_skus_in_opposite_orders_never_deadlock(flash_sale):
    stock(flash_sale, "tee", 5)
    stock(flash_sale, "hoodie", 5)
    orders = (
        [("TEE-BLK-M", 1), ("HOOD-GRE-L", 1)],
        [("HOOD-GRE-L", 1), ("TEE-BLK-M", 1)],
    )
    # Slow line inserts so every cart reaches the stock at the same moment.
    with every_row_slowed("inventory_reservationline", "INSERT"):
        statuses = all_at_once(
            12, lambda n: buy(flash_sale["token"], f"CART-{n}", orders[n % 2])
        )
    assert Counter(statuses) == {201: 5, 409: 7}
    for sku in ("tee", "hoodie"):
        balance = balance_of(flash_sale[sku], flash_sale["store"])
        assert (balance.reserved, balance.available) == (5, 0)


def test_a_release_sent_eight_times_at_once_releases_once(flash_sale):
    stock(flash_sale, "tee", 3)
    held = Holds.place(
        channel=flash_sale["web"], lines=[(flash_sale["tee"], flash_sale["store"], 2)]
    )
    token = flash_sale["token"]
    statuses = all_at_once(
        8,
        lambda n: client_for(token).post(f"{URL}{held.pk}/release/").status_code,
    )
    assert Counter(statuses) == {200: 1, 409: 7}
    assert StockMovement.objects.filter(type="reservation_release").count() == 1
    assert balance_of(flash_sale["tee"], flash_sale["store"]).available == 3


def test_sweeps_and_a_late_commit_racing_on_a_lapsed_hold_release_it_once(flash_sale):
    stock(flash_sale, "tee", 3)
    held = Holds.place(
        channel=flash_sale["web"], lines=[(flash_sale["tee"], flash_sale["store"], 2)]
    )
    Reservation.objects.filter(pk=held.pk).update(
        expires_at=timezone.now() - timedelta(seconds=5)
    )
    token = flash_sale["token"]

    def sweep_or_commit(n):
        if n == 0:
            return client_for(token).post(f"{URL}{held.pk}/commit/").status_code
        return reservations_expire()

    results = all_at_once(4, sweep_or_commit)
    assert results[0] == 409
    held.refresh_from_db()
    assert held.status == Reservation.Status.EXPIRED
    assert StockMovement.objects.filter(type="reservation_release").count() == 1
    tee = balance_of(flash_sale["tee"], flash_sale["store"])
    assert (tee.reserved, tee.committed, tee.available) == (0, 0, 3)
