"""Checkouts of kits: a camera body with its lens sold as one SKU, while the shelves
hold the parts. A hold takes every component or nothing."""

from collections import Counter

import pytest

from catalog.services import sku_upsert
from inventory.models import Reservation, ReservationKit, ReservationLine
from inventory.services.kits import kits_known
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    balance_of,
    kit,
    stock,
)
from tests.threads import all_at_once

URL = "/api/v1/reservations/"


@pytest.fixture
def camera_shop(db):
    lens, body = SkuFactory(code="LENS-50"), SkuFactory(code="BODY-X")
    return {
        "store": LocationFactory(code="LON-OXF"),
        "lens": lens,
        "body": body,
        "camera": kit("CAM-KIT", (body, 1), (lens, 1)),
        "twin": kit("TWIN-LENS", (lens, 2)),
        "web": ChannelFactory(code="web", kind="web"),
        "token": ApiTokenFactory.issue(name="web-checkout", channel_code="web")[1],
    }


def buy(token, reference, lines):
    body = {
        "reference": reference,
        "lines": [
            {"sku": sku, "location": "LON-OXF", "quantity": quantity}
            for sku, quantity in lines
        ],
    }
    return client_for(token).post(URL, body, format="json")


def held(shop, name):
    return balance_of(shop[name], shop["store"]).reserved


@pytest.mark.django_db
def test_a_kit_hold_takes_every_component_and_shows_the_kit(camera_shop):
    stock(camera_shop["lens"], camera_shop["store"], 3)
    stock(camera_shop["body"], camera_shop["store"], 2)
    answer = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 2)])
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert sorted((line["sku"], line["quantity"]) for line in body["lines"]) == [
        ("BODY-X", 2),
        ("LENS-50", 2),
    ]
    assert body["kits"] == [
        {
            "sku": "CAM-KIT",
            "location": "LON-OXF",
            "quantity": 2,
            "components": [
                {"sku": "BODY-X", "quantity": 1},
                {"sku": "LENS-50", "quantity": 1},
            ],
        }
    ]
    assert (held(camera_shop, "lens"), held(camera_shop, "body")) == (2, 2)
    # Read back, the hold says the same.
    read = client_for(camera_shop["token"]).get(f"{URL}{body['id']}/").json()
    assert read["kits"] == body["kits"]
    # Found by the kit it took as well as by its components.
    for code in ("CAM-KIT", "LENS-50"):
        found = client_for(camera_shop["token"]).get(URL, {"sku": code}).json()
        assert [hold["id"] for hold in found["results"]] == [body["id"]]


@pytest.mark.django_db
def test_a_kit_short_of_one_component_holds_nothing(camera_shop):
    stock(camera_shop["lens"], camera_shop["store"], 5)
    stock(camera_shop["body"], camera_shop["store"], 1)
    answer = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 2)])
    assert answer.status_code == 409
    (short,) = answer.json()["shortages"]
    assert short["sku"] == "BODY-X" and short["kits"] == ["CAM-KIT"]
    assert (short["requested"], short["available_to_promise"]) == (2, 1)
    assert (held(camera_shop, "lens"), held(camera_shop, "body")) == (0, 0)
    assert not Reservation.objects.exists()
    assert not ReservationKit.objects.exists()


@pytest.mark.django_db
def test_a_kit_and_its_component_in_one_cart_are_one_check(camera_shop):
    """Two lenses in the kit and one besides: three lenses checked at once."""
    stock(camera_shop["lens"], camera_shop["store"], 2)
    refused = buy(camera_shop["token"], "CART-1", [("TWIN-LENS", 1), ("LENS-50", 1)])
    assert refused.status_code == 409
    (short,) = refused.json()["shortages"]
    assert (short["sku"], short["requested"], short["available_to_promise"]) == (
        "LENS-50",
        3,
        2,
    )
    assert short["kits"] == ["TWIN-LENS"]
    assert held(camera_shop, "lens") == 0
    stock(camera_shop["lens"], camera_shop["store"], 1)
    placed = buy(camera_shop["token"], "CART-2", [("TWIN-LENS", 1), ("LENS-50", 1)])
    assert placed.status_code == 201
    assert [(line["sku"], line["quantity"]) for line in placed.json()["lines"]] == [
        ("LENS-50", 3)
    ]
    assert ReservationLine.objects.count() == 1
    assert held(camera_shop, "lens") == 3


