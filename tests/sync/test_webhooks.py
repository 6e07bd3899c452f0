"""A web shop subscribes to availability changes; a real worker on Redis pushes each
change to a real HTTP receiver on this machine, signed, in order, at least once."""

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from config.access import Actor
from inventory.models import AvailabilityChange
from reconciliation.models import ExceptionCase
from sync.models import WebhookAttempt, WebhookSubscription, new_secret
from sync.services import (
    SubscriptionInput,
    changes_place,
    webhook_deliveries_send,
    webhook_resend,
    webhook_subscription_create,
)
from tests.factories import ApiTokenFactory, StockEvents

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(channel, receiver, **extra) -> WebhookSubscription:
    return webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=channel, url=receiver.url, event_kinds=[], **extra
        ),
        actor=Actor(name="test"),
    )


def till_sale(api, floor, sku="TEE-BLK-M", reference=None, quantity=1):
    response = api.post(
        "/api/v1/movements/",
        {
            "reference": reference or f"SALE-{time.monotonic_ns()}",
            "type": "sale",
            "sku": sku,
            "location": "LON-OXF",
            "quantity": quantity,
            "occurred_at": timezone.now().isoformat(),
            "channel": "pos",
        },
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    return response


def eventually(read, timeout=10):
    """What ``read`` answers once it answers something: the worker records an
    attempt just after the receiver has answered."""
    deadline = time.monotonic() + timeout
    while not (found := read()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)
    return found


def latest_by_key(events):
    """What a receiver that keeps the highest sequence per SKU and location holds."""
    held = {}
    for event in events:
        data = event["data"]
        key = (data["sku"], data["location"])
        if key not in held or data["sequence"] > held[key]["sequence"]:
            held[key] = data
    return held


@pytest.fixture
def stocked(floor):
    StockEvents.post("receipt", sku=floor["tee"], location=floor["store"], quantity=10)
    StockEvents.post(
        "receipt", sku=floor["hoodie"], location=floor["store"], quantity=10
    )
    changes_place()  # the shelf as it was before the shop subscribed
    return floor


def test_a_till_sale_reaches_the_web_shop_signed_with_its_numbers(
    api, stocked, receiver, pushing
):
    """A new subscription is signed the Standard Webhooks way: the web shop checks
    it with the standardwebhooks library, as any of its receivers would."""
    subscription = subscribe(stocked["web"], receiver)
    assert subscription.signature_scheme == "standard"
    till_sale(api, stocked)
    (delivery,) = receiver.wait_for(1)
    assert Webhook(subscription.secret).verify(delivery.body, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(delivery.body, delivery.headers)
    event = delivery.event
    assert delivery.headers["webhook-id"] == event["id"]
    assert delivery.headers["Content-Type"] == "application/json"
    assert "OneStock-Signature" not in delivery.headers
    assert event["type"] == "availability.changed"
    data = event["data"]
    assert (data["sku"], data["location"], data["channel"]) == (
        "TEE-BLK-M", "LON-OXF", "web",
    )  # fmt: skip
    assert data["sequence"] == 2
    assert data["quantities"]["on_hand"] == 9
    assert data["quantities"]["available"] == 9
    # The web shop keeps one unit back.
    assert (data["safety_buffer"], data["available_to_promise"]) == (1, 8)
    attempt = eventually(lambda: WebhookAttempt.objects.first())
    assert (attempt.status_code, attempt.succeeded) == (200, True)


def test_a_receiver_down_then_back_gets_every_change_latest_last(
    api, stocked, receiver, pushing
):
    subscribe(stocked["web"], receiver)
    receiver.stop()
    for _ in range(3):
        till_sale(api, stocked)
    till_sale(api, stocked, sku="HOOD-GRE-L", quantity=2)
    failed = eventually(lambda: WebhookAttempt.objects.filter(succeeded=False).first())
    assert failed.status_code is None and "Connection" in failed.error
    assert WebhookSubscription.objects.get().state == "retrying"

    receiver.start()  # the same port: the shop's endpoint is back
    held = {}
    deadline = time.monotonic() + 20
    while held.get(("TEE-BLK-M", "LON-OXF"), {}).get("sequence") != 4 or (
        held.get(("HOOD-GRE-L", "LON-OXF"), {}).get("sequence") != 2
    ):
        assert time.monotonic() < deadline, receiver.events()
        time.sleep(0.1)
        held = latest_by_key(receiver.events())
    assert held[("TEE-BLK-M", "LON-OXF")]["quantities"]["on_hand"] == 7
    assert held[("HOOD-GRE-L", "LON-OXF")]["quantities"]["on_hand"] == 8
    # Per SKU and location, what arrived only ever went forward.
    for key in held:
        sequences = [
            e["data"]["sequence"]
            for e in receiver.events()
            if (e["data"]["sku"], e["data"]["location"]) == key
        ]
        assert sequences == sorted(set(sequences))
    subscription = WebhookSubscription.objects.get()
    assert subscription.state == "healthy"
    assert subscription.consecutive_failures == 0


def test_a_sale_rolled_back_sends_nothing(api, stocked, receiver, pushing):
    subscribe(stocked["web"], receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        StockEvents.post(
            "sale", sku=stocked["hoodie"], location=stocked["store"], quantity=5,
            channel=stocked["pos"],
        )  # fmt: skip
        raise RuntimeError("the request failed after the write")
    till_sale(api, stocked)
    receiver.wait_for(1)
    time.sleep(1.5)  # time enough for anything else to arrive
    assert [e["data"]["sku"] for e in receiver.events()] == ["TEE-BLK-M"]


def test_a_burst_on_one_sku_is_sent_as_one_event_with_the_latest_numbers(
    stocked, receiver, pushing
):
    subscribe(stocked["web"], receiver)
    for _ in range(10):
        StockEvents.post(
            "sale", sku=stocked["tee"], location=stocked["store"], quantity=1,
            channel=stocked["pos"],
        )  # fmt: skip
    receiver.wait_for(1)
    time.sleep(1.5)
    events = receiver.events()
    assert len(events) < 10
    assert events[-1]["data"]["sequence"] == 11
    assert events[-1]["data"]["quantities"]["on_hand"] == 0


def test_the_same_till_event_twice_sends_one_webhook(api, stocked, receiver, pushing):
    subscribe(stocked["web"], receiver)
    first = till_sale(api, stocked, reference="SALE-77")
    again = api.post("/api/v1/movements/", first.json() | {}, format="json")
    receiver.wait_for(1)
    time.sleep(1.5)
    assert again.status_code in (200, 400)
    assert len(receiver.events()) == 1


@pytest.mark.sqlite_too
def test_a_resent_event_is_the_same_event_and_changes_nothing_for_the_receiver(
    stocked, receiver, settings
):
    settings.WEBHOOK_COALESCE_SECONDS = 0
    subscription = subscribe(stocked["web"], receiver)
    StockEvents.post(
        "sale", sku=stocked["tee"], location=stocked["store"], quantity=1,
        channel=stocked["pos"],
    )  # fmt: skip
    changes_place()
    webhook_deliveries_send(subscription_id=subscription.pk)
    webhook_resend(
        subscription_id=subscription.pk,
        since=timezone.now() - timedelta(minutes=5),
        actor=Actor(name="user:maria"),
    )
    webhook_deliveries_send(subscription_id=subscription.pk)
    # The re-send carries the hoodie too (it changed in those five minutes).
    first, second = [e for e in receiver.events() if e["data"]["sku"] == "TEE-BLK-M"]
    assert first["id"] == second["id"]
    assert first["data"]["sequence"] == second["data"]["sequence"]
    assert latest_by_key([first]) == latest_by_key([first, second])


@pytest.mark.sqlite_too
def test_after_a_day_of_failures_the_subscription_is_failing_and_a_manager_is_told(
    stocked, receiver, settings
):
    settings.WEBHOOK_COALESCE_SECONDS = 0
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    subscription = subscribe(stocked["web"], receiver)
    receiver.answer = 503
    StockEvents.post(
        "sale", sku=stocked["tee"], location=stocked["store"], quantity=1,
        channel=stocked["pos"],
    )  # fmt: skip
    changes_place()
    # None delivered, and a POST failed (the push task asks for a retry only then).
    assert webhook_deliveries_send(subscription_id=subscription.pk) == (0, True)
    subscription.refresh_from_db()
    assert subscription.state == "failing"
    assert subscription.attempts.count() == 4  # the first try and three retries
    assert subscription.attempts.first().status_code == 503
    case = ExceptionCase.objects.get(kind="webhook_failing", status="open")
    assert "web webhook failing" in case.title

    # Fixed: a manager re-sends from before the outage.
    receiver.answer = 200
    webhook_resend(
        subscription_id=subscription.pk,
        since=timezone.now() - timedelta(hours=1),
        actor=Actor(name="user:maria"),
    )
    # Both SKUs changed in that hour: one event each, with its latest numbers.
    assert webhook_deliveries_send(subscription_id=subscription.pk).delivered == 2
    held = latest_by_key(receiver.events())
    assert held[("TEE-BLK-M", "LON-OXF")]["quantities"]["on_hand"] == 9
    case.refresh_from_db()
    assert case.status == "resolved"
    subscription.refresh_from_db()
    assert subscription.state == "healthy"
    # Its timeline: who moved it where, and why (a retry still retrying is no move).
    timeline = [
        (e.action, e.from_status, e.to_status, e.actor)
        for e in subscription.events.all()
    ]
    assert timeline == [
        ("webhook_subscription_create", "", "healthy", "test"),
        ("webhook_retry", "healthy", "retrying", "system:webhooks"),
        ("webhook_fail", "retrying", "failing", "system:webhooks"),
        ("webhook_resend", "failing", "healthy", "user:maria"),
    ]
    assert subscription.events.get(action="webhook_fail").note.startswith("HTTP 503")


def test_nothing_is_lost_while_the_worker_is_down(stocked, receiver, settings):
    """No worker, no broker: the changes wait in the outbox, and the sweep (or the
    next kick) sends them."""
    settings.WEBHOOK_COALESCE_SECONDS = 0
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nobody there
    subscription = subscribe(stocked["web"], receiver)
    StockEvents.post(
        "sale", sku=stocked["tee"], location=stocked["store"], quantity=1,
        channel=stocked["pos"],
    )  # fmt: skip
    assert AvailabilityChange.objects.filter(position__isnull=True).count() == 1
    changes_place()
    webhook_deliveries_send(subscription_id=subscription.pk)
    assert receiver.events()[-1]["data"]["sequence"] == 2


def test_a_token_bound_to_a_channel_subscribes_only_that_channel(stocked, receiver):
    from rest_framework.test import APIClient

    _, raw = ApiTokenFactory.issue(name="shopify", channel_code="web")
    shop = APIClient()
    shop.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    made = shop.post("/api/v1/webhooks/", {"url": receiver.url}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["channel"] == "web"
    assert made.json()["secret"].startswith("whsec_")
    assert (made.json()["signature_scheme"], made.json()["format"]) == (
        "standard", "onestock",
    )  # fmt: skip
    other = shop.post(
        "/api/v1/webhooks/", {"url": receiver.url, "channel": "pos"}, format="json"
    )
    assert other.status_code == 403
    bad = shop.post(
        "/api/v1/webhooks/", {"url": "not a url", "event_kinds": ["x"]}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()) >= {"url", "event_kinds"}
    listed = shop.get("/api/v1/webhooks/").json()
    assert [s["channel"] for s in listed["results"]] == ["web"]
    assert "secret" not in listed["results"][0]


def test_a_webhook_into_the_retailers_own_network_is_refused(api, floor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    for url in ("http://127.0.0.1:8000/hooks", "http://169.254.169.254/latest/"):
        refused = api.post(
            "/api/v1/webhooks/", {"channel": "web", "url": url}, format="json"
        )
        assert refused.status_code == 400, url
        assert "is not a public address" in refused.json()["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_a_resend_from_before_what_is_kept_is_refused(api, floor, receiver):
    subscription = subscribe(floor["web"], receiver)
    url = f"/api/v1/webhooks/{subscription.pk}/resend/"
    too_old = (timezone.now() - timedelta(days=60)).isoformat()
    assert api.post(url, {"since": too_old}, format="json").status_code == 400
    assert api.post(url, {"since": "yesterday"}, format="json").status_code == 400
    fine = api.post(url, {"since": timezone.now().isoformat()}, format="json")
    assert fine.status_code == 200, fine.content


def test_the_signature_is_the_documented_hmac_of_timestamp_and_body(
    stocked, receiver, settings
):
    """What an onestock-v1 receiver's own code checks (docs/sync.md), computed here
    by hand: the subscriptions made before Standard Webhooks are signed as they
    always were."""
    subscription = subscribe(
        stocked["web"], receiver, secret="whsec_shop-secret-1",
        signature_scheme="onestock-v1",
    )  # fmt: skip
    StockEvents.post(
        "sale", sku=stocked["tee"], location=stocked["store"], quantity=1,
        channel=stocked["pos"],
    )  # fmt: skip
    changes_place()
    webhook_deliveries_send(subscription_id=subscription.pk)
    got = receiver.received[-1]
    stamp, v1 = (
        part.split("=", 1)[1] for part in got.headers["OneStock-Signature"].split(",")
    )
    assert abs(int(stamp) - time.time()) < 60
    signed = f"{stamp}.".encode() + got.body
    assert v1 == hmac.new(b"whsec_shop-secret-1", signed, hashlib.sha256).hexdigest()
    assert got.headers["OneStock-Event-Id"] == got.event["id"]
    assert got.headers["Content-Type"] == "application/json"
    assert not {"webhook-id", "webhook-signature"} & set(got.headers)


@pytest.mark.sqlite_too
def test_a_subscription_switched_off_then_on_gets_what_changed_meanwhile(
    stocked, receiver
):
    subscription = subscribe(stocked["web"], receiver, is_active=False)
    for _ in range(3):
        StockEvents.post(
            "sale", sku=stocked["tee"], location=stocked["store"], quantity=1,
            channel=stocked["pos"],
        )  # fmt: skip
    changes_place()
    # Switched off: nothing sent, and no POST failed.
    assert webhook_deliveries_send(subscription_id=subscription.pk) == (0, False)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=True)
    assert webhook_deliveries_send(subscription_id=subscription.pk).delivered == 1
    (event,) = receiver.events()
    assert (event["data"]["sequence"], event["data"]["quantities"]["on_hand"]) == (4, 7)


@pytest.mark.sqlite_too
def test_an_older_change_never_replaces_a_newer_one_waiting(stocked, receiver):
    from django.db import connection

    from inventory.models import AvailabilityChange
    from sync.models import WebhookDelivery
    from sync.services.feed import deliveries_queue

    subscription = subscribe(stocked["web"], receiver)
    for _ in range(2):
        StockEvents.post(
            "sale", sku=stocked["tee"], location=stocked["store"], quantity=1,
            channel=stocked["pos"],
        )  # fmt: skip
    changes_place()
    newest = AvailabilityChange.objects.filter(sku=stocked["tee"]).latest("sequence")
    older = AvailabilityChange.objects.get(sku=stocked["tee"], sequence=2)
    with connection.cursor() as cursor:
        deliveries_queue(
            cursor,
            subscriptions=[subscription.pk],
            changes=AvailabilityChange.objects.filter(pk=older.pk),
        )
    pending = WebhookDelivery.objects.get(subscription=subscription, status="pending")
    assert pending.change_id == newest.pk
