"""The order's timeline: every entry names the service that made it (``action``),
a request reference belongs to one request of one service, and an entry listing
lines keeps the rest of its detail."""

import pytest
from django.utils import timezone

from config.access import Actor
from orders import services as orders
from orders.models import OrderEvent
from orders.services.timeline import digest_of, order_event
from tests.factories import balance_of
from tests.orders.conftest import stock

WEB_SHOP = Actor(name="token:web-shop", source="web")


def _order(network, quantity=2):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 5)
    order, _ = orders.order_place(
        channel=network["web"],
        reference="WEB-TL-1",
        method="ship_from_store",
        customer=orders.Customer(name="Ada Byron"),
        actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=tee, quantity=quantity, location=store)],
        delivery=orders.Delivery(address="1 Upper Street", country="GB"),
    )
    return order, order.lines.get()


def test_every_entry_names_the_service_that_made_it(network):
    order, line = _order(network)
    orders.order_pick(
        order_id=order.pk,
        lines=[orders.LineQuantity(line.pk, 1)],
        actor=WEB_SHOP,
    )
    orders.order_report_short(
        order_id=order.pk,
        line_id=line.pk,
        quantity=1,
        condition="not_found",
        actor=WEB_SHOP,
    )
    orders.order_cancel_short(
        order_id=order.pk,
        line_id=line.pk,
        quantity=1,
        actor=WEB_SHOP,
        reason="Not there; customer told.",
    )

    entries = list(order.events.values_list("kind", "action", "note"))
    assert [(kind, action) for kind, action, _ in entries] == [
        ("placed", "order_place"),
        ("routed", "order_place"),
        ("status", "order_place"),
        ("picked", "order_pick"),
        ("short", "order_report_short"),
        ("cancelled", "order_cancel_short"),
    ]
    assert entries[-1][2] == "Not there; customer told."
    assert order.events.last().source == "web"


def test_a_request_reference_sent_to_another_service_is_a_clash(network):
    """A cancel and a cancel of short units share their words ("cancelled"), not
    their action: the same reference with the same lines and reason is another
    request, refused, and nothing changes."""
    order, line = _order(network)
    orders.order_report_short(
        order_id=order.pk,
        line_id=line.pk,
        quantity=1,
        condition="not_found",
        actor=WEB_SHOP,
    )
    keyed = Actor(name="token:web-shop", source="web", request_reference="REQ-1")
    for _ in range(2):  # the same request again changes nothing
        orders.order_cancel(
            order_id=order.pk,
            lines=[orders.LineQuantity(line.pk, 1)],
            reason="Out of budget",
            actor=keyed,
        )
    line.refresh_from_db()
    assert (line.cancelled_quantity, line.short_quantity) == (1, 1)

    with pytest.raises(orders.RequestReferenceClash) as clash:
        orders.order_cancel_short(
            order_id=order.pk,
            line_id=line.pk,
            quantity=1,
            actor=keyed,
            reason="Out of budget",
        )

    assert clash.value.code == "request_reference_clash"
    line.refresh_from_db()
    assert (line.cancelled_quantity, line.short_quantity) == (1, 1)
    assert balance_of(network["tee"], network["oxford_st"]).committed == 0


def test_an_entry_listing_lines_keeps_the_rest_of_its_detail(network):
    order, line = _order(network)

    event = order_event(
        order,
        kind=OrderEvent.Kind.LINE_ADDED,
        actor=WEB_SHOP,
        action="order_add_line",
        at=timezone.now(),
        note="Substitute accepted",
        detail={"substitute_for": 7},
        lines=[line],
    )

    event.refresh_from_db()
    assert event.detail == {
        "substitute_for": 7,
        "lines": [
            {"line": line.pk, "sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2}
        ],
    }
    assert (event.note, event.action, event.actor) == (
        "Substitute accepted",
        "order_add_line",
        "token:web-shop",
    )


def test_a_request_recorded_before_actions_existed_is_still_a_resend(network):
    """Its entry has no action and was keyed by the words shown ("close")."""
    order, _ = _order(network)
    orders.order_ship(order_id=order.pk, lines=None, actor=WEB_SHOP)
    order.events.create(
        kind=OrderEvent.Kind.STATUS,
        actor="token:web-shop",
        source="web",
        request_reference="CLOSE-1",
        request_digest=digest_of({"action": "close"}),
        at=timezone.now(),
    )
    keyed = Actor(name="token:web-shop", source="web", request_reference="CLOSE-1")

    orders.order_close(order_id=order.pk, actor=keyed)

    order.refresh_from_db()
    assert order.status == "shipped"
