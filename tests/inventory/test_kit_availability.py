"""The web shop sells a camera kit (one body, two lenses) while the shelves hold the
parts: GET /api/v1/availability/ answers what it may promise of the kit at each
store, from its components, each with its own buffer."""

import pytest
from django.utils import timezone

from catalog.models import KIT_REVISION_STEP
from inventory.kit_availability import KitRow
from inventory.network_selectors import network_availability
from inventory.selectors import availability_rows
from tests.factories import (
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StockEvents,
    kit,
    stock,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability/"


@pytest.fixture
def cameras(db):
    """Two stores whose tills report (so every figure is confirmed), a body and a
    lens that keeps one unit back of its own, the camera kit of one body and two
    lenses, the tills and the web shop, which keeps two of everything back.

    Oxford: 5 bodies, 6 lenses. Kensington: 4 bodies, 9 lenses."""
    now = timezone.now()
    floor = {
        "oxford": LocationFactory(code="LON-OXF", pos_last_event_at=now),
        "kensington": LocationFactory(code="LON-KEN", pos_last_event_at=now),
        "body": SkuFactory(code="BODY-X"),
        "lens": SkuFactory(code="LENS-50", safety_buffer=1),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=2),
    }
    floor["kit"] = kit("CAM-KIT", (floor["body"], 1), (floor["lens"], 2))
    for sku, place, quantity in (
        ("body", "oxford", 5), ("lens", "oxford", 6),
        ("body", "kensington", 4), ("lens", "kensington", 9),
    ):  # fmt: skip
        stock(floor[sku], floor[place], quantity)
    return floor


def rows_of(response) -> dict[tuple[str, str], dict]:
    assert response.status_code == 200, response.content
    return {(row["sku"], row["location"]): row for row in response.json()["results"]}


@pytest.mark.sqlite_too
def test_the_kit_promises_what_its_scarcest_component_allows_at_each_store(
    api, cameras
):
    rows = rows_of(api.get(URL, {"sku": ["CAM-KIT", "BODY-X"], "channel": "web"}))
    oxford = rows[("CAM-KIT", "LON-OXF")]
    # Bodies: 5 less the web's 2 = 3 kits. Lenses: 6 less their own 1 = 5 units,
    # 2 a kit: 2 kits. The kit: 2. Sellable: 5 bodies, 3 pairs of lenses: 3.
    assert (oxford["available_to_promise"], oxford["available"]) == (2, 3)
    assert oxford["components"] == [
        {"sku": "BODY-X", "quantity": 1, "available": 5, "available_to_promise": 3,
         "status": "confirmed"},
        {"sku": "LENS-50", "quantity": 2, "available": 6, "available_to_promise": 5,
         "status": "confirmed"},
    ]  # fmt: skip
    # A kit holds nothing of its own; the buffers are inside its components'.
    for bucket in ("on_hand", "committed", "picked", "reserved", "damaged",
                   "quality_control", "in_transit", "incoming", "safety_buffer"):  # fmt: skip
        assert oxford[bucket] == 0
    assert (oxford["status"], oxford["channel"]) == ("confirmed", "web")
    assert oxford["as_of"] is not None

    kensington = rows[("CAM-KIT", "LON-KEN")]
    # Bodies: 4 - 2 = 2 kits; lenses: 9 - 1 = 8 units, 4 kits.
    assert (kensington["available_to_promise"], kensington["available"]) == (2, 4)

    # The body's own row is as it ever was: no components.
    body = rows[("BODY-X", "LON-OXF")]
    assert "components" not in body
    assert (body["available"], body["available_to_promise"]) == (5, 3)

    # No channel, no buffer: 5 bodies, 3 pairs of lenses.
    plain = rows_of(api.get(URL, {"sku": "CAM-KIT", "location": "LON-OXF"}))
    assert plain[("CAM-KIT", "LON-OXF")]["available_to_promise"] == 3


def test_the_kit_sequence_is_its_revision_then_its_components_sequences(
    api, cameras, django_capture_on_commit_callbacks
):
    cameras["kit"].refresh_from_db()
    revision = cameras["kit"].kit_revision
    row = rows_of(api.get(URL, {"sku": "CAM-KIT", "location": "LON-OXF"}))[
        ("CAM-KIT", "LON-OXF")
    ]
    # Each component received once there.
    assert row["sequence"] == revision * KIT_REVISION_STEP + 2

    stock(cameras["lens"], cameras["oxford"], 1)
    row = rows_of(api.get(URL, {"sku": "CAM-KIT", "location": "LON-OXF"}))[
        ("CAM-KIT", "LON-OXF")
    ]
    assert row["sequence"] == revision * KIT_REVISION_STEP + 3

    # Redefined as a body alone: one component's sequence fewer, a revision more
    # (and the parts announced again, each a sequence more).
    with django_capture_on_commit_callbacks(execute=True):
        kit("CAM-KIT", (cameras["body"], 1))
    after = rows_of(api.get(URL, {"sku": "CAM-KIT", "location": "LON-OXF"}))[
        ("CAM-KIT", "LON-OXF")
    ]
    assert after["sequence"] == (revision + 1) * KIT_REVISION_STEP + 2
    assert after["sequence"] > row["sequence"]
    assert [part["sku"] for part in after["components"]] == ["BODY-X"]


