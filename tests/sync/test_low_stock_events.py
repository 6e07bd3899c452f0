"""A web shop asks to hear when a SKU runs low: it sets a low-stock threshold on its
webhook subscription and a real HTTP receiver on this machine gets
``availability.low`` right after the change that took the channel's
available-to-promise to or below it, ``availability.restocked`` when it rises above,
once per crossing, through failures and retries."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from inventory.models import Allocation
from inventory.services import terms_announce
from sync.models import EventKind, LowStockMark, WebhookSubscription
from sync.services import (
    SubscriptionInput,
    changes_place,
    webhook_deliveries_send,
    webhook_resend,
    webhook_subscription_create,
    webhook_subscription_update,
)
from sync.services.low_stock import LowStockMarks, network_crossing
from tests.factories import StockEvents

from .conftest import Received, Receiver

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(channel, receiver, threshold=3, kinds=()) -> WebhookSubscription:
    return webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=channel,
            url=receiver.url,
            event_kinds=list(kinds),
            low_stock_threshold=threshold,
        ),
        actor=Actor(name="test"),
    )


def sell(floor, quantity):
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=quantity,
        channel=floor["pos"],
    )  # fmt: skip


def receive(floor, quantity):
    StockEvents.post(
        "receipt", sku=floor["tee"], location=floor["store"], quantity=quantity
    )


def push(*subscriptions) -> None:
    changes_place()
    for subscription in subscriptions:
        webhook_deliveries_send(subscription_id=subscription.pk)


def retry_now(subscription) -> None:
    """The wait after a failure is over (the schedule is a minute; the test does not
    wait it)."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        retry_at=timezone.now()
    )


def heard(receiver, since=0) -> list[tuple]:
    """What arrived: (type, on hand, available-to-promise) per event."""
    return [
        (
            e["type"],
            e["data"]["quantities"]["on_hand"],
            e["data"]["available_to_promise"],
        )
        for e in receiver.events()[since:]
    ]


@pytest.fixture
def stocked(floor):
    # Ten tees at the store: the web shop (buffer 1) may promise 9.
    receive(floor, 10)
    StockEvents.post(
        "receipt", sku=floor["hoodie"], location=floor["store"], quantity=10
    )
    changes_place()  # the shelf as it was before the shop subscribed
    return floor


class PickyReceiver(Receiver):
    """An endpoint that answers 503 to the event types in ``refused`` (a platform
    whose low-stock handler is broken while its stock handler works)."""

    def __init__(self):
        super().__init__()
        self.refused: set[str] = set()

    def answer_to(self, body: bytes) -> int:
        refused = Received({}, body).event["type"] in self.refused
        return 503 if refused else self.answer


@pytest.fixture
def picky():
    receiver = PickyReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.mark.sqlite_too
def test_the_web_shop_hears_low_after_the_sale_that_took_it_to_the_threshold(
    stocked, receiver
):
    subscription = subscribe(stocked["web"], receiver, threshold=3)
    sell(stocked, 5)  # 5 on the shelf, 4 to promise: above 3
    push(subscription)
    assert heard(receiver) == [("availability.changed", 5, 4)]

    sell(stocked, 1)  # 3 to promise: at the threshold
    push(subscription)
    changed, low = receiver.events()[1:]
    assert (changed["type"], low["type"]) == (
        "availability.changed",
        "availability.low",
    )
    assert low["id"] == f"{changed['id']}_low"
    assert low["data"] == {**changed["data"], "threshold": 3}
    assert low["created_at"] == changed["created_at"]
    # Signed like every other event, its id in the header.
    assert receiver.received[-1].headers["webhook-id"] == low["id"]

    sell(stocked, 1)  # lower still: no second low
    push(subscription)
    assert heard(receiver, since=3) == [("availability.changed", 3, 2)]
    mark = LowStockMark.objects.get(subscription=subscription)
    assert (mark.location_id, mark.is_low, mark.available_to_promise) == (
        stocked["store"].pk, True, 3,
    )  # fmt: skip


@pytest.mark.sqlite_too
def test_restocked_when_it_rises_above_and_low_again_when_it_falls_again(
    stocked, receiver
):
    subscription = subscribe(stocked["web"], receiver, threshold=3)
    sell(stocked, 7)  # 3 on the shelf, 2 to promise
    push(subscription)
    receive(stocked, 1)  # 3 to promise: still at the threshold, still low
    push(subscription)
    receive(stocked, 1)  # 4: above it
    push(subscription)
    receive(stocked, 5)  # 9: still above, nothing more
    push(subscription)
    sell(stocked, 8)  # 1
    push(subscription)
    assert [kind for kind, *_ in heard(receiver)] == [
        "availability.changed", "availability.low",
        "availability.changed",
        "availability.changed", "availability.restocked",
        "availability.changed",
        "availability.changed", "availability.low",
    ]  # fmt: skip
    restocked = receiver.events()[4]
    assert (restocked["data"]["available_to_promise"], restocked["data"]["threshold"]) == (
        4, 3,
    )  # fmt: skip
    # The hoodies never came near the threshold: only the tees are marked.
    assert LowStockMark.objects.get().is_low is True


