"""The web shop asks what it may promise as supply lands:
GET /api/v1/availability/timeline/."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from catalog.models import Channel, Sku
from inventory.models import (
    Location,
    NetworkLocation,
    StockMovement,
    Supply,
    SupplyPromise,
)
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    LocationFactory,
    StockEvents,
    purchase_order,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability/timeline/"
LONDON = ZoneInfo("Europe/London")


def due(
    sku: Sku, location: Location, quantity: int, *, days: float, reference: str
) -> Supply:
    """A purchase order's units due at ``location`` in ``days`` (before now when
    negative)."""
    when = timezone.now() + timedelta(days=days)
    return purchase_order(sku, location, quantity, due=when, reference=reference)


def promise(supply: Supply, units: int, *, status=SupplyPromise.Status.OPEN, owner=1):
    """A pre-order's units promised against ``supply``."""
    return SupplyPromise.objects.create(
        supply=supply,
        channel=Channel.objects.get(code="web"),
        sku=supply.sku,
        location=supply.location,
        owner_kind=SupplyPromise.Owner.ORDER_LINE,
        owner_id=owner,
        units=units,
        status=status,
        promised_at=timezone.now(),
        expected_at=supply.expected_at,
    )


def local_date(supply: Supply) -> str:
    return supply.expected_at.astimezone(LONDON).date().isoformat()


def today() -> str:
    return timezone.now().astimezone(LONDON).date().isoformat()


def timeline(api, **query) -> dict:
    answer = api.get(URL, {"sku": "TEE-BLK-M", "channel": "web", **query})
    assert answer.status_code == 200, answer.content
    return answer.json()


@pytest.fixture
def stocked(shop):
    """Ten tees on the shelf at Oxford Street: the web (buffer 2) may promise 8."""
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=10)
    return shop


def test_two_purchase_orders_land_on_their_dates_and_add_up(api, stocked):
    store, tee = stocked["store"], stocked["tee"]
    next_week = due(tee, store, 20, days=7, reference="PO-100")
    in_three_weeks = due(tee, store, 30, days=21, reference="PO-200")

    answer = timeline(api, location="LON-OXF")

    assert (answer["available"], answer["available_to_promise"]) == (10, 8)
    # The store's tills have never reported: as /api/v1/availability/ says.
    assert (answer["location"], answer["status"]) == ("LON-OXF", "delayed")
    assert [
        (entry["date"], entry["free"], entry["available_to_promise"])
        for entry in answer["timeline"]
    ] == [(local_date(next_week), 20, 28), (local_date(in_three_weeks), 30, 58)]
    (first,) = answer["timeline"][0]["supply"]
    assert first == {
        "kind": "purchase",
        "reference": "PO-100",
        "location": "LON-OXF",
        "expected_at": first["expected_at"],
        "outstanding": 20,
        "promised": 0,
        "free": 20,
        "late": False,
    }
    assert datetime.fromisoformat(first["expected_at"]) == next_week.expected_at
    # Both orders are dated: nothing incoming is left without a date.
    assert answer["undated_incoming"] == {"units": 0, "supply": []}
    # The tee takes no pre-orders (future_promise_limit 0).
    assert answer["preorderable"] == 0


def test_the_horizon_leaves_out_supply_due_after_it(api, stocked):
    store, tee = stocked["store"], stocked["tee"]
    due(tee, store, 20, days=7, reference="PO-100")
    due(tee, store, 30, days=40, reference="PO-200")
    until = (timezone.now() + timedelta(days=20)).astimezone(LONDON).date()

    answer = timeline(api, location="LON-OXF", until=until.isoformat())

    assert answer["until"] == until.isoformat()
    assert [entry["supply"][0]["reference"] for entry in answer["timeline"]] == [
        "PO-100"
    ]
    # Dated, only later: not undated incoming.
    assert answer["undated_incoming"]["units"] == 0
    default = timeline(api, location="LON-OXF")
    expected = timezone.now().astimezone(LONDON).date() + timedelta(days=90)
    assert default["until"] == expected.isoformat()
    assert len(default["timeline"]) == 2


