"""A web shop took a pre-order for a tee due on a purchase order; when the supply
lands the order's timeline says so (``supply_arrived``) and the web shop, which asked
for ``order.supply_arrived``, is sent it: signed, one event per arrival, in order,
retried like every webhook. A subscription that did not name the kind hears
nothing of it, and neither does another channel's."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from config.access import Actor
from orders import services as orders
from orders.models import Order, OrderEvent
from orders.signals import order_supply_arrived
from sync.models import EventKind, WebhookDelivery, WebhookSubscription
from sync.services import (
    SubscriptionInput,
    changes_place,
    feed_prune,
    webhook_deliveries_send,
    webhook_resend,
    webhook_subscription_create,
)
from tests.factories import ApiTokenFactory, stock

from .conftest import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

ARRIVED = EventKind.ORDER_SUPPLY_ARRIVED.value
SUPPLY = Actor.system("supply")


def subscribe(channel, receiver, kinds=(ARRIVED,), **extra) -> WebhookSubscription:
    return webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=channel, url=receiver.url, event_kinds=list(kinds), **extra
        ),
        actor=Actor(name="test"),
    )


def push(*subscriptions) -> int:
    changes_place()
    return sum(
        webhook_deliveries_send(subscription_id=subscription.pk).delivered
        for subscription in subscriptions
    )


def retry_now(subscription) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        retry_at=timezone.now()
    )


def web_order(floor, reference="WEB-5001", quantity=2) -> Order:
    stock(floor["tee"], floor["store"], quantity + 1)  # the web shop keeps one back
    order, _ = orders.order_place(
        channel=floor["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(name="Ada Byron", email="ada@example.com"),
        actor=Actor(name="token:web-shop", source="web"),
        lines=[
            orders.OrderLineInput(
                sku=floor["tee"], quantity=quantity, location=floor["store"]
            )
        ],
    )
    return order


def supply_arrives(order, quantity=2, reference="PO-7001") -> OrderEvent:
    """What the orders app does when the supply lands: the timeline's entry, and the
    signal, in the order's transaction."""
    line = order.lines.get()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        event = OrderEvent.objects.create(
            order=locked,
            kind=OrderEvent.Kind.SUPPLY_ARRIVED,
            action="supply_land",
            actor=SUPPLY.name,
            source="system",
            note=f"{reference} received at LON-OXF: {quantity} unit(s) committed.",
            detail={
                "lines": [
                    {
                        "line": line.pk,
                        "sku": "TEE-BLK-M",
                        "location": "LON-OXF",
                        "quantity": quantity,
                        "from": "awaiting_supply",
                        "to": "allocated",
                    }
                ],
                "supply": [
                    {"reference": reference, "expected_at": "2026-12-14T09:00:00+00:00"}
                ],
            },
            at=timezone.now(),
        )
        order_supply_arrived.send(sender=Order, order=locked, event=event, actor=SUPPLY)
    return event


def arrivals(receiver) -> list[dict]:
    return [event for event in receiver.events() if event["type"] == ARRIVED]


@pytest.fixture
def other_receiver():
    other = Receiver()
    other.start()
    yield other
    other.stop()


