"""From a till sale accepted by the API to the web shop's webhook arriving.

A store with ``--skus`` SKUs in stock, the web shop subscribed to availability
changes at a receiver served here (an HTTP server on this machine), gunicorn serving
the API and a Celery worker on Redis (``--concurrency`` processes) doing the pushing,
as deployed. ``--sales`` till sales (1,000) are sent through ``POST
/api/v1/movements/`` at ``--rate`` a second, round the SKUs; for each, the time from
the API's answer to the first webhook carrying that sale (its SKU at a sequence at or
past the sale's) is the latency. Coalescing can fold several sales into one event:
each sale still counts, from its own answer.

Printed beside the floor measured in the same run: one POST of the same body from
here to the receiver (what the last hop costs at the least) and the API's own answer
time. Checks (exit 1 if one fails): every sale arrived, each SKU's last event carries
its final on-hand, and no SKU's sequence ever went backwards at the receiver.

    python -m bench.push_latency [--sales 1000] [--rate 50] [--skus 50]
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import harness


def main() -> None:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.set_defaults(database="onestock_bench_push")
    options = parser.parse_args()
    queue = f"bench-push-{uuid.uuid4().hex[:6]}"
    os.environ["SYNC_QUEUE"] = queue
    os.environ["WEBHOOK_ALLOW_PRIVATE_HOSTS"] = "1"  # the receiver is on this machine
    harness.prepare_django(options.database)
    receiver = Receiver()
    token = seed(options.skus, receiver.url)
    print(harness.machine())
    worker = start_worker(options.database, queue, options.concurrency)
    try:
        with harness.served_api(options.database) as port:
            accepted, answer_times = sell(port, token, options)
            wait_for_all(receiver, accepted, timeout=20)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    floor = receiver_floor(receiver)
    report(receiver, accepted, answer_times, floor, options)


class Receiver:
    """The web shop's endpoint: notes when each event arrived."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                arrived = time.monotonic()
                with outer.lock:
                    outer.arrivals.append((arrived, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def seed(skus: int, url: str) -> str:
    from django.utils import timezone

    from catalog.models import Channel
    from config.access import Actor
    from integrations.services import api_token_create
    from inventory.models import Location
    from inventory.services import MovementInput, movements_record
    from sync.services import (
        SubscriptionInput,
        changes_place,
        webhook_subscription_create,
    )
    from tests.factories import SkuFactory

    store = Location.objects.create(code="LON-OXF", name="Oxford Street")
    Channel.objects.create(code="pos", name="Tills", kind="store_pos")
    web = Channel.objects.create(code="web", name="Web shop", kind="web")
    erp = Channel.objects.create(code="erp", name="ERP", kind="back_office")
    now = timezone.now()
    movements_record(
        movements=[
            MovementInput(
                reference=f"GRN-{n}",
                type="receipt",
                sku=SkuFactory(code=f"SKU-{n:04d}"),
                location=store,
                quantity=100_000,
                occurred_at=now,
                channel=erp,
            )  # fmt: skip
            for n in range(skus)
        ],
        actor=Actor(name="bench"),
    )
    changes_place()  # the shelf before the shop subscribed
    webhook_subscription_create(
        subscription=SubscriptionInput(channel=web, url=url, event_kinds=[]),
        actor=Actor(name="bench"),
    )
    _, raw = api_token_create(name="bench-tills", channel_code=None)
    return raw


def start_worker(database: str, queue: str, concurrency: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": harness.database_url(database),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SYNC_QUEUE": queue,
    }
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
            f"--concurrency={concurrency}", "--without-mingle", "--without-gossip",
            "--loglevel=WARNING",
        ],
        cwd=harness.ROOT, env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(harness.ROOT / "bench" / "worker.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    time.sleep(3)  # the worker's processes up and listening
    return worker


def sell(port: int, token: str, options) -> tuple[list, list[float]]:
    """Each sale as (SKU code, sequence it makes, when its answer came)."""
    client = harness.ApiClient(port, token)
    made: dict[str, int] = {}
    accepted, answer_times = [], []
    interval = 1 / options.rate
    start = time.monotonic()
    for n in range(options.sales):
        time.sleep(max(0.0, start + n * interval - time.monotonic()))
        sku = f"SKU-{n % options.skus:04d}"
        sent = time.monotonic()
        status, body = client.call(
            "POST",
            "/api/v1/movements/",
            {
                "reference": f"TILL-{n}",
                "type": "sale",
                "sku": sku,
                "location": "LON-OXF",
                "quantity": 1,
                "channel": "pos",
                "occurred_at": _now(),
            },  # fmt: skip
        )
        answered = time.monotonic()
        if status != 201:
            raise SystemExit(f"sale {n} answered {status}: {body[:200]!r}")
        made[sku] = made.get(sku, 1) + 1
        accepted.append((sku, made[sku], answered))
        answer_times.append(answered - sent)
    return accepted, answer_times


def _now() -> str:
    from django.utils import timezone

    return timezone.now().isoformat()


def wait_for_all(receiver: Receiver, accepted: list, timeout: float) -> None:
    last = {}
    for sku, sequence, _ in accepted:
        last[sku] = sequence
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            seen = {}
            for _, event in receiver.arrivals:
                data = event["data"]
                seen[data["sku"]] = max(seen.get(data["sku"], 0), data["sequence"])
        if all(seen.get(sku, 0) >= sequence for sku, sequence in last.items()):
            return
        time.sleep(0.05)


def receiver_floor(receiver: Receiver) -> float:
    """One POST of an event's body from here to the receiver, median of 200."""
    body = json.dumps(receiver.arrivals[0][1]).encode()
    times = []
    for _ in range(200):
        started = time.monotonic()
        request = urllib.request.Request(
            receiver.url, data=body, headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request).read()
        times.append(time.monotonic() - started)
    del receiver.arrivals[-200:]
    return harness.median(times)


def report(receiver, accepted, answer_times, floor, options) -> None:
    arrivals: dict[str, list[tuple[int, float]]] = {}
    for arrived, event in receiver.arrivals:
        data = event["data"]
        arrivals.setdefault(data["sku"], []).append((data["sequence"], arrived))
    latencies, missing, backwards = [], 0, 0
    for sku, sequence, answered in accepted:
        carried = [a for s, a in arrivals.get(sku, []) if s >= sequence]
        if not carried:
            missing += 1
            continue
        latencies.append(min(carried) - answered)
    for events in arrivals.values():
        sequences = [s for s, _ in sorted(events, key=lambda item: item[1])]
        backwards += sum(
            1 for a, b in zip(sequences, sequences[1:], strict=False) if b < a
        )
    final_ok = all(
        max(s for s, _ in arrivals.get(sku, [(0, 0)])) == sequence
        for sku, sequence in _last(accepted).items()
    )
    ms = 1000
    print(
        harness.table(
            ["measure", "median ms", "p95 ms", "max ms"],
            [
                [
                    "sale accepted → webhook arrived",
                    harness.median(latencies) * ms,
                    harness.percentile(latencies, 0.95) * ms,
                    max(latencies) * ms,
                ],
                [
                    "API answer to the till",
                    harness.median(answer_times) * ms,
                    harness.percentile(answer_times, 0.95) * ms,
                    max(answer_times) * ms,
                ],
                ["floor: one POST to the receiver", floor * ms, "", ""],
            ],
        )  # fmt: skip
    )
    print(
        f"{len(accepted)} sales at {options.rate:g}/s over {options.skus} SKUs; "
        f"{len(receiver.arrivals)} webhook events "
        f"({len(accepted) / max(1, len(receiver.arrivals)):.2f} sales an event); "
        "coalescing window "
        f"{float(os.environ.get('WEBHOOK_COALESCE_SECONDS', '0.2')) * ms:g} ms"
    )
    failures = []
    if missing:
        failures.append(f"{missing} sale(s) never arrived")
    if backwards:
        failures.append(f"{backwards} event(s) arrived older than one before")
    if not final_ok:
        failures.append("a SKU's last event is not its final sequence")
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))
    print("checks passed: every sale arrived, in order, ending at the final numbers")


def _last(accepted) -> dict[str, int]:
    last = {}
    for sku, sequence, _ in accepted:
        last[sku] = sequence
    return last


if __name__ == "__main__":
    main()