def test_units_promised_to_pre_orders_are_not_free_to_promise_again(api, stocked):
    store, tee = stocked["store"], stocked["tee"]
    tee.future_promise_limit = 25
    tee.save()
    next_week = due(tee, store, 20, days=7, reference="PO-100")
    due(tee, store, 30, days=21, reference="PO-200")
    promise(next_week, 5, owner=1)
    promise(next_week, 3, owner=2, status=SupplyPromise.Status.RELEASED)

    answer = timeline(api, location="LON-OXF")

    first, second = answer["timeline"]
    (supply,) = first["supply"]
    assert (supply["outstanding"], supply["promised"], supply["free"]) == (20, 5, 15)
    assert (first["free"], first["available_to_promise"]) == (15, 23)
    assert second["available_to_promise"] == 53
    # 45 free units, but the tee's cap of 25 already has 5 promised.
    assert answer["preorderable"] == 20


def test_late_supply_lands_today_flagged_late(api, stocked):
    store, tee = stocked["store"], stocked["tee"]
    due(tee, store, 6, days=-3, reference="PO-LATE")
    next_week = due(tee, store, 20, days=7, reference="PO-100")

    answer = timeline(api, location="LON-OXF")

    today_entry, later = answer["timeline"]
    assert today_entry["date"] == today()
    ((late,), (on_time,)) = today_entry["supply"], later["supply"]
    assert (late["reference"], late["late"]) == ("PO-LATE", True)
    assert (today_entry["free"], today_entry["available_to_promise"]) == (6, 14)
    assert (later["date"], on_time["late"]) == (local_date(next_week), False)
    assert later["available_to_promise"] == 34


def test_a_transfer_on_the_road_lands_on_its_date(api, stocked):
    store, warehouse, tee = stocked["store"], stocked["warehouse"], stocked["tee"]
    StockEvents.post("receipt", sku=tee, location=warehouse, quantity=9)
    arrives = timezone.now() + timedelta(days=2)
    StockEvents.post(
        "transfer_out", sku=tee, location=warehouse, quantity=4,
        other_location=store, expected_at=arrives, reference="TRF-7",
    )  # fmt: skip

    answer = timeline(api, location="LON-OXF")

    (entry,) = answer["timeline"]
    (transfer,) = entry["supply"]
    assert entry["date"] == arrives.astimezone(LONDON).date().isoformat()
    assert (transfer["kind"], transfer["reference"], transfer["free"]) == (
        "transfer", "TRF-7", 4,
    )  # fmt: skip
    assert entry["available_to_promise"] == 12
    assert answer["undated_incoming"]["units"] == 0


def test_undated_incoming_is_shown_but_never_promised(api, stocked):
    store, tee = stocked["store"], stocked["tee"]
    # An advance notice sent without a date: undated supply.
    StockEvents.post(
        "receipt_expected", sku=tee, location=store, quantity=4,
        supply_reference="PO-NO-DATE",
    )  # fmt: skip
    due(tee, store, 20, days=7, reference="PO-100")
    # An announced return is incoming too, and no supply to promise from.
    StockEvents.post("return_expected", sku=tee, location=store, quantity=1)

    answer = timeline(api, location="LON-OXF")

    assert [entry["available_to_promise"] for entry in answer["timeline"]] == [28]
    undated = answer["undated_incoming"]
    assert undated["units"] == 5
    ((notice,),) = [undated["supply"]]
    assert (notice["reference"], notice["expected_at"], notice["free"]) == (
        "PO-NO-DATE", None, 4,
    )  # fmt: skip