def test_a_component_under_review_puts_the_kit_under_review(api, cameras):
    body, oxford = cameras["body"], cameras["oxford"]
    # Every body at Oxford promised to the web, then the till sells one: a conflict.
    StockEvents.post("commit", sku=body, location=oxford, quantity=5,
                     channel=cameras["web"])  # fmt: skip
    StockEvents.post("sale", sku=body, location=oxford, quantity=1,
                     channel=cameras["pos"])  # fmt: skip
    rows = rows_of(api.get(URL, {"sku": "CAM-KIT", "channel": "web"}))
    oxford_row = rows[("CAM-KIT", "LON-OXF")]
    assert oxford_row["status"] == "under_review"
    assert [part["status"] for part in oxford_row["components"]] == [
        "under_review", "confirmed",
    ]  # fmt: skip
    assert oxford_row["available_to_promise"] == 0
    # Kensington's parts are not in question.
    assert rows[("CAM-KIT", "LON-KEN")]["status"] == "confirmed"


def test_a_store_whose_tills_are_silent_makes_the_kit_delayed(api, cameras):
    cameras["kensington"].pos_last_event_at = None
    cameras["kensington"].save()
    rows = rows_of(api.get(URL, {"sku": "CAM-KIT"}))
    assert rows[("CAM-KIT", "LON-KEN")]["status"] == "delayed"
    assert rows[("CAM-KIT", "LON-OXF")]["status"] == "confirmed"


def test_a_hold_on_a_lens_lowers_what_the_kit_may_promise(api, cameras):
    query = {"sku": "CAM-KIT", "location": "LON-OXF", "channel": "web"}
    before = rows_of(api.get(URL, query))[("CAM-KIT", "LON-OXF")]
    Holds.place(channel=cameras["web"], lines=[(cameras["lens"], cameras["oxford"], 2)])
    after = rows_of(api.get(URL, query))[("CAM-KIT", "LON-OXF")]
    # Lenses: 4 left, 3 beyond their own buffer: one kit.
    assert (before["available_to_promise"], after["available_to_promise"]) == (2, 1)
    assert after["components"][1]["available"] == 4
    assert after["sequence"] > before["sequence"]


def test_a_kit_is_read_in_a_fixed_few_statements(
    api, cameras, django_assert_num_queries
):
    """The records named, the kit's definition, then its components' balances (with
    their conflicts and lapsed holds) and the channel's terms: as for plain SKUs, one
    statement more for the definitions."""
    query = {"sku": "CAM-KIT", "channel": "web"}
    api.get(URL, query)  # the token is looked up once, then kept a few seconds
    with django_assert_num_queries(4):
        rows_of(api.get(URL, query))


def test_a_kit_nobody_stocks_reads_zero(api, cameras):
    tripod = SkuFactory(code="TRIPOD")
    kit("CAM-TRAVEL", (cameras["body"], 1), (tripod, 1))
    rows = rows_of(api.get(URL, {"sku": "CAM-TRAVEL", "location": "LON-OXF"}))
    row = rows[("CAM-TRAVEL", "LON-OXF")]
    assert (row["available"], row["available_to_promise"]) == (0, 0)
    assert row["components"][1] == {
        "sku": "TRIPOD", "quantity": 1, "available": 0, "available_to_promise": 0,
        "status": "confirmed",
    }  # fmt: skip


@pytest.mark.sqlite_too
def test_across_the_network_a_kit_is_never_split_between_stores(cameras):
    """Oxford may promise 2 kits and Kensington 2: 4 across the web's network,
    though the components summed over it would make 5 (5 bodies, 13 lenses beyond
    their buffers): no kit is made of a body here and lenses there."""
    (row,) = network_availability(channel=cameras["web"], skus=[cameras["kit"]])
    assert (row.available_to_promise, row.locations, row.on_hand) == (4, 2, 0)
    assert row.available == 3 + 4
    assert row.status == "confirmed"


def test_a_read_of_sku_records_sees_the_kit_too(cameras):
    """A caller with the SKU records (routing, the timeline), not the API's refs,
    gets the same kit row."""
    (row,) = availability_rows(
        pairs=[(cameras["kit"], cameras["oxford"])], channel=cameras["web"]
    )
    assert type(row) is KitRow
    assert (row.available_to_promise, row.sku.code) == (2, "CAM-KIT")


def test_the_schema_says_which_rows_have_components(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    row = schema["components"]["schemas"]["Availability"]
    assert "components" in row["properties"]
    assert "components" not in row["required"]  # absent from a plain SKU's row
    part = schema["components"]["schemas"]["KitComponentAvailability"]
    assert set(part["required"]) == {
        "sku", "quantity", "available", "available_to_promise", "status",
    }  # fmt: skip
    change = schema["components"]["schemas"]["ChangeData"]
    assert "components" in change["properties"]
    assert "components" not in change["required"]
