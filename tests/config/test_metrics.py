"""The monitoring system scrapes /metrics: what it may read, from where, and that the
shop floor's work moves the figures it reads (holds, the tills' batches, conflicts,
webhooks, jobs), in one process and gathered across gunicorn's."""

import http.server
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from config.access import Actor
from inventory.services import MovementInput, movements_record
from sync.services import (
    SubscriptionInput,
    changes_place,
    webhook_deliveries_send,
    webhook_subscription_create,
)
from tests import served as serving
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    stock,
)

# Every family a scrape carries, whatever has happened yet (those read at scrape
# time from the database and the broker included).
FAMILIES = {
    "onestock_http_requests",
    "onestock_http_request_duration_seconds",
    "onestock_holds",
    "onestock_stock_movements",
    "onestock_stock_conflicts",
    "onestock_exception_cases_opened",
    "onestock_webhook_attempts",
    "onestock_webhook_push_latency_seconds",
    "onestock_celery_task_duration_seconds",
    "onestock_outbox_unplaced_changes",
    "onestock_outbox_oldest_unplaced_age_seconds",
    "onestock_webhook_deliveries_pending",
    "onestock_webhook_oldest_pending_age_seconds",
    "onestock_feed_position",
    "onestock_broker_up",
    "onestock_celery_queue_length",
    "onestock_database_connections",
    "onestock_database_max_connections",
    "onestock_metrics_reading_failed",
}


def parsed(text: str) -> dict:
    """``{family: {(sample name, sorted labels): value}}``."""
    return {
        family.name: {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for sample in family.samples
        }
        for family in text_string_to_metric_families(text)
    }


def scrape(client, **headers) -> dict:
    answer = client.get("/metrics", **headers)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain; version=")
    return parsed(answer.content.decode())


def value(scraped: dict, sample: str, **labels) -> float:
    """A sample's value; 0 before anything was counted (gathered from several
    processes, a family shows once one of them has counted something)."""
    key = (sample, tuple(sorted(labels.items())))
    return next((samples[key] for samples in scraped.values() if key in samples), 0.0)


@pytest.fixture
def floor(db):
    return {
        "store": LocationFactory(code="LON-OXF"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
    }


def test_the_monitoring_system_on_this_machine_reads_every_family(client, floor):
    scraped = scrape(client)
    assert FAMILIES <= set(scraped)
    assert value(scraped, "onestock_broker_up") == 1
    assert value(scraped, "onestock_database_max_connections") > 0
    assert value(scraped, "onestock_database_connections", state="active") >= 1
    assert value(scraped, "onestock_metrics_reading_failed", reading="sync") == 0


def test_a_scraper_elsewhere_needs_the_token(client, settings):
    elsewhere = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", **elsewhere)
    assert refused.status_code == 403
    assert b"monitoring system only" in refused.content
    assert b"onestock_" not in refused.content

    # No token is set: none is accepted, whatever is sent.
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", **elsewhere).status_code
        == 403
    )

    settings.METRICS_TOKEN = "scrape-4f1c9e"
    served = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer scrape-4f1c9e", **elsewhere
    )
    assert served.status_code == 200
    assert b"onestock_holds_total" in served.content
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess", **elsewhere)
    assert wrong.status_code == 403

    # The allowed networks are the setting's: the monitoring host's, not loopback.
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_loopback_over_ipv6_is_this_machine_too(client, db):
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::7").status_code == 403


