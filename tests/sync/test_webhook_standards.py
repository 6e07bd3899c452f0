"""The standards integrators' tools already speak: a web shop checks its deliveries
with the standardwebhooks library, rotates its secret without refusing one, parses
CloudEvents with the cloudevents SDK, and a receiver that answers 410 Gone is left
alone. Every delivery here is a real POST to a real HTTP receiver on this machine."""

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from config.access import Actor
from reconciliation.models import ExceptionCase
from sync.models import WebhookSubscription
from sync.services import (
    SubscriptionInput,
    changes_place,
    webhook_deliveries_send,
    webhook_subscription_create,
)
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, StockEvents

pytestmark = pytest.mark.django_db(transaction=True)
GONE = "the receiver answered 410 Gone: it asked to stop receiving"


def onestock_signature_ok(secret: str, header: str, body: bytes, tolerance=300) -> bool:
    """An ``onestock-v1`` receiver's check, as docs/sync.md gives it: the header
    parsed, the age checked, each ``v1`` digest compared in constant time (two
    during a rotation's grace)."""
    timestamp, digests = None, []
    for item in header.split(","):
        name, _, value = item.partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            digests.append(value)
    try:
        timestamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:  # refuses a replay
        return False
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, digest) for digest in digests)


def subscribe(channel, receiver, **extra) -> WebhookSubscription:
    return webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=channel, url=receiver.url, event_kinds=[], **extra
        ),
        actor=Actor(name="test"),
    )


def till_sale_sent(floor, subscription) -> None:
    """A till sells a tee at Oxford Street; the push sends what it changed."""
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["pos"],
    )  # fmt: skip
    changes_place()
    webhook_deliveries_send(subscription_id=subscription.pk)


@pytest.fixture
def stocked(floor, settings):
    settings.WEBHOOK_COALESCE_SECONDS = 0
    StockEvents.post("receipt", sku=floor["tee"], location=floor["store"], quantity=10)
    changes_place()  # the shelf as it was before the shop subscribed
    return floor


@pytest.fixture
def shop(stocked):
    """The web shop's integration, its token bound to its channel."""
    _, raw = ApiTokenFactory.issue(name="shopify", channel_code="web")
    return client_for(raw)


def test_a_web_shop_rotates_its_secret_and_checks_with_either_during_the_grace(
    shop, stocked, receiver, settings
):
    made = shop.post("/api/v1/webhooks/", {"url": receiver.url}, format="json").json()
    old_secret = made["secret"]
    rotated = shop.post(f"/api/v1/webhooks/{made['id']}/rotate-secret/")
    assert rotated.status_code == 200, rotated.content
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    grace_ends = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    expires = rotated.json()["previous_secret_expires_at"]
    assert abs(timezone.datetime.fromisoformat(expires) - grace_ends) < timedelta(
        minutes=1
    )
    # Shown once: a read does not show it again.
    assert "secret" not in shop.get(f"/api/v1/webhooks/{made['id']}/").json()

    subscription = WebhookSubscription.objects.get(pk=made["id"])
    till_sale_sent(stocked, subscription)
    delivery = receiver.received[-1]
    # Two signatures, the new secret's first: a receiver still on the old secret
    # and one already on the new both accept it.
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old_secret).verify(delivery.body, delivery.headers)
    assert Webhook(new_secret).verify(delivery.body, delivery.headers)

    # The grace over, only the new secret signs.
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    till_sale_sent(stocked, subscription)
    later = receiver.received[-1]
    assert later.body != delivery.body
    assert Webhook(new_secret).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(later.body, later.headers)
    timeline = [event.action for event in subscription.events.all()]
    assert timeline == ["webhook_subscription_create", "webhook_secret_rotate"]


