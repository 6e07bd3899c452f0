"""Two platforms subscribe to the web channel: one's endpoint hangs (it takes the
POST and never answers), the other's is healthy. Each subscription is pushed by a
task of its own, so the healthy one still gets every change within a second while
the other hangs. A real worker on Redis, with threads as production has processes
(docs/deployment.md: ``--concurrency 4``), posting to real HTTP receivers."""

import threading
import time

import pytest

from config.access import Actor
from sync.models import WebhookSubscription
from sync.services import SubscriptionInput, changes_place, webhook_subscription_create
from tests.factories import StockEvents

from .conftest import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_env():
    # The hanging receiver holds its sender for the whole test (no timeout before
    # the test ends), so nothing but isolation lets the healthy one through.
    return {"WEBHOOK_ALLOW_PRIVATE_HOSTS": "1", "WEBHOOK_TIMEOUT_SECONDS": "60"}


@pytest.fixture
def worker_pool():
    """Four threads, as production runs four processes (the solo pool runs one task
    at a time, which would prove nothing here)."""
    return ["--pool=threads", "--concurrency=4"]


class HangingReceiver(Receiver):
    """Takes the POST and answers nothing until ``release`` (longer than the test)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.hung = threading.Event()

    def answer_to(self, body: bytes) -> int:
        self.hung.set()
        self.release.wait(timeout=120)
        return 200


@pytest.fixture
def hanging():
    receiver = HangingReceiver()
    receiver.start()
    yield receiver
    receiver.release.set()
    receiver.stop()


def subscribe(channel, receiver) -> WebhookSubscription:
    return webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=channel, url=receiver.url, event_kinds=[]
        ),
        actor=Actor(name="test"),
    )


def sale(floor) -> float:
    """A till sells a tee at Oxford Street; when it committed."""
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["pos"],
    )  # fmt: skip
    return time.monotonic()


def test_a_hanging_receiver_delays_only_itself(floor, hanging, receiver, pushing):
    StockEvents.post("receipt", sku=floor["tee"], location=floor["store"], quantity=10)
    changes_place()  # the shelf before anyone subscribed
    # The hanging platform subscribed first: a push sending to each in turn would
    # reach it first and leave the healthy one waiting behind it.
    subscribe(floor["web"], hanging)
    subscribe(floor["web"], receiver)
    try:
        # The worker starting takes a few seconds: the first sale waits for it.
        sale(floor)
        assert receiver.wait_for(1, timeout=30), "the healthy receiver got nothing"
        assert hanging.hung.wait(timeout=10), "the hanging receiver was never sent to"

        for count, sequence in ((2, 3), (3, 4)):
            sold_at = sale(floor)
            got = receiver.wait_for(count, timeout=5)
            took = time.monotonic() - sold_at
            assert len(got) == count, "the healthy receiver waited behind the other"
            assert took < 1.0, f"{took:.2f} s from the sale to the healthy receiver"
            assert got[-1].event["data"]["sequence"] == sequence
        # The other still hangs on its first event: it has answered nothing.
        assert not hanging.received
    finally:
        hanging.release.set()
