"""Pre-orders at the edges: a cart abandoned with units still to come, a hold whose
supply lands before it is released, a called-off order's hold turned into an order,
a pre-ordered line short at picking, a customer waiting without supply when another
gives theirs back, and a receipt from the warehouse for the ERP's purchase order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from inventory.errors import InsufficientStock
from inventory.models import MovementType, StockMovement, SupplyPromise
from inventory.services import ReservationLineInput, reservation_place
from inventory.services.supply_calls import supply_call_off, supply_reschedule
from orders import services as orders
from orders.models import OrderEvent
from reconciliation.models import ExceptionCase
from tests.factories import (
    ChannelFactory,
    StockEvents,
    balance_of,
    purchase_order,
    stock,
)
from tests.orders.test_pre_orders import WEB, line_of, next_week, pre_order

BUYER = Actor(name="user:buyer")


@pytest.fixture
def shop(network):
    network["tee"].future_promise_limit = 50
    network["tee"].save()
    return network


def hold(shop, reference, quantity, *, ttl=600):
    placed, _ = reservation_place(
        channel=shop["web"],
        reference=reference,
        lines=[ReservationLineInput(shop["tee"], shop["dc"], quantity)],
        actor=Actor(name="token:web"),
        ttl_seconds=ttl,
        allow_future=True,
    )
    return placed


def test_an_abandoned_pre_order_cart_gives_back_only_what_it_held(shop):
    tee, dc = shop["tee"], shop["dc"]
    stock(tee, dc, 2)
    purchase_order(tee, dc, 10, due=next_week())
    cart = hold(shop, "CART-GONE", 5, ttl=1)  # two from the shelf, three to come
    cart.expires_at = timezone.now() - timedelta(seconds=1)
    cart.save(update_fields=["expires_at"])

    # Lapsed, not yet swept: its two shelf units are available again, no more.
    assert balance_of(tee, dc).available == 0
    from inventory.selectors import availability_rows

    (row,) = availability_rows(pairs=[(tee, dc)], channel=shop["web"])
    assert row.available == 2
    with pytest.raises(InsufficientStock):
        pre_order(shop, "WEB-TOO-MANY", 5, allow_future=False)
    assert pre_order(shop, "WEB-TWO", 2, allow_future=False)


def test_a_hold_whose_supply_landed_releases_every_unit_it_holds(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 3, due=next_week(), reference="PO-H")
    cart = hold(shop, "CART-LANDED", 3)
    assert balance_of(tee, dc).reserved == 0

    StockEvents.post(
        "receipt", sku=tee, location=dc, quantity=3, supply_reference="PO-H"
    )
    assert balance_of(tee, dc).reserved == 3  # landed: the hold's now

    from inventory.services import reservation_transition

    reservation_transition(reservation_id=cart.pk, to_status="released", actor=WEB)

    balance = balance_of(tee, dc)
    assert (balance.reserved, balance.available) == (0, 3)


def test_an_order_from_a_hold_whose_supply_was_called_off_waits_and_opens_a_case(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 2, due=next_week(), reference="PO-GONE")
    cart = hold(shop, "CART-ORPHAN", 2)
    supply_call_off(reference="PO-GONE", reason="Factory fire", actor=BUYER)

    order, _ = orders.order_place(
        channel=shop["web"],
        reference="WEB-ORPHAN",
        method="ship",
        customer=orders.Customer(name="Ada"),
        actor=WEB,
        reservation=cart,
    )

    line = line_of(order)
    assert (line.status, line.awaiting_supply_quantity, line.supply_expected_at) == (
        "awaiting_supply",
        2,
        None,
    )
    assert ExceptionCase.objects.get(
        kind="supply_delayed", key=f"supply_delayed:order_line:{line.pk}"
    )


def test_a_pre_ordered_line_short_at_picking_can_still_be_decided(shop):
    tee, dc = shop["tee"], shop["dc"]
    stock(tee, dc, 2)
    purchase_order(tee, dc, 5, due=next_week())
    order = pre_order(shop, "WEB-SHORT", 4)  # two on the shelf, two to come
    line = line_of(order)

    orders.order_report_short(
        order_id=order.pk, line_id=line.pk, quantity=1, condition="not_found", actor=WEB
    )
    orders.order_cancel_short(
        order_id=order.pk, line_id=line.pk, quantity=1, actor=WEB, reason="Gone"
    )

    line.refresh_from_db()
    assert (line.status, line.short_quantity, line.awaiting_supply_quantity) == (
        "awaiting_supply",
        0,
        2,
    )


def test_units_given_back_go_to_the_customer_waiting_without_supply(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 2, due=next_week(), reference="PO-A")
    purchase_order(tee, dc, 1, due=next_week() + timedelta(days=9), reference="PO-B")
    first = pre_order(shop, "WEB-X", 1)
    second = pre_order(shop, "WEB-Y", 1)
    supply_call_off(reference="PO-A", reason="Short shipped", actor=BUYER)
    assert line_of(second).supply_expected_at is None  # waiting, with a case
    case_key = f"supply_delayed:order_line:{line_of(second).pk}"
    assert ExceptionCase.objects.get(key=case_key).status == "open"

    orders.order_cancel(order_id=first.pk, lines=None, reason="Changed mind", actor=WEB)

    # PO-B's unit is the waiting customer's, not the next newcomer's.
    waiting = line_of(second)
    assert waiting.supply_expected_at is not None
    assert ExceptionCase.objects.get(key=case_key).status == "resolved"
    with pytest.raises(InsufficientStock):
        pre_order(shop, "WEB-Z", 1)


def test_the_warehouse_receives_the_erps_purchase_order(shop):
    tee, dc = shop["tee"], shop["dc"]
    po = purchase_order(tee, dc, 2, due=next_week(), reference="PO-ERP")
    order = pre_order(shop, "WEB-WMS", 2)
    wms = ChannelFactory(code="wms", kind="back_office")

    StockEvents.post(
        "receipt",
        sku=tee,
        location=dc,
        quantity=2,
        channel=wms,
        supply_reference="PO-ERP",
    )

    po.refresh_from_db()
    assert po.status == "received"
    assert line_of(order).status == "allocated"
    arrived = order.events.get(kind=OrderEvent.Kind.SUPPLY_ARRIVED)
    assert arrived.detail["supply"][0]["reference"] == "PO-ERP"


def test_a_reschedule_is_on_the_ledgers_trail(shop):
    tee, dc = shop["tee"], shop["dc"]
    purchase_order(tee, dc, 4, due=next_week(), reference="PO-T")
    later = next_week() + timedelta(days=3)

    supply_reschedule(reference="PO-T", expected_at=later, actor=BUYER)

    entry = StockMovement.objects.get(type=MovementType.SUPPLY_RESCHEDULED)
    assert (entry.expected_at, entry.supply_reference, entry.quantity) == (
        later,
        "PO-T",
        4,
    )
    assert balance_of(tee, dc).incoming == 4
    assert SupplyPromise.objects.count() == 0