@pytest.mark.django_db
def test_two_kits_sharing_a_component_hold_it_together(camera_shop):
    """LENS-50 goes into both the camera kit and the twin-lens kit."""
    stock(camera_shop["lens"], camera_shop["store"], 3)
    stock(camera_shop["body"], camera_shop["store"], 1)
    refused = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 1), ("TWIN-LENS", 2)])
    assert refused.status_code == 409
    (short,) = refused.json()["shortages"]
    assert (short["sku"], short["requested"]) == ("LENS-50", 5)
    assert sorted(short["kits"]) == ["CAM-KIT", "TWIN-LENS"]
    placed = buy(camera_shop["token"], "CART-2", [("CAM-KIT", 1), ("TWIN-LENS", 1)])
    assert placed.status_code == 201
    assert {kit["sku"]: kit["quantity"] for kit in placed.json()["kits"]} == {
        "CAM-KIT": 1,
        "TWIN-LENS": 1,
    }
    assert (held(camera_shop, "lens"), held(camera_shop, "body")) == (3, 1)


@pytest.mark.django_db
def test_a_kit_redefined_later_changes_nothing_held(camera_shop):
    stock(camera_shop["lens"], camera_shop["store"], 4)
    stock(camera_shop["body"], camera_shop["store"], 4)
    placed = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 1)]).json()
    sku_upsert(code="CAM-KIT", name="Camera kit", components=[(camera_shop["lens"], 3)])
    read = client_for(camera_shop["token"]).get(f"{URL}{placed['id']}/").json()
    assert read["kits"][0]["components"] == [
        {"sku": "BODY-X", "quantity": 1},
        {"sku": "LENS-50", "quantity": 1},
    ]
    released = client_for(camera_shop["token"]).post(f"{URL}{placed['id']}/release/")
    assert released.status_code == 200
    assert (held(camera_shop, "lens"), held(camera_shop, "body")) == (0, 0)


@pytest.mark.django_db
def test_bad_kit_carts_are_clear_400s(camera_shop):
    inactive = SkuFactory(code="STRAP", is_active=False)
    kit("STRAP-KIT", (inactive, 1))
    answer = buy(camera_shop["token"], "CART-1", [("STRAP-KIT", 1)])
    assert answer.status_code == 400
    assert "STRAP, a component of kit STRAP-KIT, is no longer sold" in str(
        answer.json()
    )
    too_many = buy(camera_shop["token"], "CART-2", [("TWIN-LENS", 600_000)])
    assert too_many.status_code == 400
    assert not Reservation.objects.exists()


@pytest.mark.django_db
def test_a_resent_kit_cart_answers_the_hold_it_placed(camera_shop):
    stock(camera_shop["lens"], camera_shop["store"], 2)
    stock(camera_shop["body"], camera_shop["store"], 2)
    first = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 1)])
    again = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 1)])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["kits"] == first.json()["kits"]
    assert held(camera_shop, "lens") == 1


@pytest.mark.django_db(transaction=True)
def test_two_buyers_race_for_the_last_kit_while_a_third_buys_its_lens(camera_shop):
    """One body and two lenses: two buyers want the camera kit, a third the lens
    alone. The kits share the body, so one of them wins; the lens buyer gets the
    other lens whatever the order."""
    stock(camera_shop["lens"], camera_shop["store"], 2)
    stock(camera_shop["body"], camera_shop["store"], 1)
    carts = ([("CAM-KIT", 1)], [("CAM-KIT", 1)], [("LENS-50", 1)])
    answers = all_at_once(
        3,
        lambda n: buy(camera_shop["token"], f"CART-{n}", carts[n]).status_code,
    )
    assert Counter(answers[:2]) == {201: 1, 409: 1}
    assert answers[2] == 201
    lens = balance_of(camera_shop["lens"], camera_shop["store"])
    body = balance_of(camera_shop["body"], camera_shop["store"])
    assert (lens.reserved, lens.available, body.reserved, body.available) == (
        2,
        0,
        1,
        0,
    )
    assert ReservationKit.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_for_the_last_lenses_a_kit_never_takes_half(camera_shop):
    """Two lenses left: a twin-lens kit and two single-lens buyers race. Whatever
    the order, no more than two lenses are held and a kit is never held half."""
    stock(camera_shop["lens"], camera_shop["store"], 2)
    carts = ([("TWIN-LENS", 1)], [("LENS-50", 1)], [("LENS-50", 1)])
    answers = all_at_once(
        3,
        lambda n: buy(camera_shop["token"], f"CART-{n}", carts[n]).status_code,
    )
    lens = balance_of(camera_shop["lens"], camera_shop["store"])
    assert lens.reserved == 2 and lens.available == 0
    if answers[0] == 201:
        assert answers[1:] == [409, 409]
    else:
        assert answers == [409, 201, 201]
    for kit_held in ReservationKit.objects.all():
        line = ReservationLine.objects.get(
            reservation=kit_held.reservation, sku=camera_shop["lens"]
        )
        assert line.quantity == 2


