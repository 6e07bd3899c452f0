"""Deliveries that race: real threads, each with its own database connection."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inventory.models import StockConflict, StockMovement
from inventory.services import balances_rebuild
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
)
from tests.threads import all_at_once, every_row_slowed

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/movements/"


@pytest.fixture
def shop():
    return {
        "store": LocationFactory(code="LON-OXF"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
        "web": ChannelFactory(code="web", kind="web"),
        "token": ApiTokenFactory.issue(name="pos-gateway")[1],
    }


def test_a_sale_delivered_eight_times_at_once_is_recorded_once(shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=5)
    sale = {
        "reference": "TILL-7-0042",
        "type": "sale",
        "sku": "TEE-BLK-M",
        "location": "LON-OXF",
        "quantity": 1,
        "occurred_at": (timezone.now() - timedelta(seconds=30)).isoformat(),
        "channel": "pos",
    }
    statuses = all_at_once(
        8,
        lambda n: client_for(shop["token"]).post(URL, sale, format="json").status_code,
    )
    assert Counter(statuses) == {201: 1, 200: 7}
    assert StockMovement.objects.filter(reference="TILL-7-0042").count() == 1
    assert balance_of(shop["tee"], shop["store"]).on_hand == 4


def test_batches_overlapping_in_both_orders_record_each_event_once(shop):
    """Two gateways replay the same sales in opposite orders: no deadlock, no double."""
    skus = [SkuFactory(code=f"S-{n}") for n in range(10)]
    at = (timezone.now() - timedelta(minutes=1)).isoformat()
    sales = [
        {
            "reference": f"R-{sku.code}", "type": "receipt", "sku": sku.code,
            "location": "LON-OXF", "quantity": 3, "occurred_at": at, "channel": "pos",
        }
        for sku in skus
    ]  # fmt: skip

    def replay(n: int):
        batch = sales if n % 2 else list(reversed(sales))
        response = client_for(shop["token"]).post(URL, batch, format="json")
        return response.status_code, [
            line["status"] for line in response.json()["results"]
        ]

    answers = all_at_once(6, replay)
    assert {status for status, _ in answers} == {200}
    created = Counter(line for _, lines in answers for line in lines)
    assert created == {"created": 10, "duplicate": 50}
    for sku in skus:
        assert balance_of(sku, shop["store"]).on_hand == 3


def test_two_customers_reserving_the_final_unit_at_once_one_wins(shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=1)

    def reserve(n: int) -> str:
        return StockEvents.post(
            "reserve", sku=shop["tee"], location=shop["store"], quantity=1,
            channel=shop["web"], reference=f"CHECKOUT-{n}",
        ).outcome  # fmt: skip

    outcomes = all_at_once(6, reserve)
    assert Counter(outcomes) == {"created": 1, "refused": 5}
    stock = balance_of(shop["tee"], shop["store"])
    assert (stock.reserved, stock.available) == (1, 0)


def test_two_tills_selling_the_final_unit_at_once_are_both_recorded(shop):
    """Physical facts are never refused: the second sale is kept and flagged."""
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=1)

    def sell(n: int) -> str:
        return StockEvents.post(
            "sale", sku=shop["tee"], location=shop["store"], quantity=1,
            channel=shop["pos"], reference=f"TILL-{n}",
        ).movement.status  # fmt: skip

    assert all_at_once(2, sell) == ["applied", "applied"]
    assert balance_of(shop["tee"], shop["store"]).on_hand == -1
    conflict = StockConflict.objects.get()
    assert conflict.shortfall == 1


def receipt_line(reference: str, sku: str, location: str, channel: str) -> dict:
    return {
        "reference": reference, "type": "receipt", "sku": sku, "location": location,
        "quantity": 1, "occurred_at": timezone.now().isoformat(), "channel": channel,
    }  # fmt: skip


@pytest.fixture
def two_stores(shop):
    LocationFactory(code="MAN-MKT")
    SkuFactory(code="HOOD-GRE-L")
    ChannelFactory(code="wms", kind="back_office")
    return shop


def test_two_stores_tills_reporting_in_crossed_order_do_not_deadlock(two_stores):
    batches = [
        [
            receipt_line("A-1", "TEE-BLK-M", "LON-OXF", "pos"),
            receipt_line("A-2", "TEE-BLK-M", "MAN-MKT", "pos"),
        ],
        [
            receipt_line("B-1", "HOOD-GRE-L", "MAN-MKT", "pos"),
            receipt_line("B-2", "HOOD-GRE-L", "LON-OXF", "pos"),
        ],
    ]
    token = two_stores["token"]
    with every_row_slowed("inventory_location", "UPDATE"):
        statuses = all_at_once(
            2,
            lambda n: (
                client_for(token).post(URL, batches[n], format="json").status_code
            ),
        )
    assert statuses == [200, 200]
    assert StockMovement.objects.count() == 4


def test_batches_sharing_references_in_crossed_order_do_not_deadlock(two_stores):
    """Each reference ends as one entry; the other batch hears of the clash."""
    batches = [
        [
            receipt_line("X-1", "TEE-BLK-M", "LON-OXF", "wms"),
            receipt_line("X-2", "TEE-BLK-M", "MAN-MKT", "wms"),
        ],
        [
            receipt_line("X-2", "HOOD-GRE-L", "LON-OXF", "wms"),
            receipt_line("X-1", "HOOD-GRE-L", "MAN-MKT", "wms"),
        ],
    ]
    token = two_stores["token"]

    def send(n: int):
        response = client_for(token).post(URL, batches[n], format="json")
        return response.status_code, [
            line["status"] for line in response.json()["results"]
        ]

    with every_row_slowed("inventory_stockmovement", "INSERT"):
        answers = all_at_once(2, send)
    assert [status for status, _ in answers] == [200, 200]
    assert Counter(line for _, lines in answers for line in lines) == {
        "created": 2,
        "rejected": 2,
    }
    assert StockMovement.objects.count() == 2


def test_a_movement_posted_during_a_rebuild_does_not_wait_for_it(shop, monkeypatch):
    """The rebuild compares one moment's picture and stops no posting: a receipt
    arriving once it has begun (for a balance that does not exist yet) lands at
    once, and is no difference (tests/inventory/test_rebuild_while_stock_moves.py
    has postings between the comparison and the repair)."""
    from inventory.services import rebuild

    compare = rebuild._balances_from_ledger
    poster: list[threading.Thread] = []

    def a_receipt_arrives_then_compare():
        def post() -> None:
            try:
                StockEvents.post(
                    "receipt", sku=shop["tee"], location=shop["store"], quantity=5
                )
            finally:
                connection.close()

        poster.append(threading.Thread(target=post))
        poster[0].start()
        poster[0].join(timeout=10)
        assert not poster[0].is_alive(), "the receipt waited for the rebuild"
        return compare()

    monkeypatch.setattr(
        rebuild, "_balances_from_ledger", a_receipt_arrives_then_compare
    )
    assert balances_rebuild() == []
    assert balance_of(shop["tee"], shop["store"]).on_hand == 5
    monkeypatch.undo()
    assert balances_rebuild() == []
