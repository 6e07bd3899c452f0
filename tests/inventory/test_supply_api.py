"""Future supply through the API, as the ERP and the web shop speak it: a purchase
order announced with its due date, rescheduled and called off by reference; a hold
and an order that allow the future; a transfer dated by its route."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import Supply, SupplyPromise, TransferRoute
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StaffFactory,
    StockEvents,
    balance_of,
)


@pytest.fixture
def shop(db):
    return {
        "dc": LocationFactory(code="DC-1", kind="distribution_centre"),
        "store": LocationFactory(code="STORE-1"),
        "tee": SkuFactory(code="TEE-1", future_promise_limit=20),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
        "erp": ChannelFactory(code="erp", kind="back_office"),
    }


def iso(days):
    return (timezone.now() + timedelta(days=days)).isoformat()


def announce(api, reference="ASN-1", po="PO-100", quantity=10, days=7, **extra):
    return api.post(
        "/api/v1/movements/",
        {
            "reference": reference,
            "type": "receipt_expected",
            "sku": "TEE-1",
            "location": "DC-1",
            "quantity": quantity,
            "occurred_at": timezone.now().isoformat(),
            "channel": "erp",
            "supply_reference": po,
            "expected_at": iso(days),
            **extra,
        },
        format="json",
    )


def test_the_erp_announces_a_purchase_order_with_its_due_date(api, shop):
    answer = announce(api)

    assert answer.status_code == 201, answer.json()
    entry = answer.json()
    assert entry["supply_reference"] == "PO-100"
    assert entry["expected_at"] is not None
    listed = api.get("/api/v1/supply/", {"status": "open"}).json()["results"]
    assert [(row["reference"], row["outstanding"], row["late"]) for row in listed] == [
        ("PO-100", 10, False)
    ]
    assert listed[0]["events"][0]["action"] == "supply_announce"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expected_at": None}, "expected_at"),  # required for new notices
        ({"expected_at": "next tuesday"}, "expected_at"),
        ({"type": "sale"}, "expected_at"),  # a sale is due nowhere
    ],
)
def test_a_notice_without_a_good_date_is_refused_and_changes_nothing(
    api, shop, change, field
):
    body = {"expected_at": iso(7), **change}
    if body["expected_at"] is None:
        body.pop("expected_at")
    answer = api.post(
        "/api/v1/movements/",
        {
            "reference": "ASN-BAD",
            "type": body.get("type", "receipt_expected"),
            "sku": "TEE-1",
            "location": "DC-1",
            "quantity": 4,
            "occurred_at": timezone.now().isoformat(),
            "channel": "erp",
            **({"expected_at": body["expected_at"]} if "expected_at" in body else {}),
        },
        format="json",
    )
    assert answer.status_code == 400
    assert field in str(answer.json())
    assert not Supply.objects.exists()


def test_a_purchase_order_is_rescheduled_and_called_off_by_reference(api, shop):
    announce(api)
    announce(api, reference="ASN-2", quantity=5)  # a second line of the same order
    later = iso(21)

    moved = api.post(
        "/api/v1/supply/PO-100/reschedule/", {"expected_at": later}, format="json"
    )

    assert moved.status_code == 200, moved.json()
    assert {line["expected_at"][:10] for line in moved.json()["lines"]} == {later[:10]}
    assert moved.json()["lines"][0]["events"][-1]["action"] == "supply_reschedule"
    assert (
        api.post(
            "/api/v1/supply/PO-NONE/reschedule/", {"expected_at": later}, format="json"
        ).status_code
        == 404
    )
    assert (
        api.post(
            "/api/v1/supply/PO-100/reschedule/", {"expected_at": "soon"}, format="json"
        ).status_code
        == 400
    )
    assert (
        api.post("/api/v1/supply/PO-100/call-off/", {}, format="json").status_code
        == 400
    )

    off = api.post(
        "/api/v1/supply/PO-100/call-off/",
        {"reason": "Supplier went bust"},
        format="json",
    )

    assert off.status_code == 200
    assert {line["status"] for line in off.json()["lines"]} == {"called_off"}
    assert balance_of(shop["tee"], shop["dc"]).incoming == 0
    again = api.post(
        "/api/v1/supply/PO-100/call-off/", {"reason": "again"}, format="json"
    )
    assert again.status_code == 200


def test_a_store_member_cannot_move_a_buyers_purchase_order(api, shop):
    announce(api)
    staff = APIClient()
    staff.force_login(StaffFactory.at(shop["store"], username="alice"))

    answer = staff.post(
        "/api/v1/supply/PO-100/reschedule/", {"expected_at": iso(30)}, format="json"
    )

    assert answer.status_code == 403
    assert (
        Supply.objects.get().expected_at.date()
        != (timezone.now() + timedelta(days=30)).date()
    )


def test_a_web_shop_pre_orders_through_a_hold_and_an_order(api, shop):
    announce(api, quantity=3)
    cart = {
        "reference": "CART-PRE",
        "channel": "web",
        "lines": [{"sku": "TEE-1", "location": "DC-1", "quantity": 2}],
    }
    refused = api.post("/api/v1/reservations/", cart, format="json")
    assert refused.status_code == 409
    # Not a pre-order: refused, saying when the purchase order could cover it.
    assert refused.json()["shortages"][0]["earliest_available_at"][:10] == iso(7)[:10]

    held = api.post(
        "/api/v1/reservations/", {**cart, "allow_future": True}, format="json"
    )

    assert held.status_code == 201, held.json()
    (line,) = held.json()["lines"]
    assert (line["promised_from"], line["future_quantity"]) == ("supply", 2)
    assert line["expected_at"] is not None
    # A hold of units not here yet cannot be committed on its own.
    hold_id = held.json()["id"]
    commit = api.post(f"/api/v1/reservations/{hold_id}/commit/")
    assert commit.status_code == 409
    assert "wait for supply" in commit.json()["detail"]

    ordered = api.post(
        "/api/v1/orders/",
        {
            "reference": "WEB-PRE",
            "channel": "web",
            "fulfilment_method": "ship",
            "customer": {"name": "Ada"},
            "reservation": hold_id,
            "delivery_address": {"address": "1 Upper St", "country": "GB"},
        },
        format="json",
    )

    assert ordered.status_code == 201, ordered.json()
    (order_line,) = ordered.json()["lines"]
    assert (order_line["status"], order_line["promised_from"]) == (
        "awaiting_supply",
        "supply",
    )
    assert order_line["awaiting_supply_quantity"] == 2
    promise = SupplyPromise.objects.get(status="open")
    assert (promise.owner_kind, promise.owner_id) == ("order_line", order_line["id"])

    # One unit is left on the purchase order; three is too many, and says so.
    too_many = api.post(
        "/api/v1/orders/",
        {
            "reference": "WEB-PRE-2",
            "channel": "web",
            "fulfilment_method": "ship",
            "customer": {"name": "Bo"},
            "lines": [
                {
                    "sku": "TEE-1",
                    "location": "DC-1",
                    "quantity": 3,
                    "allow_future": True,
                }
            ],
            "delivery_address": {"address": "2 Upper St", "country": "GB"},
        },
        format="json",
    )
    assert too_many.status_code == 409
    assert too_many.json()["shortages"][0]["earliest_available_at"] is None


def test_a_released_pre_order_hold_gives_its_supply_back(api, shop):
    announce(api, quantity=1)
    cart = {
        "reference": "CART-1",
        "channel": "web",
        "allow_future": True,
        "lines": [{"sku": "TEE-1", "location": "DC-1", "quantity": 1}],
    }
    hold = api.post("/api/v1/reservations/", cart, format="json").json()

    api.post(f"/api/v1/reservations/{hold['id']}/release/")

    assert not SupplyPromise.objects.filter(status="open").exists()
    again = api.post(
        "/api/v1/reservations/", {**cart, "reference": "CART-2"}, format="json"
    )
    assert again.status_code == 201


def test_a_channel_that_pre_orders_by_default_needs_no_flag(api, shop):
    shop["web"].allow_future_by_default = True
    shop["web"].save()
    announce(api, quantity=4)
    web = APIClient()
    web.credentials(
        HTTP_AUTHORIZATION=f"Token {ApiTokenFactory.issue(name='web', channel_code='web')[1]}"
    )

    held = web.post(
        "/api/v1/reservations/",
        {
            "reference": "C1",
            "lines": [{"sku": "TEE-1", "location": "DC-1", "quantity": 1}],
        },
        format="json",
    )

    assert held.status_code == 201, held.json()
    assert held.json()["lines"][0]["promised_from"] == "supply"
    # The web shop's token may not move the ERP's purchase orders.
    answer = web.post(
        "/api/v1/supply/PO-100/reschedule/",
        {"expected_at": iso(9), "channel": "erp"},
        format="json",
    )
    assert answer.status_code == 403


def test_a_transfer_is_due_after_its_routes_lead_time_and_lands_when_received(
    api, shop
):
    dc, store, tee = shop["dc"], shop["store"], shop["tee"]
    TransferRoute.objects.create(
        from_location=dc, to_location=store, lead_time_hours=48
    )
    StockEvents.post("receipt", sku=tee, location=dc, quantity=5)
    sent_at = timezone.now()

    StockEvents.post(
        "transfer_out",
        sku=tee,
        location=dc,
        other_location=store,
        quantity=3,
        occurred_at=sent_at,
    )

    supply = Supply.objects.get(kind="transfer")
    assert (supply.location, supply.from_location) == (store, dc)
    assert supply.expected_at == sent_at + timedelta(hours=48)
    StockEvents.post(
        "transfer_in", sku=tee, location=store, other_location=dc, quantity=3
    )
    supply.refresh_from_db()
    assert (supply.status, supply.received) == ("received", 3)


def test_an_expired_pre_order_hold_gives_its_supply_back(shop):
    from config.access import Actor
    from inventory.services import (
        ReservationLineInput,
        reservation_place,
        reservations_expire,
    )
    from tests.factories import purchase_order

    purchase_order(shop["tee"], shop["dc"], 2, due=timezone.now() + timedelta(days=3))
    hold, _ = reservation_place(
        channel=shop["web"],
        reference="CART-LAPSE",
        lines=[ReservationLineInput(shop["tee"], shop["dc"], 2)],
        actor=Actor(name="token:web"),
        ttl_seconds=60,
        allow_future=True,
    )
    assert SupplyPromise.objects.get(status="open").units == 2

    assert reservations_expire(now=timezone.now() + timedelta(minutes=5)) == 1

    hold.refresh_from_db()
    assert hold.status == "expired"
    assert not SupplyPromise.objects.filter(status="open").exists()
    assert balance_of(shop["tee"], shop["dc"]).reserved == 0


def test_the_supply_list_pages_like_every_list(api, shop):
    for number in range(3):
        announce(api, reference=f"ASN-{number}", po=f"PO-{number}")

    first = api.get("/api/v1/supply/", {"page_size": 2}).json()

    assert len(first["results"]) == 2
    assert api.get(first["next"]).status_code == 200
    assert api.get("/api/v1/supply/", {"colour": "red"}).status_code == 400
