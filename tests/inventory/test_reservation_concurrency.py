"""Buyers who press the button at the same moment: real threads, each on its own
database connection, against PostgreSQL."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.access import Actor
from inventory.models import Reservation, StockBalance, StockMovement
from inventory.services import (
    balances_rebuild,
    reservation_place_by_codes,
    reservations_expire,
)
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


def test_a_commit_queued_behind_a_new_cart_past_expiry_does_not_oversell(flash_sale):
    """Cart A's commit arrives a moment before A lapses, but waits behind cart B for
    the stock; B, served after the lapse, takes A's units. A must not commit them."""
    stock(flash_sale, "tee", 2)
    tee, store, web = flash_sale["tee"], flash_sale["store"], flash_sale["web"]
    cart_a = Holds.place(channel=web, lines=[(tee, store, 2)], ttl_seconds=1)
    stock_held, let_go = threading.Event(), threading.Event()
    answers = {}

    def busy_shelf():
        """Another writer holds the balance, as under a flash sale."""
        with transaction.atomic():
            list(StockBalance.objects.select_for_update().filter(sku=tee))
            stock_held.set()
            let_go.wait()

    def cart_b():
        answers["b"] = buy(flash_sale["token"], "CART-B", [("TEE-BLK-M", 2)])

    def commit_a():
        answers["a"] = client_for(flash_sale["token"]).post(f"{URL}{cart_a.pk}/commit/")

    def run(work):
        def body():
            try:
                work()
            finally:
                connection.close()

        thread = threading.Thread(target=body)
        thread.start()
        return thread

    threads = [run(busy_shelf)]
    stock_held.wait()
    threads.append(run(cart_b))
    time.sleep(0.3)  # B queues on the balance first...
    threads.append(run(commit_a))  # ...then A's commit, before A lapses
    time.sleep(0.3)
    while timezone.now() <= cart_a.expires_at + timedelta(milliseconds=50):
        time.sleep(0.05)
    let_go.set()
    for thread in threads:
        thread.join()

    assert answers["b"] == 201
    assert answers["a"].status_code == 409
    assert answers["a"].json()["current_status"] == "expired"
    balance = balance_of(tee, store)
    assert (balance.reserved, balance.committed, balance.available) == (2, 0, 0)


def place_through_the_service(shop):
    """The checkout's service, as the API calls it (its one fast path)."""
    return reservation_place_by_codes(
        channel_code="web",
        reference="CART-DISK",
        lines=[("TEE-BLK-M", "LON-OXF", 2)],
        actor=Actor(name="token:checkout"),
    )


def place_through_the_api(shop):
    answer = client_for(shop["token"]).post(
        URL,
        {"reference": "CART-DISK", "lines": [
            {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2},
        ]},
        format="json",
    )  # fmt: skip
    assert answer.status_code == 201
    return Reservation.objects.get(pk=answer.json()["id"])


@pytest.mark.parametrize(
    "place, procedure",
    [
        (place_through_the_service, "onestock_place_hold_by_codes_durably"),
        (place_through_the_api, "onestock_place_hold_by_codes_durably"),
    ],
)
def test_a_hold_placed_on_its_own_is_on_disk_before_the_buyer_hears_of_it(
    flash_sale, place, procedure
):
    """The hot balance is let go before the disk is waited for (promises), never the
    buyer: by the answer, the log is on disk past the hold's commit and past the
    durable commit that follows it, all from one call."""
    stock(flash_sale, "tee", 5)
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        before = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) as queries:
        hold = place(flash_sale)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_current_wal_flush_lsn()::text, "
            "pg_current_wal_flush_lsn() >= %s::pg_lsn",
            [before],
        )
        on_disk_when_answered, anything_on_disk = cursor.fetchone()
        assert anything_on_disk, "the hold was answered before any of it was on disk"
        cursor.execute(
            "SELECT xmin::text::bigint FROM inventory_reservation WHERE id = %s",
            [hold.pk],
        )
        hold_transaction = cursor.fetchone()[0]
        cursor.execute(
            "SELECT xid::text::bigint, resource_manager, record_type "
            "FROM pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn) ORDER BY start_lsn",
            [before, on_disk_when_answered],
        )
        on_disk = cursor.fetchall()
    commits = [xid for xid, manager, kind in on_disk if kind.startswith("COMMIT")]
    assert hold_transaction in commits
    durable_record = [xid for xid, manager, _ in on_disk if manager == "LogicalMessage"]
    assert durable_record and durable_record[-1] in commits
    assert commits.index(hold_transaction) < commits.index(durable_record[-1])
    calls = [
        query["sql"].split("(")[0]
        for query in queries.captured_queries
        if query["sql"].startswith("CALL")
    ]
    assert calls == [f"CALL {procedure}"]
    assert balance_of(flash_sale["tee"], flash_sale["store"]).reserved == 2
    assert Reservation.objects.get(pk=hold.pk).status == "active"


def test_a_hold_inside_a_larger_transaction_leaves_the_disk_to_its_commit(flash_sale):
    stock(flash_sale, "tee", 5)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        Holds.place(
            channel=flash_sale["web"],
            lines=[(flash_sale["tee"], flash_sale["store"], 2)],
        )
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert not any(
        "pg_logical_emit_message" in query["sql"] for query in queries.captured_queries
    )
    assert balance_of(flash_sale["tee"], flash_sale["store"]).reserved == 2