def test_behind_our_proxy_the_scraper_is_the_address_it_forwards(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    outside = client.get("/metrics", HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy)
    assert outside.status_code == 403
    inside = client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", **proxy)
    assert inside.status_code == 200


def test_only_reading_is_allowed(client, db):
    assert client.post("/metrics").status_code == 405


def test_a_broker_that_does_not_answer_is_reported_not_a_failed_scrape(
    client, db, settings
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    started = time.monotonic()
    scraped = scrape(client)
    assert value(scraped, "onestock_broker_up") == 0
    assert "onestock_celery_queue_length" not in scraped
    assert value(scraped, "onestock_metrics_reading_failed", reading="broker") == 0
    assert time.monotonic() - started < 2


def test_the_queues_length_is_what_waits_on_the_broker(client, db, settings):
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    settings.SYNC_QUEUE = queue
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.lpush(queue, "job-1", "job-2")
    broker.lpush(f"{queue}\x06\x163", "a job of priority 3")
    try:
        scraped = scrape(client)
    finally:
        broker.delete(queue, f"{queue}\x06\x163")
    assert value(scraped, "onestock_celery_queue_length", queue=queue) == 3


def hold(api, reference, cart):
    return api.post(
        "/api/v1/reservations/", {"reference": reference, **cart}, format="json"
    )


def test_a_hold_placed_and_a_hold_refused_move_the_holds_counter(
    api, client, floor, django_capture_on_commit_callbacks
):
    stock(floor["tee"], floor["store"], 2)
    before = scrape(client)
    cart = {
        "channel": "web",
        "lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        placed = hold(api, "CART-1", cart)
        again = hold(api, "CART-1", cart)
        short = hold(api, "CART-2", cart)
    assert (placed.status_code, again.status_code, short.status_code) == (201, 200, 409)

    after = scrape(client)
    for outcome, more in (("placed", 1), ("refused", 1)):
        assert value(after, "onestock_holds_total", outcome=outcome) == more + value(
            before, "onestock_holds_total", outcome=outcome
        )
    reserved = {"type": "reserve", "status": "applied"}
    assert value(after, "onestock_stock_movements_total", **reserved) == 1 + value(
        before, "onestock_stock_movements_total", **reserved
    )


def test_a_hold_rolled_back_with_its_caller_is_not_counted(client, floor):
    stock(floor["tee"], floor["store"], 2)
    before = scrape(client)
    # Inside the test's transaction, never committed: nothing is counted.
    Holds.place(channel=floor["web"], lines=[(floor["tee"], floor["store"], 1)])
    after = scrape(client)
    assert value(after, "onestock_holds_total", outcome="placed") == value(
        before, "onestock_holds_total", outcome="placed"
    )


def at_the_till(floor, reference: str, kind: str = "sale", quantity: int = 1):
    """One event of Oxford Street's tills, as the POS sends it."""
    return MovementInput(
        reference=reference,
        type=kind,
        sku=floor["tee"],
        location=floor["store"],
        quantity=quantity,
        occurred_at=time_now(),
        channel=floor["pos"],
    )


def test_a_till_batch_is_counted_by_movement_type_and_status(
    client, floor, django_capture_on_commit_callbacks
):
    def sale(number):
        return at_the_till(floor, f"TILL-7/{number}")

    delivery = at_the_till(floor, "TILL-7/delivery", "receipt", 10)
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        movements_record(
            movements=[delivery, sale(1), sale(2), sale(3)], actor=Actor.system("pos")
        )
        # Sent again: nothing new is written, nothing more counted.
        movements_record(movements=[sale(1)], actor=Actor.system("pos"))
    after = scrape(client)

    def moved(kind):
        labels = {"type": kind, "status": "applied"}
        return value(after, "onestock_stock_movements_total", **labels) - value(
            before, "onestock_stock_movements_total", **labels
        )

    assert (moved("receipt"), moved("sale")) == (1, 3)


def test_a_till_sale_of_promised_stock_raises_a_conflict_and_opens_a_case(
    client, floor, django_capture_on_commit_callbacks
):
    stock(floor["tee"], floor["store"], 1)
    Holds.place(channel=floor["web"], lines=[(floor["tee"], floor["store"], 1)])
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        movements_record(
            movements=[at_the_till(floor, "TILL-3/881")], actor=Actor.system("pos")
        )
    after = scrape(client)
    assert value(after, "onestock_stock_conflicts_total") == 1 + value(
        before, "onestock_stock_conflicts_total"
    )
    opened = {
        labels: number - before["onestock_exception_cases_opened"].get(labels, 0)
        for labels, number in after["onestock_exception_cases_opened"].items()
    }
    assert sum(opened.values()) == 1


class Receiver:
    """A web shop's webhook endpoint on this machine, answering ``status``."""

    def __init__(self, status: int):
        answer = status

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/stock"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("answer", "outcome", "pushed"), [(200, "delivered", 1), (503, "receiver_error", 0)]
)
def test_a_webhook_attempt_is_counted_by_outcome(
    client, floor, settings, answer, outcome, pushed
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    receiver = Receiver(answer)
    try:
        subscription = webhook_subscription_create(
            subscription=SubscriptionInput(
                channel=floor["web"], url=receiver.url, event_kinds=[]
            ),
            actor=Actor(name="test"),
        )
        stock(floor["tee"], floor["store"], 4)
        changes_place()
        waiting = scrape(client)
        assert value(waiting, "onestock_webhook_deliveries_pending") == 1
        assert value(waiting, "onestock_feed_position") >= 1
        webhook_deliveries_send(subscription_id=subscription.pk)
    finally:
        receiver.close()
    after = scrape(client)
    assert value(
        after, "onestock_webhook_attempts_total", outcome=outcome
    ) == 1 + value(waiting, "onestock_webhook_attempts_total", outcome=outcome)
    latency = "onestock_webhook_push_latency_seconds_count"
    assert value(after, latency) == pushed + value(waiting, latency)
    assert value(after, "onestock_webhook_deliveries_pending") == 1 - pushed


def test_a_job_run_is_timed_by_task_and_outcome(client, floor):
    from sync.tasks import CHECK_SOURCES, check_sources

    before = scrape(client)
    check_sources.apply()
    after = scrape(client)
    timed = "onestock_celery_task_duration_seconds_count"
    labels = {"task": CHECK_SOURCES, "outcome": "success"}
    assert value(after, timed, **labels) == 1 + value(before, timed, **labels)


def time_now():
    from django.utils import timezone

    return timezone.now()


# ------------------------------------------------ gunicorn's several processes


def workers_of(master: int) -> set[tuple[int, int]]:
    """gunicorn's worker processes: the master's children, each as (pid, start
    time), so a new worker is told from an old one even if it got a reused pid."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.add((int(entry.name), int(fields[19])))
    return children


class Served:
    def __init__(self, port: int, token: str):
        self.base, self.token = f"http://127.0.0.1:{port}", token

    def call(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        status, _, raw = serving.http(
            self.base + path,
            method,
            body=body,
            headers={"Authorization": f"Token {self.token}"},
        )
        return status, raw

    def hold(self, reference: str) -> None:
        status, body = self.call(
            "POST",
            "/api/v1/reservations/",
            {
                "reference": reference,
                "channel": "web",
                "lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1}],
            },
        )
        assert status == 201, body


@pytest.fixture
def worker_env(tmp_path):
    """The Celery worker writes its figures where gunicorn reads them."""
    return {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}


@pytest.mark.django_db(transaction=True)
def test_gunicorns_processes_and_the_worker_are_scraped_as_one(
    tmp_path, worker_env, celery_worker
):
    folder = Path(worker_env["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(exist_ok=True)
    (folder / "counter_999999999.db").write_bytes(b"a run long gone")
    floor = {
        "store": LocationFactory(code="LON-OXF"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
    }
    stock(floor["tee"], floor["store"], 50)
    _, token = ApiTokenFactory.issue(name="web-shop")
    settings = connection.settings_dict
    env = {
        **os.environ,
        **worker_env,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}"
        f":{settings['PORT'] or 5432}/{settings['NAME']}",
        "DJANGO_SECRET_KEY": "metrics-test-key-not-for-anything-real-000000000000",
        "DJANGO_DEBUG": "0",
        "DJANGO_STATIC_MANIFEST": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    with serving.gunicorn(env, log="metrics-gunicorn") as (server, port):
        served = Served(port, token)
        assert not (folder / "counter_999999999.db").exists()
        for number in range(3):
            served.hold(f"CART-{number}")
        # Every worker stops; gunicorn starts new ones. What they counted stays.
        first = workers_of(server.pid)
        for pid, _ in first:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while len(workers_of(server.pid) - first) < 2:
            assert time.monotonic() < deadline, "gunicorn started no new workers"
            time.sleep(0.1)
        serving.wait_until_serving(port)
        for number in range(3, 5):
            served.hold(f"CART-{number}")

        # A job the worker ran, with the same folder.
        from sync.tasks import check_sources

        check_sources.apply_async(queue=celery_worker)
        timed = "onestock_celery_task_duration_seconds_count"
        ran = {"task": "sync.check_sources", "outcome": "success"}
        deadline = time.monotonic() + 30
        while True:
            status, body = served.call("GET", "/metrics")
            assert status == 200, body
            scraped = parsed(body.decode())
            if value(scraped, timed, **ran) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert value(scraped, timed, **ran) == 1
        assert value(scraped, "onestock_holds_total", outcome="placed") == 5
        posted = {
            labels: number
            for (sample, labels), number in scraped["onestock_http_requests"].items()
            if dict(labels).get("route") == "api/v1/reservations/"
            and dict(labels)["method"] == "POST"
        }
        assert sum(posted.values()) == 5, scraped["onestock_http_requests"]
        assert value(scraped, "onestock_database_max_connections") > 0
