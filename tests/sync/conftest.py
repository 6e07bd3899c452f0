"""A shop floor for channel sync, and a real HTTP receiver on this machine that
records every webhook it is sent (or is down, or answers errors, when told to)."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.factories import ChannelFactory, LocationFactory, SkuFactory


@pytest.fixture(autouse=True)
def _receivers_on_this_machine(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def floor(db):
    return {
        "store": LocationFactory(code="LON-OXF"),
        "warehouse": LocationFactory(code="WH-DAV", kind="warehouse"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "hoodie": SkuFactory(code="HOOD-GRE-L"),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=1),
        "wms": ChannelFactory(code="wms", kind="back_office"),
    }


@dataclass
class Received:
    headers: dict
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An e-commerce platform's endpoint. ``answer`` is the status it replies with;
    ``stop()`` takes it off the network and ``start()`` brings it back on the same
    port."""

    port: int = 0
    answer: int = 200
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/stock"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answer_to(body)
                if status == 200:
                    with receiver.arrived:
                        receiver.received.append(Received(dict(self.headers), body))
                        receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer_to(self, body: bytes) -> int:
        """The status this event is answered with (a test's receiver may pick)."""
        return self.answer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 15) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received)

    def events(self) -> list[dict]:
        return [item.event for item in self.received]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def worker_env():
    # Retries a second apart, so a receiver down then back is seen in seconds; the
    # worker sends to this machine's receiver, which the send-time check would refuse.
    return {
        "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1,1,1,1,1,1",
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": "1",
    }


@pytest.fixture
def pushing(settings, celery_worker):
    """Kicks after commit go to this test's worker."""
    settings.SYNC_QUEUE = celery_worker
    return celery_worker
