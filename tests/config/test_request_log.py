"""What the operator reads in the logs (config/middleware.py RequestLog,
config/task_context.py): one line per request with its route, status, duration, who
asked and its id, the id answered in X-Request-ID and carried into the Celery task
the request queued; JSON lines in production, plain text for the demo."""

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from pythonjsonlogger.orjson import OrjsonFormatter

from config.access import Actor
from sync.services import SubscriptionInput, webhook_subscription_create
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StockEvents,
)

ROOT = Path(__file__).resolve().parents[2]


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "onestock.request"]


@pytest.fixture
def checkout(db):
    ChannelFactory(code="web", kind="web", safety_buffer=0)
    tee, store = SkuFactory(code="TEE-BLK-M"), LocationFactory(code="LON-OXF")
    StockEvents.post("receipt", sku=tee, location=store, quantity=5)
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def place_hold(checkout, reference="CART-1"):
    return checkout.post(
        "/api/v1/reservations/",
        {
            "reference": reference,
            "lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1}],
        },
        format="json",
    )


def test_a_checkout_writes_one_line_with_its_route_status_time_token_and_id(
    checkout, caplog
):
    caplog.set_level(logging.INFO, logger="onestock.request")
    placed = place_hold(checkout)
    assert placed.status_code == 201
    (line,) = request_lines(caplog)
    assert line.method == "POST"
    assert line.path == "/api/v1/reservations/"
    assert line.route == "api/v1/reservations/"
    assert line.status == 201
    assert line.duration_ms > 0
    assert line.client == "token:web-shop"
    assert line.request_id == placed["X-Request-ID"]

    read = checkout.get(f"/api/v1/reservations/{placed.json()['id']}/")
    # By the route's pattern, never the path: one series per endpoint in metrics.
    assert request_lines(caplog)[-1].route == "api/v1/reservations/<pk>/"
    assert request_lines(caplog)[-1].request_id == read["X-Request-ID"]


def test_a_request_id_sent_by_the_proxy_is_kept_and_logged(checkout, caplog):
    caplog.set_level(logging.INFO, logger="onestock.request")
    sent = "6f1c8a52b2f34ff1a6b0a0a5f8d2e3c4"
    answer = checkout.get("/api/v1/availability/?sku=TEE-BLK-M", HTTP_X_REQUEST_ID=sent)
    assert answer["X-Request-ID"] == sent
    assert request_lines(caplog)[-1].request_id == sent


def test_a_person_on_a_screen_is_named_and_nobody_is_looked_up_to_be_logged(
    client, db, caplog
):
    caplog.set_level(logging.INFO, logger="onestock.request")
    sam = get_user_model().objects.create_superuser("sam", password="pw-123456!")
    client.force_login(sam)
    client.get("/store/")
    assert request_lines(caplog)[-1].client == "user:sam"
    assert request_lines(caplog)[-1].route == "store/"
    # The liveness check never reads the session: the line names nobody; and the
    # load balancer's asking every few seconds is written only at DEBUG.
    caplog.set_level(logging.DEBUG, logger="onestock.request")
    client.get("/healthz")
    probe = request_lines(caplog)[-1]
    assert (probe.route, probe.client, probe.levelname) == ("healthz", None, "DEBUG")
    client.get("/no/such/page/")
    assert request_lines(caplog)[-1].route == "unmatched"


def test_the_line_is_one_json_object_in_production(checkout, caplog):
    caplog.set_level(logging.INFO, logger="onestock.request")
    place_hold(checkout)
    (record,) = request_lines(caplog)
    formatter = OrjsonFormatter(
        "%(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )
    line = json.loads(formatter.format(record))
    assert line["logger"] == "onestock.request"
    assert line["message"].startswith("POST /api/v1/reservations/ 201 ")
    assert {"route", "status", "duration_ms", "client", "request_id", "time"} <= set(
        line
    )


@pytest.mark.parametrize(
    ("environment", "formatter"),
    [({}, "json"), ({"DJANGO_DEBUG": "1"}, "text"), ({"LOG_FORMAT": "text"}, "text")],
)
def test_production_logs_json_and_the_demo_plain_text(environment, formatter):
    chosen = subprocess.run(
        [
            sys.executable, "-c",
            "from config import settings;"
            "print(settings.LOGGING['handlers']['console']['formatter'])",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], **environment},
    )  # fmt: skip
    assert chosen.stdout.strip() == formatter, chosen.stderr


@pytest.mark.django_db(transaction=True)
def test_the_push_a_checkout_queued_logs_the_checkouts_request_id(
    checkout, settings, celery_worker, tmp_path
):
    """The worker's own line for the task it ran names the request that queued it:
    one id finds the checkout and the push it caused."""
    settings.SYNC_QUEUE = celery_worker
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=ChannelFactory(code="app", kind="web"),
            url="http://127.0.0.1:9/hooks",
            event_kinds=[],
        ),
        actor=Actor(name="test"),
    )
    placed = place_hold(checkout, "CART-2")
    assert placed.status_code == 201
    ident = placed["X-Request-ID"]
    log = tmp_path / "worker.log"
    deadline = time.monotonic() + 30
    while True:
        # Celery's banner is printed, not logged: the log lines are the JSON ones.
        lines = [
            json.loads(line)
            for line in log.read_text().splitlines()
            if line.startswith("{")
        ]
        done = [
            line
            for line in lines
            if line.get("logger") == "onestock.task"
            and line.get("task") == "sync.push_availability"
        ]
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert done, log.read_text()[-3000:]
    assert done[0]["request_id"] == ident
    assert done[0]["state"] == "SUCCESS"
    assert done[0]["duration_ms"] > 0
