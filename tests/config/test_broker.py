"""The broker never holds stock up (config/broker.py). A web shop is subscribed to
webhooks, so every checkout's commit asks for an availability push; the broker's
Redis then hangs, or refuses, or comes back. Checkouts answer in their usual time
throughout, the changes wait in the outbox for beat's sweep, and the kicks resume
once the broker answers again."""

import socket
import threading
import time
import uuid

import pytest
import redis

from config import celery_app
from config.access import Actor
from config.broker import broker_circuit_open
from inventory.models import AvailabilityChange
from sync.services import SubscriptionInput, webhook_subscription_create
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StockEvents,
)

# After the commit: on_commit runs only when the test's transaction really commits.
pytestmark = pytest.mark.django_db(transaction=True)


class SilentBroker:
    """A TCP port that takes connections and never says a word: a broker hung, or a
    network dropping its answers. Counts the connections it was offered."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._take, daemon=True).start()

    def _take(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def shop(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.BROKER_TIMEOUT_SECONDS = 0.3
    settings.SYNC_QUEUE = f"test-kicks-{uuid.uuid4().hex[:8]}"
    web = ChannelFactory(code="web", kind="web", safety_buffer=0)
    store = LocationFactory(code="LON-OXF")
    tee = SkuFactory(code="TEE-BLK-M")
    StockEvents.post("receipt", sku=tee, location=store, quantity=50)
    webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=web, url="http://127.0.0.1:9/hooks", event_kinds=[]
        ),
        actor=Actor(name="test"),
    )
    _, raw = ApiTokenFactory.issue(name="checkout", channel_code="web")
    from rest_framework.test import APIClient

    checkout = APIClient()
    checkout.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    yield checkout
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.SYNC_QUEUE)


@pytest.fixture
def broker_at(monkeypatch):
    def point(url: str) -> None:
        monkeypatch.setattr(celery_app.conf, "broker_url", url)

    return point


_carts = iter(range(1, 1000))


def hold(checkout) -> float:
    """Seconds a cart's hold took to be answered (201)."""
    started = time.monotonic()
    placed = checkout.post(
        "/api/v1/reservations/",
        {
            "reference": f"CART-{next(_carts)}",
            "lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1}],
        },
        format="json",
    )
    took = time.monotonic() - started
    assert placed.status_code == 201, placed.content
    return took


def unplaced() -> int:
    return AvailabilityChange.objects.filter(position__isnull=True).count()


def test_checkouts_do_not_wait_on_a_broker_that_hangs(shop, broker_at):
    waiting = unplaced()  # the shelf's receipt, not pushed either
    silent = SilentBroker()
    broker_at(f"redis://127.0.0.1:{silent.port}/0")
    try:
        # The first kick waits its timeout (0.3 s to write), where Celery's own
        # connection waited some 6 s of retries.
        assert hold(shop) < 2
        tried = len(silent.connections)
        assert tried >= 1 and broker_circuit_open()
        # The circuit is open: the next checkouts do not try the broker at all.
        for _ in range(5):
            hold(shop)
        assert len(silent.connections) == tried
    finally:
        silent.close()
    # Nothing is lost: the changes wait in the outbox for beat's sweep.
    assert unplaced() == waiting + 6


def test_checkouts_do_not_wait_on_a_broker_that_refuses(shop, broker_at):
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    assert hold(shop) < 1
    assert broker_circuit_open()
    assert hold(shop) < 1


def test_after_a_while_one_kick_tries_again_alone(shop, broker_at, settings):
    """Once the circuit's time is up, one checkout tries the broker; while it
    waits, and after it failed, the others do not."""
    settings.BROKER_CIRCUIT_SECONDS = 0.2
    silent = SilentBroker()
    broker_at(f"redis://127.0.0.1:{silent.port}/0")
    try:
        hold(shop)
        tried = len(silent.connections)
        time.sleep(0.3)
        hold(shop)  # the lone probe: fails, the circuit opens again
        assert len(silent.connections) > tried and broker_circuit_open()
        tried = len(silent.connections)
        hold(shop)
        assert len(silent.connections) == tried
    finally:
        silent.close()


def test_the_kicks_resume_once_the_broker_answers_again(shop, broker_at, settings):
    settings.BROKER_CIRCUIT_SECONDS = 0.2
    queued = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    real = celery_app.conf.broker_url
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    hold(shop)
    assert broker_circuit_open()
    broker_at(real)
    hold(shop)  # within the open circuit's time: not tried
    assert queued.llen(settings.SYNC_QUEUE) == 0
    time.sleep(0.3)
    hold(shop)
    assert not broker_circuit_open()
    assert queued.llen(settings.SYNC_QUEUE) == 1  # the push, on its queue


def test_a_reconciliation_run_started_while_the_broker_is_down_says_so(
    broker_at, client
):
    from django.contrib.auth import get_user_model

    from reconciliation.models import ReconciliationRun

    manager = get_user_model().objects.create_superuser("maria", password="pw-1234!")
    client.force_login(manager)
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    answer = client.post("/store/reconciliation/start/")
    assert time.monotonic() - started < 2
    assert answer.status_code == 302
    run = ReconciliationRun.objects.get()
    assert run.status == ReconciliationRun.Status.FAILED
    assert run.error.startswith("No worker could be reached (the broker is down)")
