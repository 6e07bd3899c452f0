"""The database dies mid-trading, for real: a PostgreSQL of our own (bench.clusters)
killed with SIGKILL under the app served by gunicorn as shipped, then started again.

While it is down, a till's batch and a web shop's read are answered 503 JSON with
Retry-After within a bounded time (not an HTML 500, not a hang), a store screen says
"try again in a moment", /healthz stays up and /readyz says the database is out.
Once it is back, the batch the till never heard back about is sent again and
recorded once: nothing acknowledged was lost, nothing doubled."""

import json
import os
import time
from pathlib import Path

import psycopg
import pytest

from bench.clusters import MISSING, primary_and_replica, server_binaries
from tests.served import gunicorn, http, manage

ROOT = Path(__file__).resolve().parents[2]
CONNECT_TIMEOUT = 2  # DATABASE_CONNECT_TIMEOUT_SECONDS
RETRY_AFTER = 7  # RETRY_AFTER_SECONDS

pytestmark = pytest.mark.skipif(server_binaries() is None, reason=MISSING)

SEED = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from catalog.models import Channel, Product, Sku
from inventory.models import Location
from integrations.services import api_token_reissue
Channel.objects.create(code="pos", name="Tills", kind="pos")
product = Product.objects.create(code="TEE", name="Tee")
Sku.objects.create(code="TEE-BLK-M", name="Tee black M", product=product)
Location.objects.create(code="LON-OXF", name="Oxford Street", kind="store")
sam = get_user_model().objects.create_superuser("sam", password="pw-123456!")
session = SessionStore()
session["_auth_user_id"] = str(sam.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = sam.get_session_auth_hash()
session.create()
print(api_token_reissue(name="tills", channel_code="pos")[1])
print(session.session_key)
"""


class Client:
    def __init__(self, port: int, token: str, session: str) -> None:
        self.base, self.token, self.session = f"http://127.0.0.1:{port}", token, session

    def call(self, method: str, path: str, body=None, *, screen: bool = False):
        """(status, headers, body as JSON or text, seconds taken)."""
        if screen:
            headers = {"Cookie": f"sessionid={self.session}"}
        else:
            headers = {"Authorization": f"Token {self.token}"}
        started = time.monotonic()
        status, got, raw = http(self.base + path, method, body=body, headers=headers)
        took = time.monotonic() - started
        text = raw.decode()
        if "json" in got.get("Content-Type", ""):
            return status, got, json.loads(text), took
        return status, got, text, took


def sale(reference: str) -> dict:
    return {
        "reference": reference,
        "type": "sale",
        "sku": "TEE-BLK-M",
        "location": "LON-OXF",
        "quantity": 1,
        "channel": "pos",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


@pytest.fixture(scope="module")
def served():
    with primary_and_replica(replicas=0) as clusters:
        env = {
            **os.environ,
            "DATABASE_URL": clusters.primary_url,
            "DJANGO_SECRET_KEY": "outage-test-key-not-for-anything-real-000000000000",
            "DJANGO_DEBUG": "0",
            "DJANGO_STATIC_MANIFEST": "0",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "DATABASE_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
            "RETRY_AFTER_SECONDS": str(RETRY_AFTER),
        }
        env.pop("DATABASE_REPLICA_URLS", None)
        manage(env, "migrate", "--no-input")
        token, session = manage(env, "shell", "-c", SEED).split()[-2:]
        with gunicorn(env, log="outage-gunicorn") as (_, port):
            yield clusters, Client(port, token, session)


def test_a_database_killed_mid_trading_is_answered_503_and_nothing_is_lost(served):
    clusters, till = served
    status, _, body, _ = till.call("POST", "/api/v1/movements/", sale("TILL-1"))
    assert status == 201, body

    clusters.kill_primary()
    try:
        # The till's next sale: it cannot know whether it was recorded. It sends the
        # very same event again later (the same occurred-at: a resend, not a clash).
        unanswered = sale("TILL-2")
        status, headers, body, took = till.call(
            "POST", "/api/v1/movements/", unanswered
        )
        assert status == 503, body
        assert headers["Retry-After"] == str(RETRY_AFTER)
        assert body["code"] == "service_unavailable"
        assert "same reference" in body["detail"]
        assert body["request_id"] == headers["X-Request-ID"]
        assert took < CONNECT_TIMEOUT + 3  # bounded: not a hang

        status, headers, body, _ = till.call(
            "GET", "/api/v1/availability/?sku=TEE-BLK-M&location=LON-OXF"
        )
        assert (status, body["code"]) == (503, "service_unavailable")

        # A store screen: a page a person reads, not a traceback or a JSON body.
        status, headers, page, _ = till.call("GET", "/store/", screen=True)
        assert status == 503
        assert headers["Content-Type"].startswith("text/html")
        assert "Try again in a moment" in page
        assert "cannot reach its database" in page

        # The process is alive, and says it cannot serve.
        assert till.call("GET", "/healthz")[0] == 200
        status, headers, ready, _ = till.call("GET", "/readyz")
        assert status == 503, ready
        assert ready["status"] == "unavailable"
        assert ready["checks"]["database"]["status"] == "failing"
        assert headers["Retry-After"] == str(RETRY_AFTER)
    finally:
        clusters.start_primary()

    # Back: the till sends its unanswered sale again, and once more for luck.
    answers = []
    for _ in range(30):
        status, _, body, _ = till.call("POST", "/api/v1/movements/", unanswered)
        answers.append(status)
        if status != 503:  # the first requests after the restart may still fail
            break
        time.sleep(0.5)
    assert answers[-1] in (200, 201), (answers, body)
    again = till.call("POST", "/api/v1/movements/", unanswered)
    assert again[0] in (200, 201), again[2]
    assert till.call("GET", "/readyz")[0] == 200

    with psycopg.connect(clusters.primary_url) as database:
        references = [
            reference
            for (reference,) in database.execute(
                "SELECT reference FROM inventory_stockmovement "
                "WHERE reference LIKE 'TILL-%%' ORDER BY reference"
            )
        ]
        (on_hand,) = database.execute(
            "SELECT on_hand FROM inventory_stockbalance"
        ).fetchone()
    assert references == ["TILL-1", "TILL-2"]
    assert on_hand == -2  # two sales of a tee never received: recorded, once each
