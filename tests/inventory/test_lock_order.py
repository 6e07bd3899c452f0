"""One lock order for every write path (inventory.locking): a store's tills, the web
shop's checkouts, orders placed and shipped, transfers in, counts and the holds'
transitions all at once on the same SKUs at one store, from real threads, and
PostgreSQL reports no deadlock."""

import itertools
import random
import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from config.access import Actor
from inventory.models import Reservation
from inventory.services import (
    MovementInput,
    StaffCount,
    balances_rebuild,
    counts_post,
    movements_record,
    reservation_place_by_codes,
    reservation_transition,
    staff_channel,
)
from inventory.services.bulk_stock import OpeningStockRow, opening_stock_write
from inventory.services.transfers import (
    transfer_dispatch,
    transfer_receive,
    transfer_request,
)
from orders import services as orders
from tests.factories import ChannelFactory, Holds, LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db(transaction=True)

SKUS = 8
ROUNDS = 25


@pytest.fixture
def busy_store():
    store = LocationFactory(code="LON-OXF")
    skus = [SkuFactory(code=f"TEE-{n}") for n in range(SKUS)]
    camden = LocationFactory(code="LON-CAM")
    for sku in skus:
        stock(sku, store, 5_000)
        stock(sku, camden, 5_000)
    staff_channel()  # made once, before the desks that post from it race
    return {
        "store": store,
        "camden": camden,
        "skus": skus,
        "pos": ChannelFactory(code="pos", kind="store_pos"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
    }


def deadlocks_so_far() -> int:
    """PostgreSQL's count for this database, once every finished session's figures
    have reached it (a session flushes its statistics when it ends)."""
    seen = None
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT deadlocks FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
            (now,) = cursor.fetchone()
        if now == seen:
            return now
        seen = now
        time.sleep(1.0)


def run_together(workers) -> list[BaseException]:
    """Each worker in its own thread with its own connection, released together;
    whatever any of them raised."""
    start = threading.Barrier(len(workers))
    failures: list[BaseException] = []

    def run(work):
        try:
            start.wait()
            work()
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_tills_checkouts_orders_and_counts_at_one_store_never_deadlock(busy_store):
    """Three tills post batches of sales while web buyers hold units (the API's
    fast path and the general one), orders commit units, a manager's counts land and
    holds are committed and released, all on the same eight SKUs."""
    shop = busy_store
    store, skus = shop["store"], shop["skus"]
    references = itertools.count()
    before = deadlocks_so_far()

    def till(n):
        def work():
            draw = random.Random(n)
            for _ in range(ROUNDS):
                batch = draw.sample(skus, len(skus)) * 3
                movements_record(
                    movements=[
                        MovementInput(
                            reference=f"TILL-{n}-{next(references)}",
                            type="sale",
                            sku=sku,
                            location=store,
                            quantity=1,
                            occurred_at=timezone.now(),
                            channel=shop["pos"],
                        )
                        for sku in batch
                    ],
                    actor=Actor(name="token:pos"),
                )

        return work

    def fast_buyer(n):
        def work():
            draw = random.Random(100 + n)
            for _ in range(ROUNDS * 2):
                cart = draw.sample(skus, 2)
                placed = reservation_place_by_codes(
                    channel_code="web",
                    reference=f"CART-{n}-{next(references)}",
                    lines=[(sku.code, store.code, 1) for sku in cart],
                    actor=Actor(name="token:web"),
                )
                assert placed is not None

        return work

    def general_buyer():
        draw = random.Random(7)
        for _ in range(ROUNDS):
            cart = draw.sample(skus, 3)
            Holds.place(channel=shop["web"], lines=[(sku, store, 1) for sku in cart])

    def orders_desk():
        draw = random.Random(8)
        for _ in range(ROUNDS):
            cart = draw.sample(skus, 2)
            orders.order_place(
                channel=shop["web"],
                reference=f"WEB-{next(references)}",
                method="ship",
                customer=orders.Customer(name="Ada Byron"),
                actor=Actor(name="token:web-shop", source="web"),
                lines=[
                    orders.OrderLineInput(sku=sku, quantity=1, location=store)
                    for sku in cart
                ],
            )

    def shipping_desk():
        """Orders shipped from the store with one line picked and one not: the
        picked units leave from the hold area, the others from the shelf, two
        batches in one request."""
        actor = Actor(name="token:web-shop", source="web")
        draw = random.Random(10)
        for _ in range(ROUNDS // 2):
            cart = sorted(draw.sample(skus, 2), key=lambda sku: -sku.pk)
            order, _ = orders.order_place(
                channel=shop["web"],
                reference=f"SHIP-{next(references)}",
                method="ship",
                customer=orders.Customer(name="Ada Byron"),
                actor=actor,
                lines=[
                    orders.OrderLineInput(sku=sku, quantity=1, location=store)
                    for sku in cart
                ],
            )
            first = order.lines.order_by("pk").first()
            orders.order_pick(
                order_id=order.pk,
                lines=[orders.LineQuantity(line_id=first.pk)],
                actor=actor,
            )
            orders.order_ship(order_id=order.pk, lines=None, actor=actor)

    def transfers_desk():
        """Units sent from Camden to the store and received there."""
        draw = random.Random(11)
        for _ in range(ROUNDS // 2):
            transfer = transfer_request(
                sku=draw.choice(skus),
                quantity=1,
                from_location=shop["camden"],
                to_location=store,
                channel=shop["web"],
                reason="stock for the store",
                actor=Actor(name="user:manager"),
            )
            transfer_dispatch(transfer_id=transfer.pk, actor=Actor(name="user:camden"))
            transfer_receive(transfer_id=transfer.pk, actor=Actor(name="user:oxford"))

    def manager_counting():
        draw = random.Random(9)
        for _ in range(ROUNDS // 2):
            counts_post(
                location=store,
                counts=[
                    StaffCount(
                        sku=sku,
                        counted=4_000,
                        occurred_at=timezone.now(),
                        reference=f"COUNT-{next(references)}",
                    )
                    for sku in draw.sample(skus, 4)
                ],
                reason="cycle count",
                actor=Actor(name="user:manager"),
            )

    def opening_stock_file():
        """A file's opening stock for the store's SKUs, a page at a time: every row
        has history there (left out), but each page locks their balances to check
        that again, set-based, in the one order."""
        channel = staff_channel()
        for turn in range(ROUNDS // 2):
            written = opening_stock_write(
                rows=[
                    OpeningStockRow(line, sku.pk, store.pk, 5, sku.code, store.code)
                    for line, sku in enumerate(reversed(skus), start=2)
                ],
                reference_prefix=f"import:lock-order-{turn}:",
                channel=channel,
                occurred_at=timezone.now(),
                actor=Actor(name="user:stock-controller"),
            )
            assert (written.written, len(written.refused)) == (0, len(skus))

    def checkout_desk():
        """Commits and releases the holds placed so far, as the web shop does."""
        for turn in range(ROUNDS * 2):
            held = list(
                Reservation.objects.filter(status="active")
                .order_by("?")
                .values_list("pk", flat=True)[:2]
            )
            for pk in held:
                try:
                    reservation_transition(
                        reservation_id=pk,
                        to_status="committed" if turn % 2 else "released",
                        actor=Actor(name="token:web"),
                    )
                except Exception as refused:  # noqa: BLE001
                    # Another desk moved it first: a refusal, never a deadlock.
                    assert getattr(refused, "code", "") == (
                        "reservation_transition_refused"
                    ), refused

    failures = run_together(
        [till(n) for n in range(3)]
        + [fast_buyer(n) for n in range(3)]
        + [general_buyer, orders_desk, shipping_desk, transfers_desk]
        + [manager_counting, checkout_desk, opening_stock_file]
    )

    assert failures == []
    assert deadlocks_so_far() == before
    assert balances_rebuild(repair=False) == []


APPS = (
    "catalog", "config", "demo", "imports", "integrations", "inventory", "orders",
    "pickup", "reconciliation", "returns", "simulation", "sync",
)  # fmt: skip


def test_no_write_path_locks_a_row_for_update():
    """Every row lock is FOR NO KEY UPDATE: a FOR UPDATE lock waits for, and blocks,
    the key-share lock of every foreign-key check on the row (inventory.locking)."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for app in APPS:
        for path in sorted((root / app).rglob("*")):
            if path.suffix not in (".py", ".sql") or "migrations" in path.parts:
                continue
            text = path.read_text()
            # An ORM lock, its arguments over however many lines they are written.
            for call in re.finditer(r"\.select_for_update\(([^)]*)\)", text):
                if "no_key=True" not in call.group(1):
                    offenders.append(f"{path.relative_to(root)}: {call.group(0)}")
            # SQL: a line of a statement (not prose about it) asking FOR UPDATE.
            for line in text.splitlines():
                if re.match(r"\s*(FOR UPDATE|.*\bFOR UPDATE OF)\b", line):
                    offenders.append(f"{path.relative_to(root)}: {line.strip()}")
    assert offenders == []
