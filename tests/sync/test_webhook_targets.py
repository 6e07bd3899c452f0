"""A webhook goes to a public address only: refused when subscribing to any form of
an address inside the network (IPv6's included), checked again when sending (a name
may be pointed inside after it was subscribed: DNS rebinding), and connected to the
address checked, with TLS still checking the name. No real DNS: the names here are
answered by the test."""

import ipaddress
import socket
import ssl
import threading

import pytest
import trustme

from config.access import Actor
from sync.models import WebhookAttempt, WebhookSubscription
from sync.services import (
    SubscriptionInput,
    changes_place,
    webhook_deliveries_send,
    webhook_subscription_create,
    webhooks,
)
from sync.targets import inside
from tests.factories import StockEvents
from tests.sync.conftest import Receiver

SHOP = "hooks.shop.example"
PUBLIC = "93.184.216.34"

INSIDE = [
    "127.0.0.1",
    "10.1.2.3",
    "169.254.169.254",  # the cloud's metadata service
    "100.64.0.1",  # shared address space (carrier NAT)
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fd00::1",
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:0:7f00:1",  # IPv4-translated
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata service
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:808:808::",  # 6to4 at all: not routed on the internet
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "fec0::1",  # site-local
    "ff02::1",
]
OUTSIDE = [PUBLIC, "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", INSIDE)
def test_every_form_of_an_address_inside_is_inside(address):
    assert inside(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", OUTSIDE)
def test_public_addresses_are_not(address):
    assert inside(ipaddress.ip_address(address)) is None


class Dns:
    """Answers for the names a test gives, in turn (the last one stays); every
    other name or address goes to the machine's own resolver."""

    def __init__(self):
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []

    def set(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)

    def getaddrinfo(self, real, host, port, *args, **kwargs):
        if host not in self.answers:
            return real(host, port, *args, **kwargs)
        self.asked.append(host)
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        found = []
        for address in addresses:
            if ":" in address:
                found.append(
                    (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                )
            else:
                found.append(
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                )
        return found


@pytest.fixture
def dns(monkeypatch):
    fake, real = Dns(), socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: fake.getaddrinfo(real, *a, **k)
    )
    return fake


@pytest.fixture
def private_refused(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False


def subscribe(channel, url) -> WebhookSubscription:
    return webhook_subscription_create(
        subscription=SubscriptionInput(channel=channel, url=url, event_kinds=[]),
        actor=Actor(name="test"),
    )


def a_change_waits(floor) -> None:
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["pos"],
    )  # fmt: skip
    changes_place()


@pytest.mark.parametrize(
    "url",
    [
        "http://[::127.0.0.1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[64:ff9b::7f00:1]/hooks",
        "http://[64:ff9b::a9fe:a9fe]/latest/",
        "http://[2002:7f00:1::]/hooks",
        "http://[2002:a9fe:a9fe::]/hooks",
        "http://[fec0::1]/hooks",
    ],
)
def test_an_ipv6_address_that_reaches_inside_is_refused_when_subscribing(
    api, floor, private_refused, url
):
    refused = api.post("/api/v1/webhooks/", {"channel": "web", "url": url})
    assert refused.status_code == 400, refused.content
    assert "is not a public address" in refused.json()["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_a_name_with_one_address_inside_among_public_ones_is_refused(
    api, floor, private_refused, dns, caplog
):
    dns.set(SHOP, [PUBLIC, "64:ff9b::a9fe:a9fe"])
    refused = api.post(
        "/api/v1/webhooks/", {"channel": "web", "url": f"https://{SHOP}/hooks"}
    )
    assert refused.status_code == 400
    told = refused.json()["url"][0]
    assert "is not a public address" in told
    # The inside address is for the server's log, not for a caller mapping the
    # retailer's network one name at a time.
    assert "169.254" not in told and "64:ff9b" not in told
    assert "which reaches 169.254.169.254" in caplog.text
    assert not WebhookSubscription.objects.exists()


def test_a_name_pointed_inside_after_subscribing_is_refused_at_sending(
    floor, receiver, private_refused, dns
):
    """The shop's name was public when it subscribed; by the time a change goes out
    it answers this machine, where the receiver stands for an internal service. The
    POST is not made: the attempt says why, and the subscription waits to retry."""
    dns.set(SHOP, [PUBLIC], ["127.0.0.1"])
    subscription = subscribe(floor["web"], f"http://{SHOP}:{receiver.port}/hooks")
    a_change_waits(floor)

    assert webhook_deliveries_send(subscription_id=subscription.pk).delivered == 0

    assert receiver.received == []
    (attempt,) = WebhookAttempt.objects.filter(subscription=subscription)
    assert not attempt.succeeded and attempt.status_code is None
    assert attempt.error.startswith(f"Refused: {SHOP} is not a public address")
    assert "127.0.0.1" not in attempt.error  # the inside address is not told
    subscription.refresh_from_db()
    assert subscription.state == WebhookSubscription.State.RETRYING


def test_the_post_goes_to_the_address_checked_not_to_a_second_answer(
    floor, receiver, dns
):
    """The name answers this machine's receiver when checked and somewhere else a
    moment later: the connection is made to the address checked, with no second
    look-up, and the receiver is told the name it was sent to."""
    dns.set(SHOP, ["127.0.0.1"], ["127.0.0.2"])
    subscription = subscribe(floor["web"], f"http://{SHOP}:{receiver.port}/hooks")
    a_change_waits(floor)

    assert webhook_deliveries_send(subscription_id=subscription.pk).delivered == 1

    assert dns.asked == [SHOP]
    (got,) = receiver.received
    assert got.headers["Host"] == f"{SHOP}:{receiver.port}"


class TlsReceiver(Receiver):
    context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return f"https://{SHOP}:{self.port}/hooks/stock"

    def start(self) -> None:
        super().start()  # nothing connects before the test sends
        self.server.socket = self.context.wrap_socket(
            self.server.socket, server_side=True
        )


@pytest.fixture
def certificate_authority(tmp_path, monkeypatch):
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setattr(webhooks._session, "verify", str(bundle))
    return authority


def tls_receiver(authority, name: str) -> TlsReceiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(name).configure_cert(context)
    receiver = TlsReceiver()
    receiver.context = context
    receiver.start()
    return receiver


def test_https_to_the_pinned_address_still_checks_the_certificate_name(
    floor, dns, certificate_authority
):
    dns.set(SHOP, ["127.0.0.1"])
    good = tls_receiver(certificate_authority, SHOP)
    impostor = tls_receiver(certificate_authority, "someone-else.example")
    try:
        delivered = subscribe(floor["web"], good.url)
        refused = subscribe(floor["web"], impostor.url)
        a_change_waits(floor)

        assert webhook_deliveries_send(subscription_id=delivered.pk).delivered == 1
        assert webhook_deliveries_send(subscription_id=refused.pk).delivered == 0

        assert len(good.received) == 1 and impostor.received == []
        (attempt,) = WebhookAttempt.objects.filter(subscription=refused)
        assert attempt.error.startswith("SSLError")
        assert "doesn't match 'someone-else.example'" in attempt.error
    finally:
        for receiver in (good, impostor):
            threading.Thread(target=receiver.stop, daemon=True).start()