def test_the_network_form_sums_every_location_the_channel_sells_from(api, stocked):
    store, warehouse, tee = stocked["store"], stocked["warehouse"], stocked["tee"]
    web = Channel.objects.get(code="web")
    elsewhere = LocationFactory(code="MAN-ARN")
    for place in (store, warehouse):
        NetworkLocation.objects.create(channel=web, location=place)
    StockEvents.post("receipt", sku=tee, location=warehouse, quantity=5)
    StockEvents.post("receipt", sku=tee, location=elsewhere, quantity=50)
    at_warehouse = due(tee, warehouse, 12, days=10, reference="PO-WH")
    at_store = due(tee, store, 20, days=7, reference="PO-100")
    due(tee, elsewhere, 99, days=3, reference="PO-NOT-OURS")

    answer = timeline(api)

    network = api.get(
        "/api/v1/availability/network/", {"sku": "TEE-BLK-M", "channel": "web"}
    ).json()["results"][0]
    assert answer["location"] is None
    assert answer["available_to_promise"] == network["available_to_promise"] == 11
    assert answer["available"] == 15
    assert [
        (entry["date"], [s["location"] for s in entry["supply"]])
        for entry in answer["timeline"]
    ] == [
        (local_date(at_store), ["LON-OXF"]),
        (local_date(at_warehouse), ["WH-DAV"]),
    ]
    assert [entry["available_to_promise"] for entry in answer["timeline"]] == [31, 43]

    outside = api.get(
        URL, {"sku": "TEE-BLK-M", "channel": "web", "location": "MAN-ARN"}
    )
    assert outside.status_code == 400
    assert "not in channel 'web'" in outside.json()["location"][0]


def test_a_channel_token_reads_only_its_own_channel(stocked):
    due(stocked["tee"], stocked["store"], 20, days=7, reference="PO-100")
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")
    web_shop = client_for(raw)

    other = web_shop.get(URL, {"sku": "TEE-BLK-M", "channel": "mkt"})
    assert other.status_code == 403
    assert other.json()["code"] == "channel_not_permitted"
    own = web_shop.get(URL, {"sku": "TEE-BLK-M", "location": "LON-OXF"})
    assert own.status_code == 200, own.content
    assert (own.json()["channel"], own.json()["available_to_promise"]) == ("web", 8)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"until": "2001-01-01"}, "until"),
        ({"until": "not-a-date"}, "until"),
        ({"until": (date.today() + timedelta(days=400)).isoformat()}, "until"),
        ({"sku": "NO-SUCH-SKU"}, "sku"),
        ({"location": "NOWHERE"}, "location"),
        ({"channel": "nobody"}, "channel"),
        ({"channel": ""}, "channel"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, stocked, query, field):
    answer = api.get(
        URL, {"sku": "TEE-BLK-M", "location": "LON-OXF", "channel": "web", **query}
    )
    assert answer.status_code == 400, answer.content
    assert field in answer.json()


def test_an_unbound_token_must_name_a_channel_and_each_parameter_once(api, stocked):
    unnamed = api.get(URL, {"sku": "TEE-BLK-M"})
    assert unnamed.status_code == 400
    assert set(unnamed.json()["errors"]) == {"channel"}
    twice = api.get(f"{URL}?sku=TEE-BLK-M&sku=HOOD-GRE-L&channel=web")
    assert twice.status_code == 400
    assert set(twice.json()["errors"]) == {"sku"}


def test_reading_the_timeline_writes_nothing(
    api, stocked, django_assert_max_num_queries
):
    due(stocked["tee"], stocked["store"], 20, days=7, reference="PO-100")
    entries, supplies = StockMovement.objects.count(), Supply.objects.count()
    with django_assert_max_num_queries(20):
        timeline(api, location="LON-OXF")
    assert (StockMovement.objects.count(), Supply.objects.count()) == (
        entries, supplies,
    )  # fmt: skip


def test_the_schema_describes_the_timeline(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "sku", "location", "channel", "until",
    }  # fmt: skip
    assert {"200", "400", "403"} <= set(operation["responses"])
    answer = schema["components"]["schemas"]["AvailabilityTimeline"]["properties"]
    assert {"timeline", "undated_incoming", "preorderable"} <= set(answer)


def test_a_kit_has_no_timeline_it_sells_from_the_shelf(api, stocked):
    from tests.factories import kit

    kit("TEE-TWIN", (stocked["tee"], 2))
    answer = api.get(URL, {"sku": "TEE-TWIN", "location": "LON-OXF", "channel": "web"})
    assert answer.status_code == 400
    assert "is a kit" in answer.json()["sku"][0]
