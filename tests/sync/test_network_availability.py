"""The web shop sells one tee from a store and a warehouse: it asks what it may
promise across its network, and hears when that total moves (a webhook, or the
change feed's ``?kind=network``), with a sequence that moves with the total and only
with it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from inventory.models import NetworkLocation
from inventory.services.networks import network_set
from sync.models import NetworkChange, WebhookDelivery
from sync.services import (
    SubscriptionInput,
    changes_place,
    feed_prune,
    webhook_deliveries_send,
    webhook_subscription_create,
)
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, LocationFactory, StockEvents

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability/network/"
FEED = "/api/v1/availability/changes/"
NETWORK = "network_availability.changed"


@pytest.fixture
def stocked(floor):
    """Five tees at Oxford Street, three at the warehouse; the web shop keeps one
    back at each location."""
    receive(floor, "store", 5)
    receive(floor, "warehouse", 3)
    return floor


def receive(floor, where, quantity, sku="tee"):
    StockEvents.post(
        "receipt", sku=floor[sku], location=floor[where], quantity=quantity
    )


def till_sale(floor, quantity=1):
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=quantity,
        channel=floor["pos"],
    )  # fmt: skip


def row(api, sku="TEE-BLK-M", channel="web") -> dict:
    answer = api.get(URL, {"sku": sku, "channel": channel})
    assert answer.status_code == 200, answer.json()
    (only,) = answer.json()["results"]
    return only


def sells_from(floor, *places):
    network_set(
        channel=floor["web"],
        locations=[floor[place] for place in places],
        actor=Actor(name="user:maria"),
    )


def test_the_web_shop_reads_what_it_may_promise_across_its_network(api, stocked):
    changes_place()
    tee = row(api)
    assert {key: tee[key] for key in tee if key != "as_of"} == {
        "sku": "TEE-BLK-M",
        "channel": "web",
        "available_to_promise": 6,  # 4 at the store, 2 at the warehouse
        "on_hand": 8,
        "available": 8,
        "locations": 2,
        "status": "delayed",  # the store's tills have never reported
        "sequence": 1,
    }
    assert tee["as_of"] is not None

    # Selling from the warehouse alone, it may promise the warehouse's two.
    sells_from(stocked, "warehouse")
    changes_place()
    tee = row(api)
    assert (tee["available_to_promise"], tee["on_hand"], tee["locations"]) == (2, 3, 1)
    assert (tee["status"], tee["sequence"]) == ("confirmed", 2)


def test_rows_come_in_the_order_asked_and_unknown_codes_are_named(api, stocked):
    answer = api.get(URL, {"sku": ["HOOD-GRE-L", "TEE-BLK-M"], "channel": "web"})
    assert [r["sku"] for r in answer.json()["results"]] == ["HOOD-GRE-L", "TEE-BLK-M"]
    hoodie = answer.json()["results"][0]
    assert (hoodie["available_to_promise"], hoodie["sequence"]) == (0, 0)
    assert hoodie["as_of"] is None

    unknown = api.get(URL, {"sku": ["TEE-BLK-M", "NOPE"], "channel": "web"})
    assert unknown.status_code == 400
    assert unknown.json()["sku"] == ["Unknown SKU 'NOPE'."]
    too_many = api.get(URL, {"sku": [f"S{n}" for n in range(101)], "channel": "web"})
    assert too_many.status_code == 400
    assert api.get(URL, {"sku": "TEE-BLK-M"}).json()["channel"] == [
        "Required: whose network."
    ]
    assert api.get(URL, {"channel": "wms"}).json()["channel"] == [
        "Channel 'wms' does not sell: it has no network availability."
    ]
    assert api.get(URL, {"channel": "nowhere"}).status_code == 400


def test_a_channel_token_reads_its_own_network_only(stocked):
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")
    web_shop = client_for(raw)
    assert (
        web_shop.get(URL, {"sku": "TEE-BLK-M"}).json()["results"][0]["channel"] == "web"
    )
    assert web_shop.get(URL, {"sku": "TEE-BLK-M", "channel": "pos"}).status_code == 403


def test_the_status_is_the_least_certain_of_the_locations(api, stocked):
    till_sale(stocked)  # the store's tills report: its figures are confirmed
    assert row(api)["status"] == "confirmed"

    # The web shop commits every tee at the store, then the till sells one more:
    # an open conflict puts the store, and so the whole network, under review.
    StockEvents.post(
        "commit", sku=stocked["tee"], location=stocked["store"], quantity=4,
        channel=stocked["web"],
    )  # fmt: skip
    till_sale(stocked)
    assert row(api)["status"] == "under_review"
    # Without the store in its network, the web shop's figure is confirmed again.
    sells_from(stocked, "warehouse")
    assert row(api)["status"] == "confirmed"


def test_a_location_holding_only_its_buffer_adds_no_location(api, stocked):
    receive(stocked, "warehouse", 1, sku="hoodie")  # the buffer keeps it back
    hoodie = row(api, sku="HOOD-GRE-L")
    assert (hoodie["on_hand"], hoodie["available_to_promise"]) == (1, 0)
    assert hoodie["locations"] == 0


@pytest.mark.sqlite_too
def test_the_sequence_moves_when_the_total_moves_and_only_then(api, stocked):
    changes_place()
    assert row(api)["sequence"] == 1

    till_sale(stocked)  # the total falls from 6 to 5
    changes_place()
    assert (row(api)["available_to_promise"], row(api)["sequence"]) == (5, 2)

    # A hoodie arrives: the tee's total has not moved.
    receive(stocked, "store", 2, sku="hoodie")
    changes_place()
    assert row(api)["sequence"] == 2

    # One tee at a new store, all of it the web shop's buffer there: more on hand,
    # the same total, the same sequence.
    stocked["regent"] = LocationFactory(code="LON-REG")
    receive(stocked, "regent", 1)
    changes_place()
    tee = row(api)
    assert (tee["on_hand"], tee["available_to_promise"], tee["sequence"]) == (8, 5, 2)

    totals = NetworkChange.objects.filter(
        channel=stocked["web"], sku=stocked["tee"]
    ).order_by("position")
    assert [(c.sequence, c.available_to_promise) for c in totals] == [(1, 6), (2, 5)]


def test_a_read_before_the_placing_pass_answers_the_live_total_with_its_sequence(
    api, stocked
):
    """Nothing has placed the changes yet (no worker ran): the read sums the
    network on the primary first, so the total it answers has its own sequence;
    placing afterwards finds the same total and announces nothing more."""
    tee = row(api)
    assert (tee["available_to_promise"], tee["sequence"]) == (6, 1)
    assert NetworkChange.objects.filter(channel=stocked["web"]).count() == 1
    changes_place()
    assert row(api)["sequence"] == 1
    assert NetworkChange.objects.filter(channel=stocked["web"]).count() == 1


@pytest.mark.sqlite_too
def test_the_feed_carries_the_network_kind_in_positions_of_its_own(api, stocked):
    changes_place()
    till_sale(stocked)
    changes_place()

    page = api.get(FEED, {"kind": "network", "channel": "web", "cursor": "0"}).json()
    events = page["changes"]
    assert [(e["type"], e["data"]["sku"], e["data"]["sequence"]) for e in events] == [
        (NETWORK, "TEE-BLK-M", 1),
        (NETWORK, "TEE-BLK-M", 2),
    ]
    latest = events[-1]["data"]
    assert {k: v for k, v in latest.items() if k != "position"} == row(api)
    # Every selling channel's network figures when none is named: the tills' too
    # (and the ERP's the factories send stock events as), never the warehouse
    # system's, which sells nothing.
    every = api.get(FEED, {"kind": "network", "cursor": "0"}).json()["changes"]
    assert {e["data"]["channel"] for e in every} == {"web", "pos", "erp"}
    assert [e["data"]["position"] for e in every] == list(range(1, len(every) + 1))
    # Read on from the last cursor: nothing new.
    again = api.get(
        FEED, {"kind": "network", "channel": "web", "cursor": page["next_cursor"]}
    ).json()
    assert (again["changes"], again["next_cursor"]) == ([], page["next_cursor"])

    # The changes at a location keep their own positions, with no gaps.
    at_locations = api.get(FEED, {"cursor": "0", "limit": 1000}).json()["changes"]
    assert [e["data"]["position"] for e in at_locations] == [1, 2, 3]
    assert api.get(FEED, {"kind": "everything"}).status_code == 400
    ahead = api.get(FEED, {"kind": "network", "cursor": "999"})
    assert ahead.status_code == 400


def subscribe(channel, receiver, kinds):
    return webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=channel, url=receiver.url, event_kinds=kinds
        ),
        actor=Actor(name="test"),
    )


@pytest.mark.sqlite_too
@pytest.mark.django_db(transaction=True)
def test_a_subscriber_to_the_network_kind_hears_the_total_as_the_read_answers_it(
    api, stocked, receiver
):
    network = subscribe(stocked["web"], receiver, [NETWORK])
    changes_place()
    webhook_deliveries_send(subscription_id=network.pk)
    (first,) = receiver.wait_for(1)
    assert first.event["type"] == NETWORK
    assert first.headers["webhook-id"] == first.event["id"]
    body = dict(first.event["data"])
    assert (
        body.pop("position")
        == NetworkChange.objects.get(channel=stocked["web"]).position
    )
    assert body == row(api)

    # Two sales before the push: one event, with the latest total (coalesced).
    till_sale(stocked)
    changes_place()
    till_sale(stocked)
    changes_place()
    assert (
        WebhookDelivery.objects.filter(subscription=network, status="pending").count()
        == 1
    )
    webhook_deliveries_send(subscription_id=network.pk)
    events = [item.event for item in receiver.wait_for(2)]
    assert [
        (e["data"]["sequence"], e["data"]["available_to_promise"]) for e in events
    ] == [
        (1, 6),
        (3, 4),
    ]
    assert events[-1]["data"]["sequence"] == row(api)["sequence"]


@pytest.mark.django_db(transaction=True)
def test_a_subscription_naming_no_kind_hears_no_network_events(api, stocked, receiver):
    everything = subscribe(stocked["web"], receiver, [])
    changes_place()
    till_sale(stocked)
    changes_place()
    webhook_deliveries_send(subscription_id=everything.pk)
    receiver.wait_for(1)
    assert {e["type"] for e in receiver.events()} == {"availability.changed"}
    assert not WebhookDelivery.objects.filter(network_change__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_network_redrawn_is_announced_to_its_subscribers(api, stocked, receiver):
    network = subscribe(stocked["web"], receiver, [NETWORK])
    changes_place()
    webhook_deliveries_send(subscription_id=network.pk)
    receiver.wait_for(1)

    sells_from(stocked, "warehouse")
    assert NetworkLocation.objects.filter(channel=stocked["web"]).count() == 1
    changes_place()  # the store's balance, announced again, sums the network again
    webhook_deliveries_send(subscription_id=network.pk)
    events = [item.event["data"] for item in receiver.wait_for(2)]
    assert [(e["sequence"], e["available_to_promise"]) for e in events] == [
        (1, 6),
        (2, 2),
    ]


def test_an_old_network_cursor_is_gone_once_its_changes_are_pruned(api, stocked):
    """Two weeks on, the network changes the marketplace had not read are pruned:
    its cursor is a 410 that says to read the network availability whole and follow
    the network feed from its latest cursor; the feed at a location is untouched."""
    changes_place()
    till_sale(stocked)
    changes_place()
    last = NetworkChange.objects.order_by("-position").first().position
    NetworkChange.objects.update(changed_at=timezone.now() - timedelta(days=30))

    feed_prune()
    assert not NetworkChange.objects.exists()
    gone = api.get(FEED, {"kind": "network", "channel": "web", "cursor": "0"})
    assert gone.status_code == 410
    assert gone.json()["latest_cursor"] == str(last)
    assert "/api/v1/availability/network/" in gone.json()["detail"]
    assert api.get(FEED, {"cursor": "0"}).status_code == 200