def test_an_onestock_v1_receiver_accepts_either_secret_during_the_grace(
    stocked, receiver
):
    subscription = subscribe(stocked["web"], receiver, signature_scheme="onestock-v1")
    old_secret = subscription.secret
    from sync.services import webhook_secret_rotate

    subscription = webhook_secret_rotate(
        subscription_id=subscription.pk, actor=Actor(name="user:maria")
    )
    till_sale_sent(stocked, subscription)
    got = receiver.received[-1]
    header = got.headers["OneStock-Signature"]
    assert header.count("v1=") == 2
    for secret in (old_secret, subscription.secret):
        assert onestock_signature_ok(secret, header, got.body)
    assert not onestock_signature_ok("whsec_nobody", header, got.body)


def test_a_channel_rotates_only_its_own_subscriptions_secret(shop, stocked, receiver):
    theirs = subscribe(stocked["pos"], receiver)
    refused = shop.post(f"/api/v1/webhooks/{theirs.pk}/rotate-secret/")
    assert refused.status_code == 404
    theirs_now = WebhookSubscription.objects.get(pk=theirs.pk)
    assert (theirs_now.secret, theirs_now.previous_secret) == (theirs.secret, "")


def test_a_secret_the_standard_libraries_cannot_decode_is_refused(shop, stocked):
    refused = shop.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hooks", "secret": "whsec_not-base64-at-all!!"},
        format="json",
    )
    assert refused.status_code == 400
    assert "secret" in refused.json()
    assert not WebhookSubscription.objects.exists()
    # The old scheme takes it whole, as it always did.
    kept = shop.post(
        "/api/v1/webhooks/",
        {
            "url": "http://127.0.0.1:9/hooks",
            "secret": "whsec_not-base64-at-all!!",
            "signature_scheme": "onestock-v1",
        },
        format="json",
    )
    assert kept.status_code == 201, kept.content
    assert kept.json()["signature_scheme"] == "onestock-v1"


def test_a_receiver_that_answers_410_is_switched_off_and_a_manager_told_why(
    stocked, receiver, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    subscription = subscribe(stocked["web"], receiver)
    receiver.answer = 410
    till_sale_sent(stocked, subscription)
    till_sale_sent(stocked, subscription)  # nothing more is tried
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.state) == (False, "failing")
    assert subscription.retry_at is None
    assert [a.status_code for a in subscription.attempts.all()] == [410]
    case = ExceptionCase.objects.get(kind="webhook_failing", status="open")
    assert GONE in case.title and GONE in case.detail
    gone = subscription.events.get(action="webhook_gone")
    assert (gone.from_status, gone.to_status) == ("healthy", "failing")
    assert GONE in gone.note


def test_a_cloudevents_subscription_is_sent_structured_cloudevents(
    shop, stocked, receiver
):
    made = shop.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "format": "cloudevents"},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["format"] == "cloudevents"
    subscription = WebhookSubscription.objects.get(pk=made.json()["id"])
    till_sale_sent(stocked, subscription)
    delivery = receiver.received[-1]
    assert delivery.headers["Content-Type"] == "application/cloudevents+json"
    # Signed like any other: over the exact bytes sent.
    Webhook(made.json()["secret"]).verify(delivery.body, delivery.headers)

    # The SDK 2.2's reader (cloudevents.core; the older cloudevents.http moved to
    # cloudevents.v1.http).
    event = from_http_event(HTTPMessage(delivery.headers, delivery.body))
    assert event.get_specversion() == "1.0"
    assert event.get_id() == delivery.headers["webhook-id"]
    assert event.get_source() == "/onestock/channels/web"
    assert event.get_type() == "com.onestock.availability.changed"
    assert event.get_subject() == "sku/TEE-BLK-M/location/LON-OXF"
    assert event.get_datacontenttype() == "application/json"
    assert abs(event.get_time() - timezone.now()) < timedelta(minutes=1)
    data = event.get_data()
    assert (data["sku"], data["location"], data["channel"]) == (
        "TEE-BLK-M", "LON-OXF", "web",
    )  # fmt: skip
    assert (data["sequence"], data["quantities"]["on_hand"]) == (2, 9)