@pytest.mark.sqlite_too
def test_without_a_threshold_no_low_stock_event_is_sent(stocked, receiver):
    subscription = subscribe(stocked["web"], receiver, threshold=None)
    sell(stocked, 10)
    push(subscription)
    assert heard(receiver) == [("availability.changed", 0, 0)]
    assert not LowStockMark.objects.exists()


@pytest.mark.sqlite_too
def test_a_threshold_of_zero_hears_of_the_last_unit_going(stocked, receiver):
    subscription = subscribe(stocked["web"], receiver, threshold=0)
    sell(stocked, 8)  # 1 to promise
    push(subscription)
    sell(stocked, 1)  # none
    push(subscription)
    assert [kind for kind, *_ in heard(receiver)] == [
        "availability.changed", "availability.changed", "availability.low",
    ]  # fmt: skip


def test_a_receiver_down_then_back_gets_each_crossing_once_in_order(
    stocked, receiver, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = [60] * 10
    subscription = subscribe(stocked["web"], receiver, threshold=3)
    receiver.answer = 503
    sell(stocked, 7)  # 2 to promise
    push(subscription)
    retry_now(subscription)
    push(subscription)  # the retry fails too
    assert receiver.events() == []
    receiver.answer = 200
    retry_now(subscription)
    push(subscription)
    assert [kind for kind, *_ in heard(receiver)] == [
        "availability.changed", "availability.low",
    ]  # fmt: skip
    subscription.refresh_from_db()
    assert (subscription.state, subscription.consecutive_failures) == ("healthy", 0)
    push(subscription)  # nothing left: nothing sent twice
    assert len(receiver.events()) == 2


def test_a_low_event_refused_is_retried_alone_until_it_arrives(
    stocked, picky, settings
):
    """The platform takes stock changes but its low-stock handler is down: the change
    arrives once, the low event is retried (the subscription retrying, its failures
    counting), and arrives once when the handler is back, with the same id."""
    settings.WEBHOOK_RETRY_SCHEDULE = [60] * 10
    subscription = subscribe(stocked["web"], picky, threshold=3)
    picky.refused = {"availability.low"}
    sell(stocked, 7)
    push(subscription)
    retry_now(subscription)
    push(subscription)
    subscription.refresh_from_db()
    assert (subscription.state, subscription.consecutive_failures) == ("retrying", 2)
    refused = {a.event_id for a in subscription.attempts.filter(succeeded=False)}
    assert not LowStockMark.objects.exists()  # it has not heard yet

    picky.refused = set()
    retry_now(subscription)
    push(subscription)
    changed, low = picky.events()
    assert (changed["type"], low["type"]) == (
        "availability.changed",
        "availability.low",
    )
    assert refused == {low["id"]}
    assert LowStockMark.objects.get().is_low is True
    push(subscription)
    assert len(picky.events()) == 2


def test_a_newer_change_while_low_is_refused_is_sent_before_the_low_it_makes(
    stocked, picky, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = [60] * 10
    subscription = subscribe(stocked["web"], picky, threshold=3)
    picky.refused = {"availability.low"}
    sell(stocked, 7)  # 2 to promise
    push(subscription)
    sell(stocked, 1)  # 1: replaces the change waiting
    picky.refused = set()
    retry_now(subscription)
    push(subscription)
    assert heard(picky) == [
        ("availability.changed", 3, 2),
        ("availability.changed", 2, 1),
        ("availability.low", 2, 1),
    ]
    assert picky.events()[2]["id"] == f"{picky.events()[1]['id']}_low"


def test_a_crossing_undone_before_it_could_be_sent_is_no_crossing(
    stocked, picky, settings
):
    """Low while the handler was down, restocked before it was back: the platform
    last heard "not low" and it is not low, so it hears neither."""
    settings.WEBHOOK_RETRY_SCHEDULE = [60] * 10
    subscription = subscribe(stocked["web"], picky, threshold=3)
    picky.refused = {"availability.low"}
    sell(stocked, 7)
    push(subscription)
    receive(stocked, 5)  # 7 to promise
    picky.refused = set()
    retry_now(subscription)
    push(subscription)
    assert [kind for kind, *_ in heard(picky)] == ["availability.changed"] * 2
    assert not LowStockMark.objects.exists()
    subscription.refresh_from_db()
    assert subscription.state == "healthy"


def test_a_resend_repeats_the_changes_but_not_a_crossing_already_heard(
    stocked, receiver
):
    subscription = subscribe(stocked["web"], receiver, threshold=3)
    sell(stocked, 7)
    push(subscription)
    webhook_resend(
        subscription_id=subscription.pk,
        since=timezone.now() - timedelta(minutes=5),
        actor=Actor(name="user:maria"),
    )
    push(subscription)
    kinds = [kind for kind, *_ in heard(receiver)]
    assert kinds.count("availability.low") == 1
    assert kinds[:2] == ["availability.changed", "availability.low"]


def test_each_channel_compares_its_own_available_to_promise(stocked, receiver):
    """The web shop holds one unit back, the tills none; then the web shop is given a
    protection of 2 at the store, which the tills may no longer promise: the tills
    hear low though nothing was sold."""
    web = subscribe(stocked["web"], receiver, threshold=3)
    tills = subscribe(stocked["pos"], receiver, threshold=3)
    sell(stocked, 6)  # 4 on the shelf: web 3 (low), tills 4
    push(web, tills)
    by_channel = [(e["type"], e["data"]["channel"]) for e in receiver.events()]
    assert by_channel == [
        ("availability.changed", "web"), ("availability.low", "web"),
        ("availability.changed", "pos"),
    ]  # fmt: skip

    Allocation.objects.create(
        channel=stocked["web"], sku=stocked["tee"], location=stocked["store"], units=2
    )
    terms_announce(keys={(stocked["tee"].pk, stocked["store"].pk)})
    push(web, tills)
    later = [
        (e["type"], e["data"]["channel"], e["data"]["available_to_promise"])
        for e in receiver.events()[3:]
    ]
    # The web shop may take its protection and the pool: still 3, still low.
    assert later == [
        ("availability.changed", "web", 3),
        ("availability.changed", "pos", 2),
        ("availability.low", "pos", 2),
    ]


@pytest.mark.sqlite_too
def test_a_subscription_for_low_stock_only_hears_only_low(stocked, receiver):
    """It names availability.low alone: no changes, no restocked; its mark still
    moves on the way up, so the next fall is heard."""
    subscription = subscribe(
        stocked["web"], receiver, threshold=3, kinds=[EventKind.AVAILABILITY_LOW]
    )
    sell(stocked, 7)
    push(subscription)
    receive(stocked, 5)
    push(subscription)
    sell(stocked, 5)
    push(subscription)
    assert [kind for kind, *_ in heard(receiver)] == ["availability.low"] * 2
    assert not subscription.deliveries.filter(status="pending").exists()


@pytest.mark.sqlite_too
def test_naming_only_changes_sends_no_low_stock_events(stocked, receiver):
    subscription = subscribe(
        stocked["web"], receiver, threshold=3,
        kinds=[EventKind.AVAILABILITY_CHANGED],
    )  # fmt: skip
    sell(stocked, 7)
    push(subscription)
    assert [kind for kind, *_ in heard(receiver)] == ["availability.changed"]


def test_the_worker_pushes_the_low_event_after_its_change(
    api, stocked, receiver, pushing
):
    subscribe(stocked["web"], receiver, threshold=8)
    response = api.post(
        "/api/v1/movements/",
        {
            "reference": "SALE-LOW-1", "type": "sale", "sku": "TEE-BLK-M",
            "location": "LON-OXF", "quantity": 1,
            "occurred_at": timezone.now().isoformat(), "channel": "pos",
        },
        format="json",
    )  # fmt: skip
    assert response.status_code in (200, 201), response.content
    receiver.wait_for(2)
    time.sleep(0.5)
    assert heard(receiver) == [
        ("availability.changed", 9, 8),
        ("availability.low", 9, 8),
    ]


def test_the_threshold_is_set_read_changed_and_taken_away_through_the_api(
    api, stocked, receiver
):
    made = api.post(
        "/api/v1/webhooks/",
        {
            "channel": "web", "url": receiver.url, "low_stock_threshold": 3,
            "event_kinds": ["availability.low", "availability.restocked"],
        },
        format="json",
    )  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["low_stock_threshold"] == 3
    url = f"/api/v1/webhooks/{made.json()['id']}/"
    assert api.get(url).json()["low_stock_threshold"] == 3
    for wrong in (-1, "3", 2.5, True, 2**31):
        refused = api.patch(url, {"low_stock_threshold": wrong}, format="json")
        assert refused.status_code == 400, wrong
        assert "low_stock_threshold" in refused.json()
    assert WebhookSubscription.objects.get().low_stock_threshold == 3

    sell(stocked, 7)
    push(WebhookSubscription.objects.get())
    assert LowStockMark.objects.exists()
    changed = api.patch(url, {"low_stock_threshold": 5}, format="json")
    assert changed.json()["low_stock_threshold"] == 5
    assert LowStockMark.objects.exists()  # still low under 5: nothing to say again
    gone = api.patch(url, {"low_stock_threshold": None}, format="json")
    assert gone.status_code == 200 and gone.json()["low_stock_threshold"] is None
    assert not LowStockMark.objects.exists()
    plain = api.post(
        "/api/v1/webhooks/", {"channel": "web", "url": receiver.url}, format="json"
    )
    assert plain.json()["low_stock_threshold"] is None


def test_the_network_total_is_marked_apart_from_each_location(stocked, receiver):
    """network_crossing on a network event's body: a mark with no location, its own
    side of the threshold whatever the locations' marks say."""
    # Sent the network kind (named: it is not among "every kind").
    subscription = subscribe(
        stocked["web"], receiver, threshold=3,
        kinds=[EventKind.NETWORK_AVAILABILITY_CHANGED, EventKind.AVAILABILITY_LOW,
               EventKind.AVAILABILITY_RESTOCKED],
    )  # fmt: skip
    tee = stocked["tee"].pk

    now = timezone.now().isoformat()

    def network_event(promisable, number):
        return {
            "id": f"net_{number}", "type": "network_availability.changed",
            "created_at": now,
            "data": {"sku": "TEE-BLK-M", "channel": "web",
                     "available_to_promise": promisable, "sequence": number},
        }  # fmt: skip

    def crossing(promisable, number):
        marks = LowStockMarks(subscription, keys={(tee, None)})
        return network_crossing(
            marks=marks, sku_id=tee, event=network_event(promisable, number)
        )

    LowStockMark.objects.create(
        subscription=subscription, sku_id=tee, location=stocked["store"],
        is_low=True, available_to_promise=1, changed_at=timezone.now(),
    )  # fmt: skip
    assert crossing(5, 1) is None  # above, and never low: nothing
    low = crossing(3, 2)
    assert (low.is_low, low.location_id, low.event["id"]) == (True, None, "net_2_low")
    assert low.event["data"]["threshold"] == 3
    assert crossing(3, 2) == low  # not recorded (its POST failed): decided again
    low.record()
    assert crossing(2, 3) is None
    restocked = crossing(4, 4)
    assert (restocked.event["type"], restocked.event["id"]) == (
        "availability.restocked", "net_4_restocked",
    )  # fmt: skip
    marks = LowStockMark.objects.filter(subscription=subscription)
    assert marks.count() == 2  # the store's, and the network's

    webhook_subscription_update(
        subscription_id=subscription.pk,
        changes={"event_kinds": [EventKind.AVAILABILITY_CHANGED, "availability.low"]},
        actor=Actor(name="test"),
    )
    subscription.refresh_from_db()
    assert crossing(5, 5) is None  # not sent the network kind: not watched


def test_the_network_total_crosses_apart_from_its_locations(stocked, receiver):
    """The web shop sells from the store and the warehouse and names the network kind:
    the store running low is one thing, the network running low another, each heard
    right after the event that shows it."""
    StockEvents.post(
        "receipt", sku=stocked["tee"], location=stocked["warehouse"], quantity=5
    )
    changes_place()
    subscription = subscribe(
        stocked["web"], receiver, threshold=3,
        kinds=[EventKind.NETWORK_AVAILABILITY_CHANGED, EventKind.AVAILABILITY_LOW,
               EventKind.AVAILABILITY_RESTOCKED],
    )  # fmt: skip
    sell(stocked, 8)  # the store: 1 to promise; the network: 1 + 4
    push(subscription)
    StockEvents.post(
        "sale", sku=stocked["tee"], location=stocked["warehouse"], quantity=2,
        channel=stocked["pos"],
    )  # fmt: skip
    push(subscription)  # the warehouse: 2; the network: 3
    assert [
        (e["type"], e["data"].get("location"), e["data"]["available_to_promise"])
        for e in receiver.events()
    ] == [
        ("availability.low", "LON-OXF", 1),
        ("network_availability.changed", None, 5),
        ("availability.low", "WH-DAV", 2),
        ("network_availability.changed", None, 3),
        ("availability.low", None, 3),
    ]
    network_low = receiver.events()[-1]
    assert network_low["id"] == f"{receiver.events()[-2]['id']}_low"
    assert LowStockMark.objects.filter(location__isnull=True).get().is_low
