"""A marketplace that pulls: it reads the change feed from its last cursor, and
whatever happened while it was away comes in order, once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import AvailabilityChange, Location
from sync.services import feed_prune
from tests.factories import ApiTokenFactory, LocationFactory, StockEvents

URL = "/api/v1/availability/changes/"


def read_all(client, cursor="0", limit=2, **params):
    """Follow the feed to its end, a page at a time; returns (events, last cursor)."""
    events = []
    while True:
        page = client.get(URL, {"cursor": cursor, "limit": limit, **params})
        assert page.status_code == 200, page.content
        body = page.json()
        events += body["changes"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return events, cursor


def receipt(floor, sku="tee", quantity=1):
    StockEvents.post(
        "receipt", sku=floor[sku], location=floor["store"], quantity=quantity
    )


@pytest.mark.sqlite_too
def test_a_channel_back_from_an_outage_reads_on_from_its_cursor(api, floor):
    receipt(floor, quantity=5)
    receipt(floor, "hoodie", 2)
    seen, cursor = read_all(api, channel="web")
    assert [(e["data"]["sku"], e["data"]["sequence"]) for e in seen] == [
        ("TEE-BLK-M", 1), ("HOOD-GRE-L", 1),
    ]  # fmt: skip
    assert seen[0]["data"]["available_to_promise"] == 4  # the web shop keeps 1 back

    # Offline for a while: three more changes.
    for _ in range(3):
        receipt(floor)
    more, cursor = read_all(api, cursor=cursor, channel="web")
    assert [e["data"]["sequence"] for e in more] == [2, 3, 4]
    assert [e["data"]["position"] for e in seen + more] == [1, 2, 3, 4, 5]
    nothing, same = read_all(api, cursor=cursor)
    assert (nothing, same) == ([], cursor)


def test_changes_committed_while_a_channel_reads_are_neither_missed_nor_repeated(
    api, floor, transactional_db
):
    """Writers on many threads, a reader following the feed all the while: at the
    end the reader has seen every change exactly once."""
    stop = threading.Event()

    def writer():
        from django.db import connection

        try:
            for _ in range(15):
                receipt(floor)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer) for _ in range(4)]
    for thread in writers:
        thread.start()
    seen, cursor = [], "0"
    while any(thread.is_alive() for thread in writers) or not stop.is_set():
        if not any(thread.is_alive() for thread in writers):
            stop.set()  # one more read after the last commit
        page, cursor = read_all(api, cursor=cursor, limit=7)
        seen += page
    positions = [e["data"]["position"] for e in seen]
    assert positions == list(range(1, 61))
    assert [e["data"]["sequence"] for e in seen] == list(range(1, 61))
    assert AvailabilityChange.objects.count() == 60


def test_a_cursor_that_is_not_a_number_is_refused(api, floor):
    response = api.get(URL, {"cursor": "yesterday", "limit": 5000})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"cursor", "limit"}


@pytest.mark.sqlite_too
def test_a_cursor_older_than_what_is_kept_is_gone_and_says_where_to_go_on(api, floor):
    for _ in range(3):
        receipt(floor)
    read_all(api)
    # Two weeks later the first changes are pruned; the feed goes on where it was.
    AvailabilityChange.objects.filter(position__lte=2).update(
        changed_at=timezone.now() - timedelta(days=30)
    )
    assert feed_prune() == 2
    receipt(floor)
    expired = api.get(URL, {"cursor": "1"})
    assert expired.status_code == 410
    assert expired.json()["code"] == "cursor_expired"
    assert expired.json()["latest_cursor"] == "4"
    # From there: the last change, and the availability row says its sequence.
    rest, _ = read_all(api, cursor="2")
    assert [e["data"]["position"] for e in rest] == [3, 4]
    row = api.get("/api/v1/availability/", {"sku": "TEE-BLK-M"}).json()["results"][0]
    assert row["sequence"] == rest[-1]["data"]["sequence"] == 4


@pytest.mark.sqlite_too
def test_a_feed_pruned_empty_does_not_start_again_from_one(api, floor):
    receipt(floor)
    read_all(api)
    AvailabilityChange.objects.update(changed_at=timezone.now() - timedelta(days=30))
    feed_prune()
    receipt(floor)
    events, cursor = read_all(api, cursor="1")
    assert [e["data"]["position"] for e in events] == [2]
    assert api.get(URL, {"cursor": "9"}).status_code == 400  # ahead of the feed


def test_a_channel_token_reads_its_own_channel_only(floor):
    receipt(floor, quantity=3)
    _, raw = ApiTokenFactory.issue(name="marketplace", channel_code="web")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    own = client.get(URL).json()["changes"]
    assert own[0]["data"]["channel"] == "web"
    assert client.get(URL, {"channel": "pos"}).status_code == 403


@pytest.mark.parametrize("cursor", ["-1", "1.5"])
def test_odd_cursors_are_refused(api, floor, cursor):
    assert api.get(URL, {"cursor": cursor}).status_code == 400


@pytest.mark.sqlite_too
def test_an_event_carries_every_quantity_the_promise_and_the_status(api, floor):
    """The whole event, key by key and in order, as a web shop that keeps one unit
    back reads it: a SKU with a buffer of its own, a store whose tills reported a
    minute ago, one whose tills have been quiet for an hour, and a warehouse."""
    floor["tee"].safety_buffer = 2
    floor["tee"].save()
    quiet = LocationFactory(code="LON-REG")
    now = timezone.now()
    Location.objects.filter(pk=floor["store"].pk).update(
        pos_last_event_at=now - timedelta(minutes=1)
    )
    Location.objects.filter(pk=quiet.pk).update(
        pos_last_event_at=now - timedelta(hours=1)
    )
    StockEvents.post("receipt", sku=floor["tee"], location=floor["store"], quantity=5)
    StockEvents.post("receipt", sku=floor["hoodie"], location=quiet, quantity=3)
    StockEvents.post(
        "receipt", sku=floor["hoodie"], location=floor["warehouse"], quantity=1
    )
    # On the whole second and on a tenth: what a database writes shortest.
    moments = [
        datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2030, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        datetime(2030, 1, 2, 3, 4, 6, 654321, tzinfo=UTC),
    ]
    changes = list(AvailabilityChange.objects.order_by("id"))
    for change, moment in zip(changes, moments, strict=True):
        AvailabilityChange.objects.filter(pk=change.pk).update(changed_at=moment)

    events = api.get(URL, {"channel": "web"}).json()["changes"]

    def event(change, created_at, sku, location, on_hand, buffer, status):
        return {
            "id": f"evt_{change.pk}",
            "type": "availability.changed",
            "created_at": created_at,
            "data": {
                "position": change.pk - changes[0].pk + 1,
                "sku": sku,
                "location": location,
                "sequence": 1,
                "channel": "web",
                "quantities": {
                    "on_hand": on_hand,
                    "committed": 0,
                    "picked": 0,
                    "reserved": 0,
                    "damaged": 0,
                    "quality_control": 0,
                    "in_transit": 0,
                    "incoming": 0,
                    "available": on_hand,
                },
                "safety_buffer": buffer,
                "available_to_promise": max(0, on_hand - buffer),
                "status": status,
            },
        }

    expected = [
        event(
            changes[0], "2030-01-02T03:04:05+00:00", "TEE-BLK-M", "LON-OXF", 5, 2,
            "confirmed",
        ),
        event(
            changes[1], "2030-01-02T03:04:05.120000+00:00", "HOOD-GRE-L", "LON-REG",
            3, 1, "delayed",
        ),
        event(
            changes[2], "2030-01-02T03:04:06.654321+00:00", "HOOD-GRE-L", "WH-DAV",
            1, 1, "confirmed",
        ),
    ]  # fmt: skip
    assert events == expected
    # The same keys in the same order: a receiver may compare bodies byte for byte.
    assert [list(e) for e in events] == [list(e) for e in expected]
    assert [list(e["data"]) for e in events] == [list(e["data"]) for e in expected]
    assert [list(e["data"]["quantities"]) for e in events] == [
        list(e["data"]["quantities"]) for e in expected
    ]


def test_a_page_of_many_changes_takes_no_more_queries_than_a_page_of_one(api, floor):
    """A marketplace catching up reads a thousand changes a page: the page is read
    in a few queries whatever its size, never one per change, SKU or location."""
    skus = [floor["tee"], floor["hoodie"]]
    locations = [floor["store"], floor["warehouse"], LocationFactory(code="LON-REG")]
    for sku in skus:
        for location in locations:
            for _ in range(3):
                StockEvents.post("receipt", sku=sku, location=location, quantity=1)
    api.get(URL)  # places them: what is measured is the reading

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as read:
            page = api.get(URL, {"cursor": "0", "limit": limit, "channel": "web"})
        assert page.status_code == 200
        assert len(page.json()["changes"]) == limit
        return len(read.captured_queries)

    one, eighteen = queries(1), queries(18)
    assert eighteen == one
    # The channel, the feed's bounds before and after the page, the page, the open
    # conflicts and the sources' health for the statuses, and the channel's terms
    # (protections and velocity buffers; the token is cached).
    assert one <= 7
