"""Who may change what: master data is the retailer's, a channel's token reads and
acts for its own channel only, a token does only what its scopes say, and a member of
staff signed in to the API or the admin does what their role lets them, no more."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Product, Sku
from integrations.models import ApiToken
from inventory.models import Location, Reservation, SourceHealth, StockMovement
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

EVERY_SCOPE = [
    "read_master_data",
    "write_master_data",
    "read_availability",
    "post_stock_events",
    "reserve_and_order",
    "returns",
    "snapshots",
    "exceptions",
    "webhooks",
]


@pytest.fixture
def shop(db):
    return {
        "oxford": LocationFactory(code="LON-OXF", pickup_enabled=True),
        "camden": LocationFactory(code="LON-CAM"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=1),
        "app": ChannelFactory(code="app", kind="app", safety_buffer=3),
        "wms": ChannelFactory(code="wms", kind="back_office"),
    }


@pytest.fixture
def web_shop(shop):
    return client_for(ApiTokenFactory.issue(name="web-shop", channel_code="web")[1])


def available_to(client, channel: str | None = None) -> int:
    query = {"sku": "TEE-BLK-M", "location": "LON-OXF"}
    if channel:
        query["channel"] = channel
    answer = client.get("/api/v1/availability/", query)
    assert answer.status_code == 200, answer.content
    (row,) = answer.json()["results"]
    return row["available_to_promise"]


# Master data is the retailer's


def test_the_web_shops_token_cannot_raise_a_skus_buffer_and_starve_every_channel(
    shop, web_shop, api
):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["oxford"], quantity=5)
    before = available_to(api, "app")

    refused = web_shop.put(
        "/api/v1/skus/TEE-BLK-M/", {"safety_buffer": 100000}, format="json"
    )

    assert refused.status_code == 403
    assert refused.json()["code"] == "channel_not_permitted"
    assert Sku.objects.get(code="TEE-BLK-M").safety_buffer is None
    assert available_to(api, "app") == before > 0


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/locations/LON-OXF/", {"name": "Closed", "is_active": False}),
        ("/api/v1/locations/NEW-ONE/", {"name": "A new store"}),
        ("/api/v1/products/TEE/", {"name": "Renamed"}),
        ("/api/v1/skus/NEW-SKU/", {"name": "New", "product": "TEE"}),
        ("/api/v1/channels/app/", {"name": "Hijacked"}),
        ("/api/v1/channels/web/", {"name": "Its own"}),
    ],
)
def test_a_channels_token_writes_no_master_data(shop, web_shop, path, body):
    locations = list(Location.objects.values_list("code", "name", "is_active"))
    products = list(Product.objects.values_list("code", "name"))

    refused = web_shop.put(path, body, format="json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "channel_not_permitted"
    assert list(Location.objects.values_list("code", "name", "is_active")) == locations
    assert list(Product.objects.values_list("code", "name")) == products
    assert web_shop.get(path).status_code in (200, 404)  # reading is allowed


def test_the_erp_and_a_manager_write_master_data(shop, api):
    written = api.put(
        "/api/v1/skus/TEE-BLK-M/", {"name": "Tee", "safety_buffer": 2}, format="json"
    )
    assert written.status_code == 200, written.content
    manager = APIClient()
    manager.force_login(StaffFactory.at(username="maria", manager=True))
    assert (
        manager.put(
            "/api/v1/locations/LON-OXF/", {"name": "Oxford Street"}, format="json"
        ).status_code
        == 200
    )


# Scopes


def test_a_token_issued_without_scopes_has_the_defaults_of_its_kind(shop):
    erp, _ = ApiTokenFactory.issue(name="erp")
    web, _ = ApiTokenFactory.issue(name="web", channel_code="web")
    assert erp.scopes == EVERY_SCOPE
    assert web.scopes == [
        s for s in EVERY_SCOPE if s not in ("write_master_data", "exceptions")
    ]


def test_a_token_does_only_what_its_scopes_say(shop):
    out = StringIO()
    call_command(
        "create_api_token",
        "feed-reader",
        "--scopes",
        "read_availability,read_master_data",
        stdout=out,
        stderr=StringIO(),
    )
    reader = client_for(out.getvalue().strip().splitlines()[-1])
    StockEvents.post("receipt", sku=shop["tee"], location=shop["oxford"], quantity=5)

    assert available_to(reader) == 5
    assert reader.get("/api/v1/skus/").status_code == 200
    for method, path in [
        ("post", "/api/v1/movements/"),
        ("get", "/api/v1/movements/"),
        ("get", "/api/v1/orders/"),
        ("post", "/api/v1/reservations/"),
        ("get", "/api/v1/returns/"),
        ("get", "/api/v1/snapshots/"),
        ("get", "/api/v1/exceptions/"),
        ("get", "/api/v1/webhooks/"),
    ]:
        refused = getattr(reader, method)(path, {}, format="json")
        assert refused.status_code == 403, path
        assert refused.json()["code"] == "scope_missing"
    assert StockMovement.objects.count() == 1


def test_scopes_are_checked_when_a_token_is_issued(shop):
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command(
            "create_api_token", "x", "--scopes", "read_everything", stdout=StringIO()
        )
    with pytest.raises(CommandError, match="write_master_data"):
        call_command(
            "create_api_token",
            "x",
            "--channel",
            "web",
            "--scopes",
            "read_master_data,write_master_data",
            stdout=StringIO(),
        )
    assert not ApiToken.objects.exists()


def test_the_admin_shows_each_tokens_scopes(shop, client):
    ApiTokenFactory.issue(name="pos-tills", scopes=["post_stock_events"])
    client.force_login(
        get_user_model().objects.create_superuser("root", password="pw-123456!")
    )
    listing = client.get("/admin/integrations/apitoken/").content.decode()
    assert "pos-tills" in listing and "post_stock_events" in listing


# A channel's token reads its own channel


def test_a_channels_token_reads_only_its_own_ledger_entries(shop, web_shop, api):
    tee, oxford = shop["tee"], shop["oxford"]
    StockEvents.post("receipt", sku=tee, location=oxford, quantity=5)
    mine = StockEvents.post(
        "commit", sku=tee, location=oxford, quantity=1, channel=shop["web"]
    ).movement
    theirs = StockEvents.post(
        "commit", sku=tee, location=oxford, quantity=1, channel=shop["app"],
        reason="VIP order for a named customer",
    ).movement  # fmt: skip

    listed = web_shop.get("/api/v1/movements/").json()["results"]
    assert [entry["reference"] for entry in listed] == [mine.reference]
    refused = web_shop.get("/api/v1/movements/", {"channel": "app"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "channel_not_permitted"
    assert web_shop.get(f"/api/v1/movements/{theirs.pk}/").status_code == 404
    assert len(api.get("/api/v1/movements/").json()["results"]) == 3


def test_a_channels_token_asks_availability_only_as_itself(shop, web_shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["oxford"], quantity=5)
    assert available_to(web_shop) == 4  # its own buffer of 1
    refused = web_shop.get(
        "/api/v1/availability/",
        {"sku": "TEE-BLK-M", "location": "LON-OXF", "channel": "app"},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "channel_not_permitted"


def test_a_channels_token_reads_its_own_sync_health_only(shop, web_shop, api):
    for channel, refused in (("web", 0), ("app", 7)):
        SourceHealth.objects.create(channel=shop[channel], refused_last_hour=refused)
    mine = web_shop.get("/api/v1/sync-health/").json()
    assert [row["channel"] for row in mine] == ["web"]
    assert [row["channel"] for row in api.get("/api/v1/sync-health/").json()] == [
        "app",
        "web",
    ]


def test_another_channels_hold_is_answered_as_no_hold_at_all(shop, web_shop):
    tee, oxford = shop["tee"], shop["oxford"]
    StockEvents.post("receipt", sku=tee, location=oxford, quantity=5)
    theirs = Holds.place(channel=shop["app"], lines=[(tee, oxford, 1)])
    app = client_for(ApiTokenFactory.issue(name="app", channel_code="app")[1])
    order = {
        "channel": "app",
        "reference": "APP-1",
        "fulfilment_method": "pickup",
        "pickup_location": "LON-OXF",
        "customer": {"name": "Ada", "email": "ada@example.com", "phone": "+44"},
        "reservation": theirs.pk,
    }
    placed = app.post("/api/v1/orders/", order, format="json")
    assert placed.status_code == 201, placed.content

    answers = [
        web_shop.post(
            "/api/v1/orders/",
            {**order, "channel": "web", "reference": "WEB-1", "reservation": asked},
            format="json",
        )
        for asked in (theirs.pk, theirs.pk + 1000)
    ]

    assert [answer.status_code for answer in answers] == [404, 404]
    bodies = [answer.json() for answer in answers]
    assert {body["code"] for body in bodies} == {"not_found"}
    assert "APP-1" not in str(bodies[0]) and "order" not in bodies[0]
    assert bodies[0]["detail"].replace(str(theirs.pk), "N") == bodies[1][
        "detail"
    ].replace(str(theirs.pk + 1000), "N")


# Staff signed in: their role, their stores


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def adjustment(location: str, reference: str) -> dict:
    return {
        "reference": reference,
        "type": "adjustment",
        "sku": "TEE-BLK-M",
        "location": location,
        "quantity": -1,
        "reason": "shrinkage",
        "channel": "wms",
        "occurred_at": timezone.now().isoformat(),
    }


def test_staff_without_a_role_act_as_nobody_through_the_api(shop):
    tee, oxford = shop["tee"], shop["oxford"]
    StockEvents.post("receipt", sku=tee, location=oxford, quantity=5)
    clerk = get_user_model().objects.create_user(
        "clerk", password="pw-123456!", is_staff=True
    )
    api = signed_in(clerk)

    for method, path, body in [
        ("post", "/api/v1/movements/", adjustment("LON-OXF", "ADJ-1")),
        ("post", "/api/v1/orders/1/cancel/", {"reason": "because"}),
        ("get", "/api/v1/movements/", None),
    ]:
        refused = getattr(api, method)(path, body, format="json")
        assert refused.status_code == 403, path
    assert balance_of(tee, oxford).on_hand == 5


def test_store_staff_record_stock_at_their_own_store_only(shop):
    tee, oxford = shop["tee"], shop["oxford"]
    StockEvents.post("receipt", sku=tee, location=oxford, quantity=5)
    StockEvents.post("receipt", sku=tee, location=shop["camden"], quantity=5)
    alice = signed_in(StaffFactory.at(oxford, username="alice"))

    recorded = alice.post(
        "/api/v1/movements/", adjustment("LON-OXF", "ADJ-1"), format="json"
    )
    assert recorded.status_code == 201, recorded.content
    refused = alice.post(
        "/api/v1/movements/", adjustment("LON-CAM", "ADJ-2"), format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "location_not_permitted"
    batch = alice.post(
        "/api/v1/movements/",
        [adjustment("LON-OXF", "ADJ-3"), adjustment("LON-CAM", "ADJ-4")],
        format="json",
    ).json()["results"]
    assert [line["status"] for line in batch] == ["created", "rejected"]
    assert "location" in batch[1]["errors"]
    assert balance_of(tee, oxford).on_hand == 3
    assert balance_of(tee, shop["camden"]).on_hand == 5
    listed = alice.get("/api/v1/movements/").json()["results"]
    assert {entry["location"] for entry in listed} == {"LON-OXF"}
    assert alice.post("/api/v1/reservations/", {}, format="json").status_code == 403


def test_releasing_a_hold_in_the_admin_takes_the_permission_to_change_holds(
    shop, client
):
    tee, oxford = shop["tee"], shop["oxford"]
    StockEvents.post("receipt", sku=tee, location=oxford, quantity=2)
    held = Holds.place(channel=shop["web"], lines=[(tee, oxford, 1)])
    viewer = get_user_model().objects.create_user(
        "viewer", password="pw-123456!", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_reservation"))
    client.force_login(viewer)

    assert client.get("/admin/inventory/reservation/").status_code == 200
    client.post(
        "/admin/inventory/reservation/",
        {"action": "release", "_selected_action": [held.pk]},
    )
    held.refresh_from_db()
    assert held.status == Reservation.Status.ACTIVE

    viewer.user_permissions.add(Permission.objects.get(codename="change_reservation"))
    client.post(
        "/admin/inventory/reservation/",
        {"action": "release", "_selected_action": [held.pk]},
    )
    held.refresh_from_db()
    assert held.status == Reservation.Status.RELEASED