def test_the_web_shop_hears_its_pre_order_arrived_signed_with_the_lines(
    floor, receiver, other_receiver
):
    order = web_order(floor)
    asked = subscribe(floor["web"], receiver)
    # Every kind but those named only: availability, never the order's event.
    everything = subscribe(floor["web"], other_receiver, kinds=())
    till = subscribe(floor["pos"], other_receiver)
    event = supply_arrives(order)

    pending = WebhookDelivery.objects.filter(order_event=event)
    assert [delivery.subscription_id for delivery in pending] == [asked.pk]
    assert push(asked, everything, till) >= 1
    (delivery,) = receiver.received
    assert Webhook(asked.secret).verify(delivery.body, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(everything.secret).verify(delivery.body, delivery.headers)
    body = delivery.event
    assert delivery.headers["webhook-id"] == body["id"] == f"evt_order_{event.pk}"
    assert body["type"] == "order.supply_arrived"
    assert body["occurred_at"] == body["created_at"] == event.at.isoformat()
    line = order.lines.get()
    assert body["data"] == {
        "order": "WEB-5001",
        "order_id": order.pk,
        "channel": "web",
        "lines": [
            {
                "line": line.pk,
                "sku": "TEE-BLK-M",
                "location": "LON-OXF",
                "quantity": 2,
                "status": "allocated",
            }
        ],
        "supply": [
            {"reference": "PO-7001", "expected_at": "2026-12-14T09:00:00+00:00"}
        ],
        "note": "PO-7001 received at LON-OXF: 2 unit(s) committed.",
    }
    assert arrivals(other_receiver) == []
    assert not pending.filter(status="pending").exists()


def test_two_arrivals_are_two_deliveries_sent_in_order(floor, receiver):
    order = web_order(floor)
    subscription = subscribe(floor["web"], receiver)
    first = supply_arrives(order, quantity=1, reference="PO-7001")
    second = supply_arrives(order, quantity=1, reference="PO-7002")
    # Never coalesced: each event waits as a delivery of its own.
    assert (
        WebhookDelivery.objects.filter(
            subscription=subscription, status="pending"
        ).count()
        == 2
    )
    assert push(subscription) == 2
    assert [event["id"] for event in receiver.events()] == [
        f"evt_order_{first.pk}",
        f"evt_order_{second.pk}",
    ]
    assert [e["data"]["supply"][0]["reference"] for e in receiver.events()] == [
        "PO-7001",
        "PO-7002",
    ]


def test_a_failed_arrival_holds_the_next_back_and_is_retried_with_its_id(
    floor, receiver
):
    order = web_order(floor)
    subscription = subscribe(floor["web"], receiver)
    first = supply_arrives(order, quantity=1, reference="PO-7001")
    second = supply_arrives(order, quantity=1, reference="PO-7002")
    receiver.answer = 503
    assert push(subscription) == 0
    subscription.refresh_from_db()
    assert subscription.state == "retrying"
    # The first failed; the second was not tried: nothing overtakes it.
    tried = list(subscription.attempts.values_list("event_id", "succeeded"))
    assert tried == [(f"evt_order_{first.pk}", False)]
    receiver.answer = 200
    retry_now(subscription)
    assert push(subscription) == 2
    assert [event["id"] for event in receiver.events()] == [
        f"evt_order_{first.pk}",
        f"evt_order_{second.pk}",
    ]
    subscription.refresh_from_db()
    assert (subscription.state, subscription.consecutive_failures) == ("healthy", 0)


def test_an_arrival_rolled_back_sends_nothing(floor, receiver):
    order = web_order(floor)
    subscription = subscribe(floor["web"], receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        supply_arrives(order)
        raise RuntimeError("the landing failed after the timeline's entry")
    assert not WebhookDelivery.objects.filter(order_event__isnull=False).exists()
    push(subscription)
    assert arrivals(receiver) == []


def test_a_switched_off_subscription_is_not_queued_and_a_resend_repeats_it(
    floor, receiver
):
    order = web_order(floor)
    before = timezone.now()
    subscription = subscribe(floor["web"], receiver, is_active=False)
    event = supply_arrives(order)
    assert not WebhookDelivery.objects.filter(order_event=event).exists()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=True)
    webhook_resend(
        subscription_id=subscription.pk, since=before, actor=Actor(name="test")
    )
    webhook_resend(
        subscription_id=subscription.pk, since=before, actor=Actor(name="test")
    )  # twice: still one delivery of the event waiting
    assert WebhookDelivery.objects.filter(order_event=event).count() == 1
    push(subscription)
    assert [e["id"] for e in arrivals(receiver)] == [f"evt_order_{event.pk}"]


def test_a_sent_arrival_is_pruned_with_the_feed_and_stays_on_the_timeline(
    floor, receiver
):
    order = web_order(floor)
    subscription = subscribe(floor["web"], receiver)
    event = supply_arrives(order)
    push(subscription)
    sent = WebhookDelivery.objects.filter(order_event=event)
    sent.update(delivered_at=timezone.now() - timedelta(days=30))
    feed_prune()
    assert not sent.exists()
    assert OrderEvent.objects.filter(pk=event.pk).exists()


def test_the_arrival_is_pushed_after_its_commit(floor, receiver, pushing):
    order = web_order(floor)
    changes_place()  # the order's stock, as it stood before the shop subscribed
    subscription = subscribe(floor["web"], receiver)
    event = supply_arrives(order)
    (delivery,) = receiver.wait_for(1)
    assert delivery.event["id"] == f"evt_order_{event.pk}"
    assert WebhookDelivery.objects.get(order_event=event).subscription == subscription


def test_the_api_subscribes_to_the_kind_and_the_schema_lists_it(
    floor, receiver, anonymous
):
    from rest_framework.test import APIClient

    _, raw = ApiTokenFactory.issue(name="shopify", channel_code="web")
    shop = APIClient()
    shop.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    made = shop.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "event_kinds": [ARRIVED, "availability.changed"]},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["event_kinds"] == [ARRIVED, "availability.changed"]
    changed = shop.patch(
        f"/api/v1/webhooks/{made.json()['id']}/",
        {"event_kinds": [ARRIVED]},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["event_kinds"] == [ARRIVED]
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    kinds = schema["components"]["schemas"]["WebhookEventKindEnum"]["enum"]
    assert ARRIVED in kinds
