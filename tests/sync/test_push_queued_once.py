"""A till sells tee after tee and every sale's push looks for subscriptions with
something to send: the web shop's push is queued once, not once per sale, until
its sender has run (sync/queued.py); and when the broker refuses the push, nothing
is sent from the push itself (each receiver only by a task of its own), the
deliveries wait for beat's sweep. Nothing is lost either way. The broker is the
real Redis; no worker listens on the test's queue, so what was queued stays there
to be counted."""

import json
import socket
import uuid

import pytest
import redis

from config import celery_app
from config.access import Actor
from config.broker import broker_circuit_close
from sync.models import WebhookDelivery, WebhookSubscription
from sync.queued import queued_first, queued_forget, subscription_push_key
from sync.services import (
    SubscriptionInput,
    webhook_deliveries_send,
    webhook_subscription_create,
)
from sync.tasks import PUSH_SUBSCRIPTION, push_availability
from tests.factories import StockEvents

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(settings):
    """The test's own queue, nobody listening: the pushes queued stay in it."""
    settings.SYNC_QUEUE = f"test-queued-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield lambda: [
        json.loads(raw)["headers"]
        for raw in broker.lrange(settings.SYNC_QUEUE, 0, -1)
        if json.loads(raw)["headers"]["task"] == PUSH_SUBSCRIPTION
    ]
    broker.delete(settings.SYNC_QUEUE)


@pytest.fixture
def web_shop(floor, receiver):
    StockEvents.post("receipt", sku=floor["tee"], location=floor["store"], quantity=50)
    subscription = webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=floor["web"], url=receiver.url, event_kinds=[]
        ),
        actor=Actor(name="test"),
    )
    yield subscription
    queued_forget(subscription_push_key(subscription.pk))


def sale(floor) -> None:
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["pos"],
    )  # fmt: skip


def pending(subscription: WebhookSubscription) -> int:
    return subscription.deliveries.filter(status=WebhookDelivery.Status.PENDING).count()


def test_a_burst_of_sales_queues_the_web_shop_s_push_once(
    floor, receiver, web_shop, queue
):
    sale(floor)
    assert push_availability.apply().get() == 1
    for _ in range(3):  # the till sells on before the push's task has run
        sale(floor)
        assert push_availability.apply().get() == 0
    assert [headers["argsrepr"] for headers in queue()] == [f"({web_shop.pk},)"]

    # The task runs (as the worker would): it sends the latest numbers, lets go
    # and clears the mark, so the next sale queues a push again.
    assert webhook_deliveries_send(subscription_id=web_shop.pk).delivered == 1
    assert receiver.events()[-1]["data"]["quantities"]["on_hand"] == 46
    sale(floor)
    assert push_availability.apply().get() == 1
    assert len(queue()) == 2


def test_a_push_queued_meanwhile_is_sent_by_the_sender_s_last_look(
    floor, receiver, web_shop, queue
):
    """A sale whose push found the mark (its task not yet run, or the sender busy)
    is sent by the sender, which clears the mark before it looks a last time."""
    sale(floor)
    assert push_availability.apply().get() == 1
    sale(floor)
    assert push_availability.apply().get() == 0  # marked: left to the sender
    assert webhook_deliveries_send(subscription_id=web_shop.pk).delivered == 1
    assert receiver.events()[-1]["data"]["quantities"]["on_hand"] == 48
    assert pending(web_shop) == 0


def test_a_broker_refusing_leaves_the_push_to_the_sweep(
    floor, receiver, web_shop, queue, monkeypatch, settings
):
    settings.BROKER_TIMEOUT_SECONDS = 0.3
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    real = celery_app.conf.broker_url
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed}/0")
    sale(floor)
    assert push_availability.apply().get() == 0
    # Not sent from the push (another subscription would wait on this receiver),
    # not lost: still pending, and not marked queued.
    assert receiver.received == [] and pending(web_shop) == 1
    key = subscription_push_key(web_shop.pk)
    assert queued_first(key, seconds=1) and (queued_forget(key) is None)

    # The broker answers again: the sweep queues it.
    monkeypatch.setattr(celery_app.conf, "broker_url", real)
    broker_circuit_close()
    assert push_availability.apply().get() == 1
    assert len(queue()) == 1
