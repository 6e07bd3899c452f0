"""A manager protects units for a marketplace through the API: PUT creates or changes
the protection, units 0 or DELETE lifts it, the list shows what is in force and what
is short; the other channels' available-to-promise moves at once and every channel
hears of it. By default only the back office may; a channel's token granted the
scope manages its own channel's protections, no other's."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from catalog.models import Channel
from inventory.models import Allocation, NetworkLocation
from inventory.models.channels import MAX_ALLOCATION_UNITS
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StaffFactory,
    StockEvents,
    balance_of,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/allocations/{}/{}/{}/"
AMAZON_AT_LEEDS = URL.format("amazon", "TEE-BLK-M", "LDS-WH")


@pytest.fixture
def market(db):
    """Five tees at the Leeds warehouse, two at Oxford Street; the web shop and a
    marketplace sell them; the ERP is a back-office system."""
    leeds = LocationFactory(code="LDS-WH", kind="warehouse")
    oxford = LocationFactory(code="LON-OXF")
    tee = SkuFactory(code="TEE-BLK-M")
    StockEvents.post("receipt", sku=tee, location=leeds, quantity=5)
    StockEvents.post("receipt", sku=tee, location=oxford, quantity=2)
    return {
        "leeds": leeds,
        "oxford": oxford,
        "tee": tee,
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
        "amazon": ChannelFactory(code="amazon", kind="marketplace", safety_buffer=0),
        "wms": ChannelFactory(code="wms", kind="back_office"),
    }


def token(name, channel=None, scopes=("manage_allocations", "read_availability")):
    raw = ApiTokenFactory.issue(
        name=name, channel_code=channel, scopes=None if scopes is None else [*scopes]
    )[1]
    return client_for(raw)


@pytest.fixture
def back_office(market):
    """The retailer's own integration, granted the scope."""
    return token("merchandising")


@pytest.fixture
def amazon_shop(market):
    """The marketplace's connector, bound to its channel and granted the scope."""
    return token("amazon-connector", channel="amazon")


def protect(client, units, url=AMAZON_AT_LEEDS):
    return client.put(url, {"units": units}, format="json")


def atp(client, channel, location="LDS-WH") -> int:
    answer = client.get(
        "/api/v1/availability/",
        {"sku": "TEE-BLK-M", "location": location, "channel": channel},
    )
    assert answer.status_code == 200, answer.content
    (row,) = answer.json()["results"]
    return row["available_to_promise"]


# Setting and lifting


def test_a_protection_is_created_then_changed(market, back_office):
    created = protect(back_office, 4)
    assert created.status_code == 201, created.content
    assert created.json() == {
        "channel": "amazon",
        "sku": "TEE-BLK-M",
        "location": "LDS-WH",
        "units": 4,
        "in_force": 4,
        "available": 5,
        "shortfall": 0,
        "updated_by": "token:merchandising",
        "updated_at": created.json()["updated_at"],
    }

    changed = protect(back_office, 3)
    assert changed.status_code == 200
    assert changed.json()["units"] == 3
    assert protect(back_office, 3).status_code == 200  # the same again: nothing new
    (allocation,) = Allocation.objects.all()
    assert (allocation.channel, allocation.units) == (market["amazon"], 3)


def test_units_zero_lifts_the_protection_and_says_so(market, back_office):
    protect(back_office, 4)
    assert atp(back_office, "web") == 1

    lifted = protect(back_office, 0)

    assert lifted.status_code == 200, lifted.content
    assert (lifted.json()["units"], lifted.json()["in_force"]) == (0, 0)
    assert lifted.json()["available"] == 5
    assert not Allocation.objects.exists()
    assert atp(back_office, "web") == 5
    assert protect(back_office, 0).status_code == 200  # nothing there: still 200