def test_a_subscription_switches_to_cloudevents_and_back(shop, stocked, receiver):
    made = shop.post("/api/v1/webhooks/", {"url": receiver.url}, format="json").json()
    url = f"/api/v1/webhooks/{made['id']}/"
    assert (
        shop.patch(url, {"format": "cloudevents"}, format="json").json()["format"]
        == "cloudevents"
    )
    refused = shop.patch(url, {"format": "xml"}, format="json")
    assert refused.status_code == 400 and "format" in refused.json()
    # The scheme is what the receiver checks: chosen when subscribing, not here.
    unknown = shop.patch(url, {"signature_scheme": "onestock-v1"}, format="json")
    assert unknown.status_code == 400
    assert WebhookSubscription.objects.get().signature_scheme == "standard"


def test_the_subscriptions_made_before_keep_the_signature_their_receivers_check(
    floor,
):
    """The migration: a subscription that existed is ``onestock-v1`` (its receiver
    checks OneStock-Signature), one made after is ``standard``."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("sync", "0008_order_supply_arrived")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        old = old_apps.get_model("sync", "WebhookSubscription").objects.create(
            channel_id=floor["web"].pk, url="https://shop.example/hooks",
            secret="whsec_made-last-year", event_kinds=[],
        )  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    kept = WebhookSubscription.objects.get(pk=old.pk)
    assert (kept.signature_scheme, kept.format, kept.secret) == (
        "onestock-v1", "onestock", "whsec_made-last-year",
    )  # fmt: skip
    made = WebhookSubscription.objects.create(channel=floor["web"], url=kept.url)
    assert made.signature_scheme == "standard"


def test_the_admin_refuses_a_standard_secret_on_the_form(floor):
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin = Client()
    admin.force_login(
        get_user_model().objects.create_superuser("root", password="pw-123456!")
    )
    form = {
        "channel": floor["web"].pk, "url": "https://shop.example/hooks",
        "is_active": "on", "signature_scheme": "standard", "format": "cloudevents",
        "secret": "whsec_not-base64-at-all!!",
        # The timeline and the attempts beneath, empty for a new subscription.
        **{
            f"{inline}-{count}": "0"
            for inline in ("events", "attempts")
            for count in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }  # fmt: skip
    refused = admin.post("/admin/sync/webhooksubscription/add/", form)
    assert refused.status_code == 200
    assert "the base64 of 24 to 64 random bytes" in refused.content.decode()
    assert not WebhookSubscription.objects.exists()
    made = admin.post(
        "/admin/sync/webhooksubscription/add/",
        {**form, "secret": "whsec_" + "QUJD" * 8},  # 24 bytes
    )
    assert made.status_code == 302, made.content.decode()[-2000:]
    subscription = WebhookSubscription.objects.get()
    assert (subscription.signature_scheme, subscription.format) == (
        "standard", "cloudevents",
    )  # fmt: skip


def test_every_kind_has_its_cloudevent_type_and_subject():
    """What an event router keys on: the type under com.onestock., and what changed
    as the subject, for the network kind and an order's event too."""
    from sync.cloudevents import cloudevent

    at = "2026-12-07T10:00:00+00:00"
    network = cloudevent(
        channel="web",
        event={
            "id": "evt_net_7", "type": "network_availability.changed",
            "created_at": at, "data": {"sku": "TEE-BLK-M", "channel": "web"},
        },
    )  # fmt: skip
    assert (network["type"], network["subject"]) == (
        "com.onestock.network_availability.changed", "sku/TEE-BLK-M/network",
    )  # fmt: skip
    order = cloudevent(
        channel="web",
        event={
            "id": "evt_order_9", "type": "order.supply_arrived", "created_at": at,
            "data": {"order": "WEB-1001", "lines": []},
        },
    )  # fmt: skip
    assert (order["type"], order["subject"], order["time"]) == (
        "com.onestock.order.supply_arrived", "order/WEB-1001", at,
    )  # fmt: skip
    assert order["data"] == {"order": "WEB-1001", "lines": []}
