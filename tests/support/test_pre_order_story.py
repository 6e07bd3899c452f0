"""A customer pre-ordered tees the distribution centre did not have yet and calls to
ask where they are: the order's page tells, in words, what was promised from which
purchase order and when, and that the delivery came in; or that its date moved, or
that no delivery is left for them and a person is on it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from config.access import Actor
from inventory.services.supply_calls import supply_call_off, supply_reschedule
from orders import services as orders
from tests.factories import LocationFactory, StockEvents, purchase_order, stock

WEB = Actor(name="token:web-shop", source="web")
BUYER = Actor(name="user:buyer")


@pytest.fixture
def dc(shop):
    shop["tee"].future_promise_limit = 20
    shop["tee"].save()
    return LocationFactory(
        code="DC-NORTH", name="Northern DC", kind="distribution_centre"
    )


def in_days(days: int) -> datetime:
    return (timezone.now() + timedelta(days=days)).replace(hour=12, minute=0)


def said(when: datetime) -> str:
    """A date as the page says it: in the distribution centre's time."""
    local = timezone.localtime(when, ZoneInfo("Europe/London"))
    year = f" {local.year}" if local.year != timezone.now().year else ""
    return f"{local:%a} {local.day} {local:%b}{year}"


def pre_order(shop, dc, reference="WEB-PRE-1", quantity=5):
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(name="Ada Byron", email="ada@example.com"),
        actor=WEB,
        lines=[
            orders.OrderLineInput(
                sku=shop["tee"], quantity=quantity, location=dc, allow_future=True
            )
        ],
    )
    return order


def page(client, shop, order) -> str:
    client.force_login(shop["maria"])
    response = client.get(reverse("support:order", args=[order.pk]))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_a_pre_order_is_told_promised_then_arrived(client, shop, dc):
    due = in_days(7)
    stock(shop["tee"], dc, 2)
    purchase_order(shop["tee"], dc, 10, due=due, reference="PO-77")
    order = pre_order(shop, dc)

    text = page(client, shop, order)
    assert "Waiting for supply" not in text  # two units are on the shelf to pick
    assert "Pre-ordered: waiting for a delivery" in text  # the line
    assert f"3 waiting for a delivery, due {said(due)}" in text
    assert (
        "Pre-ordered 3 × Tee black M (TEE-BLK-M) at Northern DC, promised from "
        f"purchase order PO-77 due {said(due)}" in text
    )
    assert "What was on the shelf set aside for the customer; the rest" in text

    StockEvents.post(
        "receipt", sku=shop["tee"], location=dc, quantity=10, supply_reference="PO-77"
    )

    text = page(client, shop, order)
    assert (
        "3 × Tee black M (TEE-BLK-M) arrived at Northern DC with purchase order PO-77"
        in text
    )
    assert "Set aside for the customer" in text
    assert "waiting for a delivery" not in text  # the line moved on
    assert "Waiting to be picked" in text


def test_a_new_date_and_a_lost_delivery_are_told_with_why(client, shop, dc):
    first, later = in_days(7), in_days(21)
    purchase_order(shop["tee"], dc, 3, due=first, reference="PO-81")
    order = pre_order(shop, dc, quantity=3)
    text = page(client, shop, order)
    assert "Waiting for supply" in text  # nothing to pick yet
    assert "Nothing on the shelf yet: every item waits for a delivery" in text

    supply_reschedule(reference="PO-81", expected_at=later, actor=BUYER)
    text = page(client, shop, order)
    assert (
        f"Tee black M (TEE-BLK-M) at Northern DC now due {said(later)} "
        f"(was {said(first)})" in text
    )
    assert "Purchase order PO-81 rescheduled" in text
    assert f"3 waiting for a delivery, due {said(later)}" in text

    supply_call_off(reference="PO-81", reason="Supplier out of cotton", actor=BUYER)
    text = page(client, shop, order)
    assert (
        "3 × Tee black M (TEE-BLK-M) at Northern DC: no delivery left to come from"
        in text
    )
    assert "Supplier out of cotton" in text
    assert "3 waiting for a delivery, due no date yet" in text
    assert "Exception case" in text and "upply" in text  # the case, linked
