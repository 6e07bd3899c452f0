"""A short at packing takes its locks in the one lock order (inventory.locking): the
balances at the short location and at the re-route's target together, before
anything else on the stock, and the *item not found* case after them.

The shop floor: Oxford Street and Camden, both shipping; the web shop's customer in
Islington."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.access import Actor
from inventory.models import StockBalance
from orders import services as orders
from orders.models import PackingProblem
from orders.services.packing import packing_report_short
from orders.signals import order_short_reported
from reconciliation.models import ExceptionCase
from tests.factories import balance_of, stock
from tests.threads import all_at_once

WEB_SHOP = Actor(name="token:web-shop", source="web")
ISLINGTON = orders.Delivery(
    address="1 Upper Street", city="London", postal_code="N1 0PN",
    country="GB", latitude=51.5362, longitude=-0.1033,
)  # fmt: skip


def shipped_from(shop, store, reference):
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(name="Ada Byron"),
        actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=shop["tee"], quantity=1, location=store)],
        delivery=ISLINGTON,
    )
    return order


def two_stores_each_with_a_spare_tee(shop):
    """Each store has two tees, one of them for its own order: the other store's
    short tee can come from it."""
    stock(shop["tee"], shop["oxford"], 2)
    stock(shop["tee"], shop["camden"], 2)
    return (
        shipped_from(shop, shop["oxford"], "WEB-8001"),
        shipped_from(shop, shop["camden"], "WEB-8002"),
    )


@pytest.mark.django_db
def test_the_report_locks_both_balances_at_once_and_its_case_last(shop):
    """Alice cannot find WEB-8001's tee at Oxford Street; Camden sends it. The tee's
    balances at Oxford Street and at Camden are locked in one statement, before the
    stock moves, and the case opens after every balance lock."""
    first, _ = two_stores_each_with_a_spare_tee(shop)
    balances = StockBalance._meta.db_table
    cases = ExceptionCase._meta.db_table
    with CaptureQueriesContext(connection) as seen:
        problem = packing_report_short(
            order_id=first.pk,
            line_id=first.lines.get().pk,
            quantity=1,
            condition="not_found",
            actor=Actor.of_user(shop["alice"], source="store"),
        )
    assert problem.rerouted_line.location == shop["camden"]
    sql = [query["sql"] for query in seen.captured_queries]
    locks = [
        n
        for n, text in enumerate(sql)
        if balances in text and "FOR NO KEY UPDATE" in text
    ]
    first_lock = sql[locks[0]]
    for store in ("oxford", "camden"):
        assert f'"location_id" = {shop[store].pk}' in first_lock, first_lock
    case_writes = [
        n for n, text in enumerate(sql) if cases in text and "SELECT" not in text[:8]
    ]
    assert case_writes, "a case is opened for the tee not found"
    assert max(locks) < min(case_writes)


@pytest.mark.django_db(transaction=True)
def test_two_packers_rerouting_to_each_other_do_not_deadlock(shop):
    """At the same moment Alice (Oxford Street) cannot find WEB-8001's tee and Carol
    (Camden) cannot find WEB-8002's: each order's tee is re-routed to the other
    store. Both reports go through, one after the other; neither packer sees an
    error page."""
    first, second = two_stores_each_with_a_spare_tee(shop)
    reports = [
        (first, Actor.of_user(shop["alice"], source="store")),
        (second, Actor.of_user(shop["carol"], source="store")),
    ]
    # Hold each report where it raises its case until the other has got as far
    # (or 3 s have passed): taking the balances one by one, each would hold its own
    # store's tee and wait for the other's.
    meet = threading.Barrier(2)

    def hold(sender, **kwargs):
        try:
            meet.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass

    def report(n):
        order, actor = reports[n]
        try:
            return packing_report_short(
                order_id=order.pk,
                line_id=order.lines.get().pk,
                quantity=1,
                condition="not_found",
                actor=actor,
            )
        except Exception as error:  # noqa: BLE001 - the answer is what is checked
            return error

    order_short_reported.connect(hold, dispatch_uid="test.packing_meet")
    try:
        answers = all_at_once(2, report)
    finally:
        order_short_reported.disconnect(dispatch_uid="test.packing_meet")

    assert [type(a) for a in answers] == [PackingProblem, PackingProblem], answers
    first_problem, second_problem = (
        PackingProblem.objects.get(pk=a.pk) for a in answers
    )
    assert first_problem.rerouted_line.location == shop["camden"]
    assert second_problem.rerouted_line.location == shop["oxford"]
    for store in ("oxford", "camden"):
        balance = balance_of(shop["tee"], shop[store])
        assert (balance.on_hand, balance.committed) == (1, 1)
    assert ExceptionCase.objects.filter(kind="item_not_found").count() == 2
