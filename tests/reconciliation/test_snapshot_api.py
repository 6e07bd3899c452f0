"""A till sends its end-of-day stock file in pages: resent pages change nothing,
clashing pages and bad rows are refused whole, and a token acts for its own channel."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from reconciliation.models import StockSnapshot, StockSnapshotRow
from tests.factories import ApiTokenFactory, ChannelFactory
from tests.reconciliation.snapshots import SNAPSHOTS, page, send


@pytest.fixture
def moment():
    return timezone.now() - timedelta(minutes=5)


def test_pages_in_any_order_complete_the_snapshot_and_a_resend_changes_nothing(
    shop, till, moment
):
    second = page([("HOOD-GRE-L", "LON-OXF", 2)], number=2, of=2, taken_at=moment)
    first = page([("TEE-BLK-M", "LON-OXF", 5)], number=1, of=2, taken_at=moment)

    assert send(till, second).status_code == 201
    body = send(till, first).json()
    assert (body["status"], body["pages_received"], body["rows_received"]) == (
        "complete",
        2,
        2,
    )
    again = send(till, first)
    assert again.status_code == 200 and again.json()["rows_received"] == 2
    assert StockSnapshotRow.objects.count() == 2


def test_a_page_that_changes_or_repeats_a_row_is_a_conflict(shop, till, moment):
    send(till, page([("TEE-BLK-M", "LON-OXF", 5)], number=1, of=2, taken_at=moment))

    changed = send(
        till, page([("TEE-BLK-M", "LON-OXF", 6)], number=1, of=2, taken_at=moment)
    )
    repeated = send(
        till, page([("TEE-BLK-M", "LON-OXF", 5)], number=2, of=2, taken_at=moment)
    )
    other_moment = send(
        till,
        page([("POLO-BLU-M", "LON-OXF", 1)], number=2, of=2, taken_at=timezone.now()),
    )

    for answer in (changed, repeated, other_moment):
        assert answer.status_code == 409 and answer.json()["code"] == "snapshot_clash"
    snapshot = StockSnapshot.objects.get()
    assert (snapshot.pages_received, snapshot.status) == (1, "receiving")
    assert StockSnapshotRow.objects.count() == 1


def test_bad_rows_are_named_and_nothing_is_written(shop, till):
    body = page(
        [
            ("TEE-BLK-M", "LON-OXF", 5),
            ("NOPE", "LON-OXF", 1),
            ("TEE-BLK-M", "LON-OXF", 5),
        ]
    )
    body["rows"].append({"sku": "POLO-BLU-M", "location": "LON-OXF", "on_hand": "3"})
    answer = send(till, body)
    assert answer.status_code == 400
    assert answer.json()["rows"] == [
        "Row 2: this SKU and location came earlier in the page.",
        "Row 3: on_hand is a whole number.",
    ]

    body["rows"] = body["rows"][:2]
    answer = send(till, body)
    assert answer.json()["errors"] == {"rows": ["Row 1: unknown SKU 'NOPE'."]}
    assert not StockSnapshot.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"page": 3, "page_count": 2}, "page"),
        ({"taken_at": "2026-11-24 10:00"}, "taken_at"),
        ({"rows": []}, "rows"),
        ({"snapshot_id": "has space"}, "snapshot_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_malformed_page_is_a_400_by_field(shop, till, change, field):
    answer = send(till, {**page([("TEE-BLK-M", "LON-OXF", 5)]), **change})
    assert answer.status_code == 400 and field in answer.json()
    assert not StockSnapshot.objects.exists()


def test_a_page_of_more_than_ten_thousand_rows_is_refused(shop, till):
    body = page([("TEE-BLK-M", "LON-OXF", 5)])
    body["rows"] = body["rows"] * 10_001
    answer = send(till, body)
    assert answer.json()["errors"] == {
        "rows": ["10,001 rows: at most 10,000 per page."]
    }


def test_a_token_sends_and_reads_its_own_channels_snapshots_only(shop, till):
    ChannelFactory(code="cam-till", kind="store_pos")
    refused = send(till, {**page([("TEE-BLK-M", "LON-OXF", 5)]), "channel": "cam-till"})
    assert refused.status_code == 403

    send(till, page([("TEE-BLK-M", "LON-OXF", 5)]))
    other = APIClient()
    _, token = ApiTokenFactory.issue(name="camden", channel_code="cam-till")
    other.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert other.get(SNAPSHOTS).json()["count"] == 0
    listed = till["api"].get(SNAPSHOTS, {"status": "complete"}).json()
    assert [s["snapshot_id"] for s in listed["results"]] == ["EOD-1"]
    assert till["api"].get(SNAPSHOTS, {"status": "odd"}).status_code == 400


def test_a_nul_in_a_rows_code_is_a_400_not_a_500(shop, till):
    answer = send(till, page([("TEE\u0000", "LON-OXF", 5)]))
    assert answer.status_code == 400 and "Row 0: sku is not a code" in str(
        answer.json()
    )


def test_store_staff_signed_in_cannot_send_or_read_snapshots(shop, client):
    client.force_login(shop["alice"])
    assert client.get(SNAPSHOTS).status_code == 403
    body = {**page([("TEE-BLK-M", "LON-OXF", 5)]), "channel": "web"}
    answer = client.post(SNAPSHOTS, body, content_type="application/json")
    assert answer.status_code == 403 and not StockSnapshot.objects.exists()


def test_a_kit_in_a_snapshot_is_named_and_nothing_is_written(shop, till):
    from tests.factories import kit

    kit("TEE-TWIN", (shop["tee"], 2))
    answer = send(till, page([("TEE-BLK-M", "LON-OXF", 5), ("TEE-TWIN", "LON-OXF", 1)]))
    assert answer.status_code == 400
    assert answer.json()["rows"] == ["Row 1: TEE-TWIN is a kit; report its components."]
    assert not StockSnapshot.objects.exists()
