"""A chain's reads on a streaming replica, for real: a primary and a replica of our
own (bench.clusters), the app served by gunicorn as documented with
``DATABASE_REPLICA_URLS``, and the replica's replay paused and stopped to prove the
freshness bound, read-your-writes and the fall-back (config/replicas.py).

A web shop reads what a warehouse may promise; the warehouse system posts receipts
with its own token. While the replica's replay is paused, what the web shop sees
tells where it read from: the old figure is the replica's, the new one the
primary's."""

import json
import os
import time
from pathlib import Path

import psycopg
import pytest

from bench.clusters import MISSING, primary_and_replica, server_binaries
from tests.served import gunicorn, http, manage

ROOT = Path(__file__).resolve().parents[2]
BOUND = 3  # READ_REPLICA_MAX_LAG_SECONDS: roomy, for a busy two-core machine
WINDOW = 2  # READ_YOUR_WRITES_SECONDS

# Its own servers and databases: no test database of the suite's.
pytestmark = pytest.mark.skipif(server_binaries() is None, reason=MISSING)

SEED = """
from catalog.models import Channel, Product, Sku
from inventory.models import Location
from integrations.services import api_token_reissue
Channel.objects.create(code="wms", name="Warehouse system", kind="back_office")
Channel.objects.create(code="web", name="Web shop", kind="web", safety_buffer=0)
product = Product.objects.create(code="TEE", name="Tee")
Sku.objects.create(code="TEE-BLK-M", name="Tee black M", product=product)
Location.objects.create(code="DC-NORTH", name="North DC", kind="warehouse")
print(api_token_reissue(name="wms", channel_code="wms")[1])
print(api_token_reissue(name="web-shop", channel_code="web")[1])
"""


class Api:
    def __init__(self, port: int, token: str) -> None:
        self.base, self.token = f"http://127.0.0.1:{port}", token

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        status, _, raw = http(
            self.base + path,
            method,
            body=body,
            headers={"Authorization": f"Token {self.token}"},
        )
        return status, json.loads(raw or b"{}")

    def tee(self) -> dict:
        status, body = self.call(
            "GET", "/api/v1/availability/?sku=TEE-BLK-M&location=DC-NORTH"
        )
        assert status == 200, body
        (row,) = body["results"]
        return row


@pytest.fixture(scope="module")
def chain():
    with primary_and_replica() as clusters:
        env = {
            **os.environ,
            "DATABASE_URL": clusters.primary_url,
            "DJANGO_SECRET_KEY": "replica-test-key-not-for-anything-real-0000000000",
            "DJANGO_DEBUG": "0",
            "DJANGO_STATIC_MANIFEST": "0",
        }
        env.pop("DATABASE_REPLICA_URLS", None)
        manage(env, "migrate", "--no-input")
        wms_token, web_token = manage(env, "shell", "-c", SEED).split()[-2:]
        served = {
            **env,
            "DATABASE_REPLICA_URLS": ",".join(clusters.replica_urls),
            "READ_REPLICA_MAX_LAG_SECONDS": str(BOUND),
            "READ_REPLICA_CHECK_SECONDS": "0.1",
            "READ_YOUR_WRITES_SECONDS": str(WINDOW),
        }
        with gunicorn(served, log="replicas-gunicorn") as (_, port):
            yield clusters, Api(port, wms_token), Api(port, web_token)


_receipts = iter(range(1, 10_000))


def receive(wms: Api, quantity: int) -> None:
    status, body = wms.call(
        "POST",
        "/api/v1/movements/",
        {
            "reference": f"ASN-{next(_receipts)}",
            "type": "receipt",
            "sku": "TEE-BLK-M",
            "location": "DC-NORTH",
            "quantity": quantity,
            "channel": "wms",
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    assert status == 201, body


def paused_just_now(clusters) -> None:
    """The replica replays a transaction committed this instant, then stops
    replaying: from here its lag grows from zero."""
    with psycopg.connect(clusters.primary_url, autocommit=True) as primary:
        primary.execute("CREATE TABLE IF NOT EXISTS tick (at timestamptz)")
        primary.execute("INSERT INTO tick VALUES (now())")
    clusters.wait_caught_up()
    clusters.pause_replay()


def test_reads_come_from_the_replica_within_the_bound_and_the_writer_reads_its_own(
    chain,
):
    clusters, wms, web = chain
    receive(wms, 10)
    clusters.wait_caught_up()
    time.sleep(WINDOW + 0.5)  # the warehouse system's own window has passed
    paused_just_now(clusters)
    try:
        receive(wms, 5)
        # The web shop has written nothing: it reads the replica, a moment behind
        # and within the bound, so the figure is still confirmed.
        seen = web.tee()
        assert (seen["on_hand"], seen["status"]) == (10, "confirmed")
        # The warehouse system reads its own receipt back, from the primary.
        assert wms.tee()["on_hand"] == 15
        # Past the bound the replica is not read: the web shop sees the primary.
        time.sleep(BOUND + 0.5)
        seen = web.tee()
        assert (seen["on_hand"], seen["status"]) == (15, "confirmed")
    finally:
        clusters.resume_replay()
    clusters.wait_caught_up()
    assert web.tee()["on_hand"] == 15


def test_the_writers_window_ends_and_it_reads_the_replica_again(chain):
    clusters, wms, web = chain
    receive(wms, 10)  # each story stands alone: the suite's workers share them out
    clusters.wait_caught_up()
    time.sleep(WINDOW + 0.5)
    paused_just_now(clusters)
    try:
        before = wms.tee()["on_hand"]
        # The web shop's own write this time (a hold): the warehouse system, which
        # has not written for longer than its window, reads the replica.
        status, body = web.call(
            "POST",
            "/api/v1/reservations/",
            {
                "reference": f"CART-REPLICA-{next(_receipts)}",
                "lines": [{"sku": "TEE-BLK-M", "location": "DC-NORTH", "quantity": 2}],
            },
        )
        assert status == 201, body
        assert wms.tee()["reserved"] == 0  # the replica's, before the hold
        assert web.tee()["reserved"] == 2  # the web shop reads its own hold
        assert wms.tee()["on_hand"] == before
    finally:
        clusters.resume_replay()
    clusters.wait_caught_up()


def test_a_replica_that_is_down_is_read_around_without_an_error(chain):
    clusters, wms, web = chain
    clusters.stop_replica()
    try:
        receive(wms, 1)
        for _ in range(5):
            # Every answer is whole and current, from the primary.
            status, body = web.call(
                "GET", "/api/v1/availability/?sku=TEE-BLK-M&location=DC-NORTH"
            )
            assert status == 200, body
        status, feed = web.call("GET", "/api/v1/availability/changes/?limit=1000")
        assert status == 200, feed
        status, movements = wms.call("GET", "/api/v1/movements/?location=DC-NORTH")
        assert status == 200, movements
        assert wms.tee()["on_hand"] == web.tee()["on_hand"]
    finally:
        clusters.start_replica()
    clusters.wait_caught_up()
    time.sleep(WINDOW + 0.5)
    assert web.tee()["on_hand"] == wms.tee()["on_hand"]
