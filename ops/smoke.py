"""The acceptance stories, over HTTP, against a running system (``make up``):

    python -m ops.smoke                  # the system of .run/ (UP_RUN_DIR)
    python -m ops.smoke --url URL --token TOKEN   # any other, with a token of yours

1. a hold placed (201, ``active``);
2. an order placed from it (201; the hold becomes ``ordered``);
3. a webhook delivered by the real worker: a receiver of the smoke's own on a free
   local port subscribes, a receipt moves stock, and the signed delivery arrives
   (signature checked with the standardwebhooks library);
4. a hold with a two-second expiry released by beat's sweep
   (``inventory.expire_reservations``, every minute): its timeline gains the move to
   ``expired`` by ``system:expiry`` (reading ``expired`` alone would not prove it: the
   status reads so from ``expires_at`` on, swept or not).

Each story prints one line when it passes; a failure exits 1 saying what failed.
Without ``--token``, an integration token is issued with ``manage.py
create_api_token`` on the system's database (from its run state). Every run makes
master data of its own (codes ending in a random suffix), so runs never collide.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ROOT = Path(__file__).resolve().parents[1]


class StoryFailed(Exception):
    pass


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.base = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, body=None, *, expect=(200, 201)) -> dict:
        answer = self.session.request(method, self.base + path, json=body, timeout=30)
        if answer.status_code not in expect:
            raise StoryFailed(
                f"{method} {path} answered {answer.status_code}, not "
                f"{' or '.join(map(str, expect))}: {answer.text[:500]}"
            )
        return answer.json() if answer.content else {}


class Receiver:
    """A channel's webhook endpoint on this machine: keeps every POST it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.arrived:
                    receiver.received.append((dict(self.headers), body))
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/stock"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, found, timeout: float):
        """The first delivery ``found(headers, body)`` accepts, or None in time."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for headers, body in self.received:
                    if found(headers, body):
                        return headers, body
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def now() -> str:
    return datetime.now(UTC).isoformat()


def passed(line: str) -> None:
    print(f"ok  {line}", flush=True)


def issue_token(run_dir: Path, name: str) -> str:
    try:
        state = json.loads((run_dir / "state.json").read_text())
    except FileNotFoundError:
        raise StoryFailed(
            f"No system running from {run_dir} (no state.json): `make up` first, or "
            "give --url and --token."
        ) from None
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_token", name],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": state["database_url"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode or not done.stdout.strip():
        raise StoryFailed(f"create_api_token failed: {done.stderr[-1000:]}")
    return done.stdout.strip().splitlines()[-1]


def url_from_state(run_dir: Path) -> str:
    try:
        return json.loads((run_dir / "state.json").read_text())["url"]
    except FileNotFoundError:
        raise StoryFailed(
            f"No system running from {run_dir} (no state.json): `make up` first."
        ) from None


def master_data(api: Api, suffix: str) -> dict:
    codes = {
        "web": f"smoke-web-{suffix}",
        "wms": f"smoke-wms-{suffix}",
        "warehouse": f"SMOKE-WH-{suffix}",
        "sku": f"SMOKE-TEE-{suffix}",
    }
    api.call(
        "PUT",
        f"/api/v1/channels/{codes['web']}/",
        {"name": f"Smoke web shop {suffix}", "kind": "web", "safety_buffer": 0},
    )
    api.call(
        "PUT",
        f"/api/v1/channels/{codes['wms']}/",
        {"name": f"Smoke WMS {suffix}", "kind": "back_office"},
    )
    api.call(
        "PUT",
        f"/api/v1/locations/{codes['warehouse']}/",
        {
            "name": f"Smoke warehouse {suffix}",
            "kind": "warehouse",
            "country": "GB",
            "latitude": 51.5,
            "longitude": -0.12,
        },
    )
    api.call("PUT", f"/api/v1/skus/{codes['sku']}/", {"name": f"Smoke tee {suffix}"})
    return codes


def receive(api: Api, codes: dict, quantity: int, reference: str) -> None:
    api.call(
        "POST",
        "/api/v1/movements/",
        {
            "reference": reference,
            "type": "receipt",
            "sku": codes["sku"],
            "location": codes["warehouse"],
            "quantity": quantity,
            "occurred_at": now(),
            "channel": codes["wms"],
        },
        expect=(201,),
    )


def hold(api: Api, codes: dict, reference: str, quantity: int, ttl: int) -> dict:
    return api.call(
        "POST",
        "/api/v1/reservations/",
        {
            "reference": reference,
            "channel": codes["web"],
            "ttl_seconds": ttl,
            "lines": [
                {
                    "sku": codes["sku"],
                    "location": codes["warehouse"],
                    "quantity": quantity,
                }
            ],
        },
        expect=(201,),
    )


def story_hold(api: Api, codes: dict, suffix: str) -> dict:
    reservation = hold(api, codes, f"CART-{suffix}", 2, 600)
    if reservation["status"] != "active":
        raise StoryFailed(f"the hold reads {reservation['status']!r}, not 'active'")
    passed(
        f"hold placed: reservation {reservation['id']} active, 2 units of "
        f"{codes['sku']} until {reservation['expires_at']}"
    )
    return reservation


def story_order(api: Api, codes: dict, suffix: str, reservation: dict) -> None:
    order = api.call(
        "POST",
        "/api/v1/orders/",
        {
            "reference": f"WEB-{suffix}",
            "channel": codes["web"],
            "fulfilment_method": "ship",
            "customer": {"name": "Ada Byron", "email": "ada@example.com"},
            "delivery_address": {
                "address": "1 Upper Street",
                "city": "London",
                "postal_code": "N1 0PN",
                "country": "GB",
                "latitude": 51.5362,
                "longitude": -0.1033,
            },
            "reservation": reservation["id"],
        },
        expect=(201,),
    )
    held = api.call("GET", f"/api/v1/reservations/{reservation['id']}/")
    if held["status"] != "ordered":
        raise StoryFailed(f"the hold reads {held['status']!r} after the order")
    units = sum(line["quantity"] for line in order["lines"])
    passed(
        f"order placed: {order['reference']} {order['status']}, {units} units "
        f"committed from hold {reservation['id']} (now ordered)"
    )


def story_webhook(api: Api, codes: dict, suffix: str, timeout: float) -> None:
    receiver = Receiver()
    subscription = None
    try:
        subscription = api.call(
            "POST",
            "/api/v1/webhooks/",
            {
                "channel": codes["web"],
                "url": receiver.url,
                "event_kinds": ["availability.changed"],
                "is_active": True,
            },
            expect=(201,),
        )
        secret = subscription["secret"]
        # On hand 10 (the first receipt; the order committed units but moved none).
        receive(api, codes, 5, f"ASN-{suffix}-2")
        started = time.monotonic()

        def ours(headers: dict, body: bytes) -> bool:
            data = json.loads(body).get("data", {})
            return (
                data.get("sku") == codes["sku"]
                and data.get("location") == codes["warehouse"]
                and data.get("quantities", {}).get("on_hand") == 15
            )

        delivery = receiver.wait_for(ours, timeout)
        if delivery is None:
            raise StoryFailed(
                f"no webhook for the receipt within {timeout:.0f} s "
                f"({len(receiver.received)} other deliveries): is the worker "
                "running and listening on the system's queue? See logs/worker.log."
            )
        for headers, body in receiver.received:
            try:  # Standard Webhooks, as every new subscription is signed
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as error:
                raise StoryFailed(f"a delivery's signature is wrong: {error}") from None
            named = {name.lower(): value for name, value in headers.items()}
            if named.get("webhook-id") != json.loads(body)["id"]:
                raise StoryFailed("a delivery's event id header differs from its body")
        event = json.loads(delivery[1])
        passed(
            f"webhook delivered by the worker in {time.monotonic() - started:.1f} s: "
            f"{event['type']} {event['id']}, {codes['sku']} on hand 15, "
            f"available to promise {event['data']['available_to_promise']}, "
            "signature valid"
        )
    finally:
        if subscription is not None:  # nothing left to retry once the receiver is gone
            api.call(
                "DELETE", f"/api/v1/webhooks/{subscription['id']}/", expect=(204, 404)
            )
        receiver.close()


def story_expiry(api: Api, codes: dict, suffix: str, timeout: float) -> None:
    reservation = hold(api, codes, f"CART-{suffix}-lapsing", 1, 2)
    started = time.monotonic()
    while True:
        current = api.call("GET", f"/api/v1/reservations/{reservation['id']}/")
        swept = [
            move for move in current["transitions"] if move["to_status"] == "expired"
        ]
        if swept:
            break
        if time.monotonic() - started > timeout:
            raise StoryFailed(
                f"hold {reservation['id']} past its expiry was not released by beat's "
                f"sweep within {timeout:.0f} s (it runs every minute): is beat running? "
                "See logs/beat.log and logs/worker.log."
            )
        time.sleep(2)
    if "expiry" not in swept[0]["actor"]:
        raise StoryFailed(
            f"the hold was expired by {swept[0]['actor']!r}, not the sweep"
        )
    passed(
        f"hold expired by beat: reservation {reservation['id']} released by "
        f"{swept[0]['actor']} {time.monotonic() - started:.0f} s after it was placed"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.smoke", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--run-dir",
        default=os.environ.get("UP_RUN_DIR") or str(ROOT / ".run"),
        help="the run folder of `make up` (default .run/, or UP_RUN_DIR)",
    )
    parser.add_argument("--url", help="the system's URL (default: from the run state)")
    parser.add_argument("--token", default=os.environ.get("SMOKE_TOKEN"))
    parser.add_argument("--webhook-timeout", type=float, default=60)
    parser.add_argument("--expiry-timeout", type=float, default=150)
    args = parser.parse_args(argv)
    suffix = secrets.token_hex(3).upper()
    run_dir = Path(args.run_dir).expanduser().resolve()
    story = "setup"
    try:
        url = args.url or url_from_state(run_dir)
        for path in ("healthz", "readyz"):
            status = requests.get(url.rstrip("/") + f"/{path}", timeout=10).status_code
            if status != 200:
                raise StoryFailed(f"/{path} answered {status}")
        token = args.token or issue_token(run_dir, f"smoke-{suffix.lower()}")
        api = Api(url, token)
        codes = master_data(api, suffix)
        receive(api, codes, 10, f"ASN-{suffix}-1")
        passed(
            f"{url} ready; master data {codes['sku']} at {codes['warehouse']}, 10 received"
        )
        story = "hold"
        reservation = story_hold(api, codes, suffix)
        story = "order"
        story_order(api, codes, suffix, reservation)
        story = "webhook"
        story_webhook(api, codes, suffix, args.webhook_timeout)
        story = "expiry"
        story_expiry(api, codes, suffix, args.expiry_timeout)
    except StoryFailed as failure:
        print(f"FAILED  {story}: {failure}", file=sys.stderr)
        return 1
    except requests.RequestException as error:
        print(
            f"FAILED  {story}: the system cannot be reached: {error}", file=sys.stderr
        )
        return 1
    print("smoke: every story passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