@pytest.mark.django_db
def test_the_checkout_holds_a_kit_it_has_read_in_one_server_call(
    camera_shop, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """The first cart naming a kit reads it; the next ones take it apart by what
    was read and hold it in the checkout's one server call."""
    stock(camera_shop["lens"], camera_shop["store"], 10)
    stock(camera_shop["body"], camera_shop["store"], 10)
    # What the general path read is remembered once it is committed.
    with django_capture_on_commit_callbacks(execute=True):
        first = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 1), ("LENS-50", 1)])
    assert first.status_code == 201
    # As for a plain cart (tests/inventory/test_apis_reservations.py): the codes,
    # the one call, and the transaction around them.
    with django_assert_max_num_queries(5):
        again = buy(camera_shop["token"], "CART-2", [("CAM-KIT", 2), ("LENS-50", 1)])
    assert again.status_code == 201, again.json()
    body = again.json()
    assert sorted((line["sku"], line["quantity"]) for line in body["lines"]) == [
        ("BODY-X", 2),
        ("LENS-50", 3),
    ]
    assert body["kits"] == [
        {
            "sku": "CAM-KIT",
            "location": "LON-OXF",
            "quantity": 2,
            "components": [
                {"sku": "BODY-X", "quantity": 1},
                {"sku": "LENS-50", "quantity": 1},
            ],
        }
    ]
    stored = ReservationKit.objects.get(reservation_id=body["id"])
    assert (stored.sku.code, stored.location.code, stored.quantity) == (
        "CAM-KIT",
        "LON-OXF",
        2,
    )
    read = client_for(camera_shop["token"]).get(f"{URL}{body['id']}/").json()
    assert read["kits"] == body["kits"] and read["lines"] == body["lines"]
    assert (held(camera_shop, "lens"), held(camera_shop, "body")) == (5, 3)
    # Released, the fast path's hold gives back exactly what it took.
    client_for(camera_shop["token"]).post(f"{URL}{body['id']}/release/")
    assert (held(camera_shop, "lens"), held(camera_shop, "body")) == (2, 1)
    from inventory.services import balances_rebuild

    assert balances_rebuild(repair=False) == []


@pytest.mark.django_db
def test_a_kit_redefined_after_the_checkout_read_it_is_held_as_it_is_now(
    camera_shop, django_capture_on_commit_callbacks
):
    stock(camera_shop["lens"], camera_shop["store"], 10)
    stock(camera_shop["body"], camera_shop["store"], 10)
    with django_capture_on_commit_callbacks(execute=True):
        assert buy(camera_shop["token"], "CART-1", [("CAM-KIT", 1)]).status_code == 201
    assert kits_known(codes={"CAM-KIT"})
    sku_upsert(
        code="CAM-KIT",
        name="Camera, two lenses",
        components=[(camera_shop["body"], 1), (camera_shop["lens"], 2)],
    )
    answer = buy(camera_shop["token"], "CART-2", [("CAM-KIT", 1)])
    assert answer.status_code == 201
    assert sorted(
        (line["sku"], line["quantity"]) for line in answer.json()["lines"]
    ) == [
        ("BODY-X", 1),
        ("LENS-50", 2),
    ]
    # Closed: the checkout's memory of it does not sell it.
    sku_upsert(code="CAM-KIT", name="Camera", is_active=False)
    closed = buy(camera_shop["token"], "CART-3", [("CAM-KIT", 1)])
    assert closed.status_code == 400
    assert ReservationKit.objects.count() == 2


@pytest.mark.django_db
def test_a_kit_is_sold_from_the_shelf_never_pre_ordered(camera_shop):
    camera_shop["web"].allow_future_by_default = True
    camera_shop["web"].save()
    stock(camera_shop["lens"], camera_shop["store"], 1)
    stock(camera_shop["body"], camera_shop["store"], 1)
    asked = {
        "reference": "CART-1",
        "allow_future": True,
        "lines": [{"sku": "CAM-KIT", "location": "LON-OXF", "quantity": 2}],
    }
    refused = client_for(camera_shop["token"]).post(URL, asked, format="json")
    assert refused.status_code == 400
    assert "a kit is sold from the shelf" in str(refused.json()["allow_future"])
    # The channel's default pre-orders plain lines only: a kit short is a 409.
    short = buy(camera_shop["token"], "CART-2", [("CAM-KIT", 2)])
    assert short.status_code == 409
    assert not Reservation.objects.exists()


@pytest.mark.django_db
def test_the_admin_shows_the_kits_a_hold_took(camera_shop, admin_client):
    stock(camera_shop["lens"], camera_shop["store"], 1)
    stock(camera_shop["body"], camera_shop["store"], 1)
    placed = buy(camera_shop["token"], "CART-1", [("CAM-KIT", 1)]).json()
    page = admin_client.get(f"/admin/inventory/reservation/{placed['id']}/change/")
    assert page.status_code == 200
    assert "CAM-KIT" in page.content.decode()
