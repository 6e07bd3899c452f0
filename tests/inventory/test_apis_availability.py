"""The web shop asks what it may promise: GET /api/v1/availability/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from inventory.models import StockConflict
from inventory.services import conflict_resolve
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    Holds,
    SkuFactory,
    StockEvents,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability/"


def stock_the_store(shop, *, till_synced_minutes_ago: int = 1):
    """10 tees arrive, one is damaged, one return awaits inspection, the till sells 1."""
    store, tee = shop["store"], shop["tee"]
    StockEvents.post("receipt", sku=tee, location=store, quantity=10)
    StockEvents.post("damage", sku=tee, location=store, quantity=1)
    StockEvents.post("return_received", sku=tee, location=store, quantity=1)
    StockEvents.post(
        "sale", sku=tee, location=store, quantity=1, channel=shop["pos"],
        occurred_at=timezone.now() - timedelta(minutes=till_synced_minutes_ago),
    )  # fmt: skip


def the_row(response, sku="TEE-BLK-M", location="LON-OXF"):
    assert response.status_code == 200, response.content
    (row,) = [
        row
        for row in response.json()["results"]
        if row["sku"] == sku and row["location"] == location
    ]
    return row


@pytest.mark.sqlite_too
def test_every_quantity_and_what_the_web_may_promise(api, shop):
    stock_the_store(shop)
    row = the_row(
        api.get(URL, {"sku": "TEE-BLK-M", "location": "LON-OXF", "channel": "web"})
    )
    assert row["on_hand"] == 10  # 10 in, 1 returned, 1 sold
    assert row["damaged"] == 1
    assert row["quality_control"] == 1
    assert row["available"] == 8
    assert row["safety_buffer"] == 2
    assert row["available_to_promise"] == 6
    assert row["channel"] == "web"
    assert row["status"] == "confirmed"
    assert row["as_of"] is not None
    for bucket in ("committed", "reserved", "in_transit", "incoming"):
        assert row[bucket] == 0


def test_each_channel_keeps_back_its_own_buffer_unless_the_sku_overrides_it(api, shop):
    stock_the_store(shop)
    query = {"sku": "TEE-BLK-M", "location": "LON-OXF"}
    assert (
        the_row(api.get(URL, {**query, "channel": "mkt"}))["available_to_promise"] == 3
    )
    assert the_row(api.get(URL, query))["available_to_promise"] == 8

    shop["tee"].safety_buffer = 7
    shop["tee"].save()
    row = the_row(api.get(URL, {**query, "channel": "mkt"}))
    assert (row["safety_buffer"], row["available_to_promise"]) == (7, 1)
    row = the_row(api.get(URL, {**query, "channel": "web"}))
    assert (row["safety_buffer"], row["available_to_promise"]) == (7, 1)


def test_available_to_promise_never_goes_below_zero(api, shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=1)
    row = the_row(
        api.get(URL, {"sku": "TEE-BLK-M", "location": "LON-OXF", "channel": "web"})
    )
    assert (row["available"], row["available_to_promise"]) == (1, 0)


def test_a_sku_never_stocked_at_a_location_reads_zero(api, shop):
    row = the_row(
        api.get(URL, {"sku": "HOOD-GRE-L", "location": "WH-DAV"}),
        sku="HOOD-GRE-L",
        location="WH-DAV",
    )
    assert (row["on_hand"], row["available_to_promise"], row["as_of"]) == (0, 0, None)


def test_several_skus_at_every_location(api, shop):
    stock_the_store(shop)
    response = api.get(URL + "?sku=TEE-BLK-M&sku=HOOD-GRE-L&channel=web")
    pairs = [(row["sku"], row["location"]) for row in response.json()["results"]]
    assert pairs == [
        ("TEE-BLK-M", "LON-OXF"),
        ("TEE-BLK-M", "WH-DAV"),
        ("HOOD-GRE-L", "LON-OXF"),
        ("HOOD-GRE-L", "WH-DAV"),
    ]


def test_every_sku_at_a_location_is_paginated(api, shop):
    for n in range(7):
        sku = SkuFactory(code=f"BEAN-{n}")
        StockEvents.post("receipt", sku=sku, location=shop["warehouse"], quantity=n + 1)
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=1)
    first = api.get(URL, {"location": "WH-DAV", "page_size": 5}).json()
    assert first["count"] == 7
    assert [row["sku"] for row in first["results"]] == [f"BEAN-{n}" for n in range(5)]
    second = api.get(first["next"]).json()
    assert [row["on_hand"] for row in second["results"]] == [6, 7]


def test_a_store_whose_tills_have_gone_quiet_reads_delayed(api, shop, settings):
    settings.ONESTOCK_POS_DELAY_SECONDS = 600
    stock_the_store(shop, till_synced_minutes_ago=30)
    row = the_row(api.get(URL, {"sku": "TEE-BLK-M", "location": "LON-OXF"}))
    assert row["status"] == "delayed"
    StockEvents.post(
        "sale",
        sku=shop["hoodie"],
        location=shop["store"],
        quantity=1,
        channel=shop["pos"],
    )
    row = the_row(api.get(URL, {"sku": "TEE-BLK-M", "location": "LON-OXF"}))
    assert row["status"] == "confirmed"


def test_a_warehouse_has_no_tills_to_wait_for(api, shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["warehouse"], quantity=4)
    row = the_row(
        api.get(URL, {"sku": "TEE-BLK-M", "location": "WH-DAV"}), location="WH-DAV"
    )
    assert row["status"] == "confirmed"


def test_a_store_never_heard_from_reads_delayed(api, shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=4)
    assert the_row(api.get(URL, {"sku": "TEE-BLK-M"}))["status"] == "delayed"


@pytest.mark.sqlite_too
def test_an_open_conflict_puts_the_figures_under_review_until_resolved(api, shop):
    stock_the_store(shop)
    StockEvents.post(
        "commit",
        sku=shop["tee"],
        location=shop["store"],
        quantity=8,
        channel=shop["web"],
    )
    StockEvents.post(
        "sale", sku=shop["tee"], location=shop["store"], quantity=1, channel=shop["pos"]
    )
    query = {"sku": "TEE-BLK-M", "location": "LON-OXF", "channel": "web"}
    row = the_row(api.get(URL, query))
    assert row["status"] == "under_review"
    assert (row["available"], row["available_to_promise"]) == (-1, 0)

    conflict_resolve(
        conflict=StockConflict.objects.get(), actor=Actor(name="user:manager")
    )
    assert the_row(api.get(URL, query))["status"] == "confirmed"


def test_a_web_token_reads_its_own_channels_promise_by_default(shop):
    stock_the_store(shop)
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")
    row = the_row(client_for(raw).get(URL, {"sku": "TEE-BLK-M", "location": "LON-OXF"}))
    assert (row["channel"], row["available_to_promise"]) == ("web", 6)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sku": "NOPE"}, "sku"),
        ({"location": "NOWHERE"}, "location"),
        ({"channel": "fax"}, "channel"),
        ({"sku": "bad code!"}, "sku"),
    ],
)
def test_unknown_codes_are_a_400_naming_them(api, shop, query, field):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


def test_too_many_skus_at_once_is_a_400(api, shop):
    response = api.get(URL + "?" + "&".join(f"sku=S{n}" for n in range(101)))
    assert response.status_code == 400


def test_reading_availability_costs_a_few_queries_whatever_the_page(
    api, shop, django_assert_max_num_queries
):
    for n in range(40):
        sku = SkuFactory(code=f"Q-{n:02d}")
        StockEvents.post("receipt", sku=sku, location=shop["store"], quantity=3)
    with django_assert_max_num_queries(8):
        response = api.get(
            URL, {"location": "LON-OXF", "channel": "web", "page_size": 40}
        )
    assert len(response.json()["results"]) == 40


def test_a_product_list_of_a_hundred_skus_costs_the_same_few_queries_as_one(
    api, shop, django_assert_num_queries
):
    """The web shop's product list: a hundred SKUs, some held, one held past its
    expiry, one under review. The records named with the sources' health, and the
    balances with their open conflicts and lapsed holds: two statements, whatever
    the page."""
    skus = [SkuFactory(code=f"LIST-{n:03d}") for n in range(100)]
    for sku in skus:
        StockEvents.post("receipt", sku=sku, location=shop["store"], quantity=4)
    Holds.place(channel=shop["web"], lines=[(skus[0], shop["store"], 1)])
    lapsed = Holds.place(channel=shop["web"], lines=[(skus[1], shop["store"], 2)])
    lapsed.__class__.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    StockEvents.post("sale", sku=skus[2], location=shop["store"], quantity=9,
                     channel=shop["pos"])  # fmt: skip
    query = {"location": "LON-OXF", "sku": [s.code for s in skus], "page_size": 100}
    api.get(URL, query)  # the token is looked up once, then kept a few seconds
    with django_assert_num_queries(2):
        response = api.get(URL, query)
    rows = {row["sku"]: row for row in response.json()["results"]}
    assert len(rows) == 100
    assert (rows["LIST-000"]["reserved"], rows["LIST-000"]["available"]) == (1, 3)
    assert (rows["LIST-001"]["reserved"], rows["LIST-001"]["available"]) == (0, 4)
    assert rows["LIST-002"]["status"] == "under_review"
    assert rows["LIST-003"]["status"] == "confirmed"


def test_one_sku_at_every_location_reads_the_chain_in_as_few(
    api, shop, django_assert_num_queries
):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=4)
    api.get(URL, {"sku": "TEE-BLK-M"})
    # The SKU, every location and the sources' health; the balances.
    with django_assert_num_queries(2):
        response = api.get(URL, {"sku": "TEE-BLK-M"})
    rows = response.json()["results"]
    assert {row["location"] for row in rows} >= {"LON-OXF"}
    assert all(row["sku"] == "TEE-BLK-M" for row in rows)


def test_two_channels_at_once_is_a_400(api, shop):
    for query in ("?channel=web&channel=mkt", "?channel=&channel=web"):
        response = api.get(URL + query)
        assert response.status_code == 400
        assert "channel" in response.json()