def test_delete_lifts_it_and_a_second_delete_finds_nothing(market, back_office):
    protect(back_office, 4)

    assert back_office.delete(AMAZON_AT_LEEDS).status_code == 204
    assert not Allocation.objects.exists()
    assert atp(back_office, "web") == 5
    again = back_office.delete(AMAZON_AT_LEEDS)
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert (
        back_office.delete(URL.format("amazon", "NO-SUCH", "LDS-WH")).status_code == 404
    )


def test_one_protection_is_read_by_its_url(market, back_office):
    assert back_office.get(AMAZON_AT_LEEDS).status_code == 404
    protect(back_office, 2)
    assert back_office.get(AMAZON_AT_LEEDS).json()["units"] == 2


# The list


def test_the_list_filters_and_shows_what_is_in_force_and_what_is_short(
    market, back_office
):
    protect(back_office, 4)
    protect(back_office, 2, URL.format("amazon", "TEE-BLK-M", "LON-OXF"))
    protect(back_office, 1, URL.format("web", "TEE-BLK-M", "LON-OXF"))
    # The marketplace holds 1 at Oxford Street: its protection there takes it first.
    Holds.place(channel=market["amazon"], lines=[(market["tee"], market["oxford"], 1)])

    def listed(**query):
        answer = back_office.get("/api/v1/allocations/", query)
        assert answer.status_code == 200, answer.content
        return answer.json()

    everything = listed()
    assert everything["count"] == 3
    rows = {(r["channel"], r["location"]): r for r in everything["results"]}
    amazon_oxford = rows[("amazon", "LON-OXF")]
    assert (amazon_oxford["units"], amazon_oxford["in_force"]) == (2, 1)
    assert (amazon_oxford["available"], amazon_oxford["shortfall"]) == (1, 0)
    web_oxford = rows[("web", "LON-OXF")]
    assert (web_oxford["in_force"], web_oxford["shortfall"]) == (1, 0)
    assert [r["channel"] for r in listed(channel="amazon")["results"]] == [
        "amazon",
        "amazon",
    ]
    assert [r["location"] for r in listed(location="LDS-WH")["results"]] == ["LDS-WH"]
    assert listed(sku="TEE-BLK-M")["count"] == 3
    assert listed(sku="NO-SUCH")["count"] == 0
    assert listed(page_size=1)["next"]


def test_a_sale_below_the_protection_shows_as_a_shortfall(market, back_office):
    protect(back_office, 4)
    StockEvents.post("sale", sku=market["tee"], location=market["leeds"], quantity=2)

    (row,) = back_office.get("/api/v1/allocations/").json()["results"]

    assert (row["in_force"], row["available"], row["shortfall"]) == (4, 3, 1)
    assert atp(back_office, "web") == 0
    assert atp(back_office, "amazon") == 3


# Refusals: a 400 that names the field, and nothing written


@pytest.mark.parametrize(
    "body, field",
    [
        ({"units": -1}, "units"),
        ({"units": MAX_ALLOCATION_UNITS + 1}, "units"),
        ({"units": "4"}, "units"),
        ({"units": 2.5}, "units"),
        ({}, "units"),
        ({"units": 4, "channel": "web"}, "channel"),
    ],
)
def test_a_bad_body_is_a_400_and_protects_nothing(market, back_office, body, field):
    refused = back_office.put(AMAZON_AT_LEEDS, body, format="json")
    assert refused.status_code == 400, refused.content
    assert field in refused.json()
    assert not Allocation.objects.exists()


@pytest.mark.parametrize(
    "channel, sku, location, field",
    [
        ("nobody", "TEE-BLK-M", "LDS-WH", "channel"),
        ("amazon", "NO-SUCH", "LDS-WH", "sku"),
        ("amazon", "TEE-BLK-M", "NOWHERE", "location"),
        ("amazon", "TEE BLK", "LDS-WH", "sku"),
        ("wms", "TEE-BLK-M", "LDS-WH", "channel"),
    ],
)
def test_unknown_codes_and_a_back_office_system_are_a_400(
    market, back_office, channel, sku, location, field
):
    refused = protect(back_office, 4, URL.format(channel, sku, location))
    assert refused.status_code == 400, refused.content
    assert set(refused.json()["errors"]) == {field}
    assert not Allocation.objects.exists()


