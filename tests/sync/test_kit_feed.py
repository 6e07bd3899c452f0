"""The web shop sells a camera kit (one body, two lenses) while the store and the
warehouse hold the parts: whenever a component changes, the kit's row comes with it,
in the change feed, in the webhooks and in the network figures, its sequence always
higher than before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import KIT_REVISION_STEP
from config.access import Actor
from inventory.models import AvailabilityChange
from sync.services import (
    SubscriptionInput,
    changes_place,
    webhook_deliveries_send,
    webhook_subscription_create,
)
from tests.factories import SkuFactory, StockEvents, kit, stock

FEED = "/api/v1/availability/changes/"
NETWORK = "/api/v1/availability/network/"


@pytest.fixture
def cameras(floor):
    """A body, a lens that keeps one unit back of its own, and the camera kit of one
    body and two lenses; the web shop keeps one of everything back. At the store:
    5 bodies and 6 lenses."""
    floor["body"] = SkuFactory(code="BODY-X")
    floor["lens"] = SkuFactory(code="LENS-50", safety_buffer=1)
    floor["kit"] = kit("CAM-KIT", (floor["body"], 1), (floor["lens"], 2))
    stock(floor["body"], floor["store"], 5)
    stock(floor["lens"], floor["store"], 6)
    return floor


def page_of(api, cursor="0", limit=100, **params) -> dict:
    page = api.get(FEED, {"cursor": cursor, "limit": limit, **params})
    assert page.status_code == 200, page.content
    return page.json()


def seen(events) -> list[tuple[str, int]]:
    return [(event["data"]["sku"], event["data"]["position"]) for event in events]


def revision(floor) -> int:
    floor["kit"].refresh_from_db()
    return floor["kit"].kit_revision


@pytest.mark.sqlite_too
@pytest.mark.django_db
def test_the_feed_carries_the_kit_row_after_a_component_changes(api, cameras):
    page = page_of(api, channel="web")
    # The kit's row rides once, on the last change of one of its parts there.
    assert seen(page["changes"]) == [
        ("BODY-X", 1), ("LENS-50", 2), ("CAM-KIT", 2),
    ]  # fmt: skip
    lens_change = AvailabilityChange.objects.get(position=2)
    event = page["changes"][-1]
    assert event["id"] == f"evt_{lens_change.pk}.{cameras['kit'].pk}"
    assert event["type"] == "availability.changed"
    data = event["data"]
    # Bodies: 5 - 1 = 4 kits; lenses: 6 - 1 = 5 units, 2 kits.
    assert (data["available_to_promise"], data["quantities"]["available"]) == (2, 3)
    assert data["quantities"]["on_hand"] == 0
    assert (data["safety_buffer"], data["channel"]) == (0, "web")
    assert data["sequence"] == revision(cameras) * KIT_REVISION_STEP + 2
    assert [part["sku"] for part in data["components"]] == ["BODY-X", "LENS-50"]
    # The lens's own event is as it ever was.
    assert "components" not in page["changes"][1]["data"]

    # Two more lenses arrive: the kit's row again, its sequence higher.
    stock(cameras["lens"], cameras["store"], 2)
    more = page_of(api, cursor=page["next_cursor"], channel="web")
    assert seen(more["changes"]) == [("LENS-50", 3), ("CAM-KIT", 3)]
    again = more["changes"][-1]["data"]
    assert again["sequence"] > data["sequence"]
    assert again["available_to_promise"] == 3  # 8 lenses, 7 beyond their buffer
    assert more["next_cursor"] == "3"


@pytest.mark.django_db
def test_a_redefined_kit_never_goes_back_in_sequence(
    api, cameras, django_capture_on_commit_callbacks
):
    before = page_of(api, channel="web")["changes"][-1]["data"]
    # Bodies alone from now on: a component's sequence less, a revision more. No
    # stock moves, yet what the kit can sell changed: its parts (old and new) are
    # announced again, and the kit's row with them.
    with django_capture_on_commit_callbacks(execute=True):
        kit("CAM-KIT", (cameras["body"], 1))
    events = page_of(api, cursor="2", channel="web")["changes"]
    assert seen(events) == [("BODY-X", 3), ("CAM-KIT", 3), ("LENS-50", 4)]
    redefined = events[1]["data"]
    assert redefined["sequence"] == revision(cameras) * KIT_REVISION_STEP + 2
    assert redefined["sequence"] > before["sequence"]
    assert redefined["available_to_promise"] == 4  # 5 bodies, 1 kept back
    stock(cameras["body"], cameras["store"], 1)
    events = page_of(api, cursor="4", channel="web")["changes"]
    assert seen(events) == [("BODY-X", 5), ("CAM-KIT", 5)]
    after = events[-1]["data"]
    assert after["sequence"] > redefined["sequence"]
    assert after["available_to_promise"] == 5  # 6 bodies, 1 kept back
    # A lens no longer carries the kit.
    stock(cameras["lens"], cameras["store"], 1)
    assert seen(page_of(api, cursor="5")["changes"]) == [("LENS-50", 6)]


@pytest.mark.django_db
def test_a_page_naming_no_component_costs_no_query_more(api, cameras):
    """Tees are in no kit: their page is read as it was before kits existed; a page
    naming a component reads the kits' definitions and their components' rows."""
    stock(cameras["tee"], cameras["store"], 1)
    page_of(api)  # places the changes; the token is looked up once, then kept

    def queries(cursor: str) -> int:
        with CaptureQueriesContext(connection) as read:
            page_of(api, cursor=cursor, limit=1, channel="web")
        return len(read.captured_queries)

    tees, lenses = queries("2"), queries("1")
    cameras["kit"].delete()  # no kit at all now
    assert queries("2") == tees
    # The definitions, the components' balances, the sources' health, the terms.
    assert lenses <= tees + 4


@pytest.mark.django_db
def test_the_network_figure_of_a_kit_sums_what_each_location_may_promise(api, cameras):
    """The store may promise 2 kits, the warehouse 1: 3 across the network, though
    its parts summed over it would make 5 (5 bodies, 6 pairs of lenses beyond the
    buffers): a kit is never made of a body here and lenses there."""
    stock(cameras["body"], cameras["warehouse"], 2)
    stock(cameras["lens"], cameras["warehouse"], 8)
    changes_place()
    answer = api.get(NETWORK, {"sku": "CAM-KIT", "channel": "web"})
    assert answer.status_code == 200, answer.content
    (row,) = answer.json()["results"]
    assert (row["available_to_promise"], row["locations"], row["on_hand"]) == (3, 2, 0)
    assert row["status"] == "delayed"  # the store's tills have never reported
    sequence = row["sequence"]

    # Two lenses more at the store: 3 kits there; the kit's network total moves
    # with its component's, and the network feed says so.
    stock(cameras["lens"], cameras["store"], 2)
    changes_place()
    events = page_of(api, kind="network", channel="web")["changes"]
    kit_events = [e["data"] for e in events if e["data"]["sku"] == "CAM-KIT"]
    assert kit_events[-1]["available_to_promise"] == 4
    assert kit_events[-1]["sequence"] > sequence
    (row,) = api.get(NETWORK, {"sku": "CAM-KIT", "channel": "web"}).json()["results"]
    assert (row["available_to_promise"], row["sequence"]) == (
        4, kit_events[-1]["sequence"],
    )  # fmt: skip


def subscribe(floor, receiver, **extra):
    return webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=floor["web"], url=receiver.url, event_kinds=[], **extra
        ),
        actor=Actor(name="test"),
    )


def push(subscription) -> None:
    changes_place()
    webhook_deliveries_send(subscription_id=subscription.pk)


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_hears_the_kit_row_whenever_a_component_changes(
    api, cameras, receiver
):
    changes_place()  # the shelf as it was before the shop subscribed
    subscription = subscribe(cameras, receiver)
    stock(cameras["body"], cameras["store"], 1)
    push(subscription)
    events = receiver.events()
    assert [(e["data"]["sku"], e["type"]) for e in events] == [
        ("BODY-X", "availability.changed"),
        ("CAM-KIT", "availability.changed"),
    ]
    first = events[1]["data"]
    assert first["available_to_promise"] == 2
    assert first["components"][0]["available"] == 6

    # A lens sold at the till: the lens's event, then the kit's, newer.
    StockEvents.post("sale", sku=cameras["lens"], location=cameras["store"],
                     quantity=2, channel=cameras["pos"])  # fmt: skip
    push(subscription)
    later = receiver.events()[2:]
    assert [e["data"]["sku"] for e in later] == ["LENS-50", "CAM-KIT"]
    assert later[1]["data"]["sequence"] > first["sequence"]
    assert later[1]["data"]["available_to_promise"] == 1  # 4 lenses, 3 beyond
    assert later[1]["id"] != events[1]["id"]


@pytest.mark.django_db(transaction=True)
def test_a_kit_running_low_is_announced_once(api, cameras, receiver):
    """A threshold of one: the lens sale leaves one kit to promise (the lens itself
    still has 3 beyond its buffer), so the kit alone is announced low, right after
    its row; the next body received changes nothing for it."""
    changes_place()
    subscription = subscribe(cameras, receiver, low_stock_threshold=1)
    StockEvents.post("sale", sku=cameras["lens"], location=cameras["store"],
                     quantity=2, channel=cameras["pos"])  # fmt: skip
    push(subscription)
    assert [(e["type"], e["data"]["sku"]) for e in receiver.events()] == [
        ("availability.changed", "LENS-50"),
        ("availability.changed", "CAM-KIT"),
        ("availability.low", "CAM-KIT"),
    ]
    low = receiver.events()[-1]
    assert low["id"] == f"{receiver.events()[1]['id']}_low"
    assert (low["data"]["available_to_promise"], low["data"]["threshold"]) == (1, 1)

    stock(cameras["body"], cameras["store"], 1)
    push(subscription)
    assert [(e["type"], e["data"]["sku"]) for e in receiver.events()[3:]] == [
        ("availability.changed", "BODY-X"),
        ("availability.changed", "CAM-KIT"),
    ]
