"""Pre-orders and back-orders: a web order for more than the shelf holds waits for a
purchase order due next week, and becomes committed stock when the delivery comes in;
the supply rescheduled, called off, short; a till sale while pre-orders wait."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.access import Actor
from inventory.errors import InsufficientStock
from inventory.models import Supply, SupplyPromise
from inventory.services.supply_calls import supply_call_off, supply_reschedule
from orders import services as orders
from orders.models import OrderEvent, OrderLine
from reconciliation.models import ExceptionCase
from tests.factories import StockEvents, balance_of, purchase_order, stock

WEB = Actor(name="token:web-shop", source="web")
BUYER = Actor(name="user:buyer")


@pytest.fixture
def shop(network):
    network["tee"].future_promise_limit = 50
    network["tee"].save()
    return network


def pre_order(shop, reference, quantity, *, location=None, allow_future=True):
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(name="Ada Byron", email="ada@example.com"),
        actor=WEB,
        lines=[
            orders.OrderLineInput(
                sku=shop["tee"],
                quantity=quantity,
                location=location or shop["dc"],
                allow_future=allow_future,
            )
        ],
    )
    return order


def line_of(order) -> OrderLine:
    return order.lines.get()


def next_week():
    return timezone.now() + timedelta(days=7)


def test_a_pre_order_waits_for_next_weeks_purchase_order_then_is_committed(shop):
    tee, dc = shop["tee"], shop["dc"]
    stock(tee, dc, 2)
    due = next_week()
    po = purchase_order(tee, dc, 10, due=due, reference="PO-77")

    order = pre_order(shop, "WEB-PRE-1", 5)

    line = line_of(order)
    assert (line.status, line.awaiting_supply_quantity) == ("awaiting_supply", 3)
    assert line.promised_from == "supply"
    assert line.supply_expected_at == due
    balance = balance_of(tee, dc)
    # The shelf's two are committed; the three to come are promised, not held.
    assert (balance.committed, balance.available, balance.incoming) == (2, 0, 10)
    assert SupplyPromise.objects.get(owner_id=line.pk).supply == po
    assert "supply_promised" in order.events.values_list("kind", flat=True)

    StockEvents.post(
        "receipt", sku=tee, location=dc, quantity=10, supply_reference="PO-77"
    )

    line.refresh_from_db()
    assert (line.status, line.awaiting_supply_quantity) == ("allocated", 0)
    assert line.supply_expected_at is None
    balance = balance_of(tee, dc)
    assert (balance.on_hand, balance.committed, balance.available) == (12, 5, 7)
    po.refresh_from_db()
    assert po.status == Supply.Status.RECEIVED
    arrived = order.events.get(kind=OrderEvent.Kind.SUPPLY_ARRIVED)
    assert arrived.detail["lines"][0]["quantity"] == 3
    assert "arrived at DC-NORTH" in arrived.note
    # Now it moves on like any order.
    orders.order_ship(order_id=order.pk, lines=None, actor=WEB)
    assert balance_of(tee, dc).on_hand == 7


def test_without_allow_future_or_beyond_the_cap_the_order_is_refused(shop):
    tee, dc = shop["tee"], shop["dc"]
    stock(tee, dc, 1)
    purchase_order(tee, dc, 10, due=next_week())

    with pytest.raises(InsufficientStock):
        pre_order(shop, "WEB-NO-FUTURE", 3, allow_future=False)
    tee.future_promise_limit = 2
    tee.save()
    with pytest.raises(InsufficientStock) as refused:
        pre_order(shop, "WEB-OVER-CAP", 4)
    (short,) = refused.value.extra["shortages"]
    assert short["earliest_available_at"] is None  # the cap never allows 3
    assert not SupplyPromise.objects.exists()
    assert balance_of(tee, dc).committed == 0


def test_the_shortage_names_the_earliest_date_supply_could_cover(shop):
    tee, dc = shop["tee"], shop["dc"]
    first, later = next_week(), next_week() + timedelta(days=14)
    purchase_order(tee, dc, 2, due=first, reference="PO-1")
    purchase_order(tee, dc, 2, due=later, reference="PO-2")
    first_order = pre_order(shop, "WEB-A", 3)  # two from PO-1, one from PO-2

    assert line_of(first_order).supply_expected_at == later  # due with PO-2
    with pytest.raises(InsufficientStock) as refused:
        pre_order(shop, "WEB-B", 5)
    (short,) = refused.value.extra["shortages"]
    assert short["earliest_available_at"] is None
    # One unit is still free on PO-2.
    order = pre_order(shop, "WEB-C", 1)
    assert line_of(order).supply_expected_at == later


def test_undated_incoming_is_never_promised(shop):
    tee, dc = shop["tee"], shop["dc"]
    StockEvents.post("receipt_expected", sku=tee, location=dc, quantity=10)
    assert balance_of(tee, dc).incoming == 10
    with pytest.raises(InsufficientStock):
        pre_order(shop, "WEB-UNDATED", 1)


def test_a_till_sale_takes_shelf_units_while_pre_orders_wait(shop):
    tee, dc = shop["tee"], shop["dc"]
    stock(tee, dc, 1)
    purchase_order(tee, dc, 5, due=next_week())
    pre_order(shop, "WEB-WAIT", 3)  # one from the shelf, two from supply

    # Two more turn up on the shelf (not a delivery of the purchase order): not the
    # pre-order's, and the till sells them.
    StockEvents.post(
        "adjustment", sku=tee, location=dc, quantity=2, reason="Found in the back"
    )
    StockEvents.post("sale", sku=tee, location=dc, quantity=2)

    balance = balance_of(tee, dc)
    assert (balance.on_hand, balance.committed, balance.available) == (1, 1, 0)
    # A count that finds fewer takes from the shelf, not from the promise.
    StockEvents.post("count", sku=tee, location=dc, quantity=1)
    assert balance_of(tee, dc).available == 0
    assert SupplyPromise.objects.get(status="open").units == 2


def test_a_short_receipt_keeps_the_oldest_promise_first(shop):
    tee, dc = shop["tee"], shop["dc"]
    po = purchase_order(tee, dc, 4, due=next_week(), reference="PO-9")
    oldest = pre_order(shop, "WEB-OLD", 2)
    newest = pre_order(shop, "WEB-NEW", 2)

    StockEvents.post(
        "receipt", sku=tee, location=dc, quantity=3, supply_reference="PO-9"
    )

    old, new = line_of(oldest), line_of(newest)
    assert (old.status, old.awaiting_supply_quantity) == ("allocated", 0)
    assert (new.status, new.awaiting_supply_quantity) == ("awaiting_supply", 1)
    po.refresh_from_db()
    assert (po.status, po.received, po.outstanding) == ("open", 3, 1)
    assert balance_of(tee, dc).committed == 3
    # The rest comes in a second delivery.
    StockEvents.post(
        "receipt", sku=tee, location=dc, quantity=1, supply_reference="PO-9"
    )
    new.refresh_from_db()
    assert (new.status, new.awaiting_supply_quantity) == ("allocated", 0)


def test_rescheduled_supply_changes_the_promise_date_on_the_timeline(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 4, due=next_week(), reference="PO-5")
    order = pre_order(shop, "WEB-LATE", 2)
    later = next_week() + timedelta(days=10)

    supply_reschedule(reference="PO-5", expected_at=later, actor=BUYER)
    supply_reschedule(reference="PO-5", expected_at=later, actor=BUYER)  # again

    line = line_of(order)
    assert line.supply_expected_at == later
    (changed,) = order.events.filter(kind=OrderEvent.Kind.PROMISE_DATE_CHANGED)
    assert f"now due {later:%Y-%m-%d}" in changed.note
    assert changed.detail["to"] == later.isoformat()
    supply = Supply.objects.get(reference="PO-5")
    assert list(supply.events.values_list("action", flat=True)) == [
        "supply_announce",
        "supply_reschedule",
    ]
    # Quantities never change by a reschedule.
    assert (balance_of(tee, dc).incoming, supply.quantity) == (4, 4)


def test_called_off_supply_moves_promises_to_the_next_or_opens_a_case(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 2, due=next_week(), reference="PO-A")
    purchase_order(tee, dc, 1, due=next_week() + timedelta(days=20), reference="PO-B")
    first = pre_order(shop, "WEB-1", 1)
    second = pre_order(shop, "WEB-2", 1)

    supply_call_off(reference="PO-A", reason="Supplier out of stock", actor=BUYER)

    # The oldest promise moves to PO-B; the next has nothing left to come from.
    assert (
        line_of(first).supply_expected_at
        == Supply.objects.get(reference="PO-B").expected_at
    )
    waiting = line_of(second)
    assert (waiting.awaiting_supply_quantity, waiting.supply_expected_at) == (1, None)
    case = ExceptionCase.objects.get(kind="supply_delayed", status="open")
    assert "WEB-2" in case.title
    assert case.link == f"/store/support/orders/{second.pk}/"
    assert second.events.filter(kind=OrderEvent.Kind.SUPPLY_DELAYED).exists()
    # Its outstanding units are no longer incoming.
    assert balance_of(tee, dc).incoming == 1
    # Called off again: answered as it stands.
    supply_call_off(reference="PO-A", reason="again", actor=BUYER)
    assert balance_of(tee, dc).incoming == 1


def test_cancelling_a_pre_order_gives_its_supply_to_the_next_customer(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 1, due=next_week())
    order = pre_order(shop, "WEB-CANCEL", 1)
    with pytest.raises(InsufficientStock):
        pre_order(shop, "WEB-NEXT", 1)

    orders.order_cancel(order_id=order.pk, lines=None, reason="Changed mind", actor=WEB)

    assert line_of(order).status == "cancelled"
    assert balance_of(tee, dc).committed == 0
    assert line_of(pre_order(shop, "WEB-NEXT", 1)).status == "awaiting_supply"


def test_a_pre_ordered_line_cannot_be_shipped_or_made_ready_before_its_supply(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 3, due=next_week())
    order = pre_order(shop, "WEB-SHIP", 2)
    with pytest.raises(orders.OrderTransitionRefused):
        orders.order_ship(order_id=order.pk, lines=None, actor=WEB)


@pytest.mark.django_db(transaction=True)
def test_two_pre_orders_for_the_last_unit_of_supply_at_once_one_wins(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 1, due=next_week())
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def place(reference):
        try:
            start.wait()
            pre_order(shop, reference, 1)
            outcomes.append("placed")
        except InsufficientStock:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(f"WEB-RACE-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["placed", "refused"]
    assert SupplyPromise.objects.filter(status="open").count() == 1


def test_a_click_and_collect_pre_order_is_ready_after_its_supply_comes(shop):
    tee, store = shop["tee"], shop["oxford_st"]
    due = next_week()
    purchase_order(tee, store, 2, due=due, reference="PO-STORE")

    order, _ = orders.order_place(
        channel=shop["web"],
        reference="WEB-COLLECT",
        method="pickup",
        customer=orders.Customer(name="Ada Byron"),
        actor=WEB,
        lines=[orders.OrderLineInput(sku=tee, quantity=1, allow_future=True)],
        pickup_location=store,
    )

    assert line_of(order).status == "awaiting_supply"
    # Not ready today: the customer is told a time after the delivery is due.
    assert order.promised_by >= due