def test_a_closed_channel_gets_no_new_protection_but_an_old_one_can_be_lifted(
    market, back_office
):
    protect(back_office, 4)
    Channel.objects.filter(code="amazon").update(is_active=False)
    refused = protect(back_office, 5)
    assert refused.status_code == 400
    assert "closed" in refused.json()["channel"][0]
    assert Allocation.objects.get().units == 4
    assert protect(back_office, 0).status_code == 200
    assert not Allocation.objects.exists()


def test_a_location_outside_the_channels_network_is_a_400(market, back_office):
    NetworkLocation.objects.create(channel=market["amazon"], location=market["oxford"])

    refused = protect(back_office, 4)

    assert refused.status_code == 400
    assert refused.json()["location"] == [
        "Location 'LDS-WH' is not in channel 'amazon''s network: it does not sell "
        "from there."
    ]
    assert not Allocation.objects.exists()
    inside = protect(back_office, 1, URL.format("amazon", "TEE-BLK-M", "LON-OXF"))
    assert inside.status_code == 201, inside.content


# Who may


def test_a_channels_token_with_the_scope_manages_its_own_channel_only(
    market, amazon_shop
):
    assert protect(amazon_shop, 4).status_code == 201

    refused = protect(amazon_shop, 4, URL.format("web", "TEE-BLK-M", "LDS-WH"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "channel_not_permitted"
    deleted = amazon_shop.delete(URL.format("web", "TEE-BLK-M", "LDS-WH"))
    assert deleted.status_code == 403
    assert list(Allocation.objects.values_list("channel__code", flat=True)) == [
        "amazon"
    ]


def test_without_the_scope_nobody_protects_anything(market):
    web_shop = token("web-shop", channel="web", scopes=None)  # the defaults
    erp = token("erp", scopes=None)
    for client in (web_shop, erp):
        refused = protect(client, 4, URL.format("web", "TEE-BLK-M", "LDS-WH"))
        assert refused.status_code == 403
        assert refused.json()["code"] == "scope_missing"
        assert refused.json()["scope"] == "manage_allocations"
    assert not Allocation.objects.exists()


def test_a_manager_may_and_store_staff_may_not(market):
    manager = APIClient()
    manager.force_login(StaffFactory.at(username="maria", manager=True))
    assert protect(manager, 4).status_code == 201
    assert Allocation.objects.get().updated_by == "user:maria"

    staff = APIClient()
    staff.force_login(StaffFactory.at(market["oxford"], username="alice"))
    refused = protect(staff, 1)
    assert refused.status_code == 403
    assert refused.json()["code"] == "scope_missing"
    assert Allocation.objects.get().units == 4


def test_a_channels_token_reads_its_own_protections_only(
    market, back_office, amazon_shop
):
    protect(back_office, 4)
    protect(back_office, 1, URL.format("web", "TEE-BLK-M", "LON-OXF"))
    reader = token("amazon-reader", channel="amazon", scopes=["read_availability"])

    listed = reader.get("/api/v1/allocations/").json()["results"]
    assert [row["channel"] for row in listed] == ["amazon"]
    other = reader.get("/api/v1/allocations/", {"channel": "web"})
    assert other.status_code == 403
    assert other.json()["code"] == "channel_not_permitted"
    assert reader.get(URL.format("web", "TEE-BLK-M", "LON-OXF")).status_code == 403
    assert protect(reader, 5).status_code == 403  # reading is not managing


# The story: the others' promise moves, and every channel hears of it


def test_a_protection_moves_the_others_promise_and_is_announced(market, back_office):
    before = balance_of(market["tee"], market["leeds"]).sequence
    assert atp(back_office, "web") == 5
    feed = back_office.get(
        "/api/v1/availability/changes/", {"channel": "web", "limit": 1000}
    ).json()

    protect(back_office, 4)

    assert atp(back_office, "web") == 1
    assert atp(back_office, "amazon") == 5
    assert balance_of(market["tee"], market["leeds"]).sequence == before + 1
    changes = back_office.get(
        "/api/v1/availability/changes/",
        {"channel": "web", "cursor": feed["next_cursor"]},
    ).json()["changes"]
    (announced,) = [
        change["data"] for change in changes if change["data"]["location"] == "LDS-WH"
    ]
    assert (announced["sequence"], announced["available_to_promise"]) == (
        before + 1,
        1,
    )

    back_office.delete(AMAZON_AT_LEEDS)
    assert balance_of(market["tee"], market["leeds"]).sequence == before + 2
    assert atp(back_office, "web") == 5


def test_setting_the_same_units_again_announces_nothing(market, back_office):
    protect(back_office, 4)
    sequence = balance_of(market["tee"], market["leeds"]).sequence
    protect(back_office, 4)
    assert balance_of(market["tee"], market["leeds"]).sequence == sequence


def test_no_token_manages_allocations_unless_issued_with_the_scope(market):
    erp, _ = ApiTokenFactory.issue(name="erp")
    web, _ = ApiTokenFactory.issue(name="web", channel_code="web")
    granted, _ = ApiTokenFactory.issue(
        name="amazon", channel_code="amazon", scopes=["manage_allocations"]
    )
    assert "manage_allocations" not in erp.scopes + web.scopes
    assert granted.scopes == ["manage_allocations"]


@pytest.mark.parametrize(
    "url, raw",
    [
        (AMAZON_AT_LEEDS, "[]"),
        (AMAZON_AT_LEEDS, '"x"'),
        (AMAZON_AT_LEEDS, '{"units": null}'),
        (AMAZON_AT_LEEDS, '{"units": true}'),
        (AMAZON_AT_LEEDS, '{"units": 1000000000000000000000000000000}'),
        (AMAZON_AT_LEEDS, '{"units": 1e999}'),
        (URL.format("amazon", "%00", "LDS-WH"), '{"units": 1}'),
        (URL.format("amazon", "TEE-BLK-M", "x" * 65), '{"units": 1}'),
    ],
)
def test_odd_input_is_a_400_never_a_crash(market, back_office, url, raw):
    refused = back_office.put(url, raw, content_type="application/json")
    assert refused.status_code == 400, refused.content
    assert not Allocation.objects.exists()
    for odd in ("%00", "x" * 65):
        assert back_office.get(URL.format("amazon", odd, "LDS-WH")).status_code == 404
        assert back_office.delete(URL.format(odd, "TEE", "LDS-WH")).status_code == 404
    listed = back_office.get("/api/v1/allocations/", {"sku": "\x00"})
    assert listed.status_code in (200, 400)


def test_the_admin_lists_protections_and_changes_none(market, back_office, client):
    protect(back_office, 4)
    client.force_login(
        get_user_model().objects.create_superuser("root", password="pw-123456!")
    )
    listing = client.get("/admin/inventory/allocation/", {"q": "TEE"})
    assert listing.status_code == 200
    assert "token:merchandising" in listing.content.decode()
    allocation = Allocation.objects.get()
    change = client.post(
        f"/admin/inventory/allocation/{allocation.pk}/change/", {"units": 9}
    )
    assert change.status_code == 403
    assert Allocation.objects.get().units == 4


def test_a_kit_is_protected_through_its_components(market, back_office):
    from tests.factories import kit

    kit("TEE-TWIN", (market["tee"], 2))
    refused = protect(back_office, 2, URL.format("amazon", "TEE-TWIN", "LDS-WH"))
    assert refused.status_code == 400
    assert "protect units of its components" in refused.json()["sku"][0]
    assert not Allocation.objects.exists()
