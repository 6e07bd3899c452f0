"""Reservations over the API, as a web checkout and an order system use them.

The main flows run twice: with carts naming the tee and the hoodie (``[plain]``) and
naming a one-component kit of each (``[kit]``, the ``sold`` fixture); the hold's lines,
the balances and availability name the tee and the hoodie either way.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation, StockMovement
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    SkuFactory,
    StockEvents,
    balance_of,
    kit,
)

URL = "/api/v1/reservations/"
PLAIN = {"tee": "TEE-BLK-M", "hoodie": "HOOD-GRE-L"}


@pytest.fixture
def stocked(shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["store"], quantity=5)
    StockEvents.post("receipt", sku=shop["hoodie"], location=shop["store"], quantity=3)
    return shop


@pytest.fixture(params=["plain", "kit"])
def sold(request, stocked):
    """The codes a cart names for the tee and the hoodie: the SKUs themselves, or a
    kit of one of each."""
    if request.param == "plain":
        return PLAIN
    kit("TEE-KIT", (stocked["tee"], 1))
    kit("HOOD-KIT", (stocked["hoodie"], 1))
    return {"tee": "TEE-KIT", "hoodie": "HOOD-KIT"}


def cart(reference="CART-100", channel="web", sold=PLAIN, **extra):
    return {
        "reference": reference,
        "channel": channel,
        "lines": [
            {"sku": sold["tee"], "location": "LON-OXF", "quantity": 2},
            {"sku": sold["hoodie"], "location": "LON-OXF", "quantity": 1},
        ],
        **extra,
    }


def kits_of(sold, **quantities):
    """A hold's ``kits`` for ``quantities`` of each sold SKU: none when sold as they
    are, one kit of one component each otherwise."""
    return [
        {
            "sku": sold[key],
            "location": "LON-OXF",
            "quantity": quantity,
            "components": [{"sku": PLAIN[key], "quantity": 1}],
        }
        for key, quantity in quantities.items()
        if sold[key] != PLAIN[key]
    ]


@pytest.mark.sqlite_too
def test_a_checkout_holds_its_cart_and_reads_it_back(api, sold):
    response = api.post(URL, cart(ttl_seconds=600, sold=sold), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active"
    assert body["ttl_seconds"] == 600
    assert body["channel"] == "web"
    assert body["created_by"] == "token:erp"
    on_the_shelf = {"promised_from": "shelf", "future_quantity": 0, "expected_at": None}
    assert body["lines"] == [
        {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2, **on_the_shelf},
        {"sku": "HOOD-GRE-L", "location": "LON-OXF", "quantity": 1, **on_the_shelf},
    ]
    assert body["kits"] == kits_of(sold, tee=2, hoodie=1)
    assert [t["to_status"] for t in body["transitions"]] == ["active"]
    assert api.get(f"{URL}{body['id']}/").json() == body

    availability = api.get(
        "/api/v1/availability/?sku=TEE-BLK-M&location=LON-OXF&channel=web"
    ).json()["results"][0]
    assert (availability["reserved"], availability["available_to_promise"]) == (2, 1)


def test_the_same_cart_sent_again_answers_200_with_the_same_hold(api, stocked, sold):
    first = api.post(URL, cart(sold=sold), format="json")
    again = api.post(URL, cart(sold=sold), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["kits"] == kits_of(sold, tee=2, hoodie=1)
    assert balance_of(stocked["tee"], stocked["store"]).reserved == 2
    other = cart(sold=sold)
    other["lines"][0]["quantity"] = 1
    clash = api.post(URL, other, format="json")
    assert clash.status_code == 409
    assert clash.json()["code"] == "reference_clash"


@pytest.mark.sqlite_too
def test_a_cart_too_big_for_the_shelf_holds_nothing_and_says_what_is_short(
    api, stocked, sold
):
    big = cart(sold=sold)
    big["lines"][1]["quantity"] = 3  # 3 hoodies, but the web keeps 2 back
    response = api.post(URL, big, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["shortages"] == [
        {
            "sku": "HOOD-GRE-L",
            "location": "LON-OXF",
            "requested": 3,
            "available_to_promise": 1,
            # Which kits of the cart needed the hoodie, when it named any.
            **({"kits": ["HOOD-KIT"]} if sold["hoodie"] == "HOOD-KIT" else {}),
        }
    ]
    assert not Reservation.objects.exists()
    assert balance_of(stocked["tee"], stocked["store"]).reserved == 0


@pytest.mark.sqlite_too
def test_release_commit_fulfil_and_cancel_follow_the_state_machine(api, stocked, sold):
    held = api.post(URL, cart(sold=sold), format="json").json()
    released = api.post(f"{URL}{held['id']}/release/")
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    again = api.post(f"{URL}{held['id']}/release/")
    assert again.status_code == 409
    assert again.json()["current_status"] == "released"
    assert again.json()["code"] == "reservation_transition_refused"
    assert StockMovement.objects.filter(type="reservation_release").count() == 2

    order = api.post(URL, cart("CART-101", sold=sold), format="json").json()
    assert api.post(f"{URL}{order['id']}/cancel/").json()["current_status"] == "active"
    committed = api.post(f"{URL}{order['id']}/commit/").json()
    assert committed["status"] == "committed"
    assert committed["kits"] == kits_of(sold, tee=2, hoodie=1)
    tee = balance_of(stocked["tee"], stocked["store"])
    assert (tee.reserved, tee.committed) == (0, 2)
    fulfilled = api.post(f"{URL}{order['id']}/fulfil/").json()
    assert fulfilled["status"] == "fulfilled"
    assert [t["to_status"] for t in fulfilled["transitions"]] == [
        "active",
        "committed",
        "fulfilled",
    ]
    tee = balance_of(stocked["tee"], stocked["store"])
    assert (tee.on_hand, tee.committed) == (3, 0)

    second = api.post(URL, cart("CART-102", "pos", sold=sold), format="json").json()
    api.post(f"{URL}{second['id']}/commit/")
    cancelled = api.post(f"{URL}{second['id']}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert balance_of(stocked["tee"], stocked["store"]).available == 3


def test_a_lapsed_hold_reads_expired_and_cannot_be_committed(api, stocked, sold):
    held = api.post(URL, cart(sold=sold), format="json").json()
    Reservation.objects.filter(pk=held["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert api.get(f"{URL}{held['id']}/").json()["status"] == "expired"
    assert [r["id"] for r in api.get(f"{URL}?status=expired").json()["results"]] == [
        held["id"]
    ]
    assert api.get(f"{URL}?status=active").json()["results"] == []
    refused = api.post(f"{URL}{held['id']}/commit/")
    assert refused.status_code == 409
    assert refused.json()["current_status"] == "expired"
    assert balance_of(stocked["tee"], stocked["store"]).committed == 0


def test_the_list_filters_by_status_sku_and_reference(api, sold):
    api.post(URL, cart("CART-1", sold=sold), format="json")
    only_tee = {
        "reference": "CART-2",
        "channel": "pos",
        "lines": [{"sku": sold["tee"], "location": "LON-OXF", "quantity": 1}],
    }
    second = api.post(URL, only_tee, format="json").json()
    api.post(f"{URL}{second['id']}/release/")

    def references(query):
        return [r["reference"] for r in api.get(f"{URL}?{query}").json()["results"]]

    assert references("") == ["CART-2", "CART-1"]
    assert references("status=active") == ["CART-1"]
    assert references("status=released") == ["CART-2"]
    assert references("sku=HOOD-GRE-L") == ["CART-1"]
    assert references("channel=pos") == ["CART-2"]
    assert references("reference=CART-1") == ["CART-1"]
    assert api.get(f"{URL}?status=lost").status_code == 400


def test_a_channel_bound_token_reserves_only_for_its_channel(stocked):
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")
    web_shop = client_for(raw)
    refused = web_shop.post(URL, cart(channel="pos"), format="json")
    assert refused.status_code == 403
    assert not Reservation.objects.exists()
    own = web_shop.post(URL, {**cart(), "channel": None} | {}, format="json")
    assert own.status_code == 400  # a null channel is not "my channel"
    mine = cart()
    del mine["channel"]
    held = web_shop.post(URL, mine, format="json")
    assert held.status_code == 201
    assert held.json()["channel"] == "web"

    _, till_raw = ApiTokenFactory.issue(name="till", channel_code="pos")
    till = client_for(till_raw)
    assert till.get(f"{URL}{held.json()['id']}/").status_code == 404
    assert till.post(f"{URL}{held.json()['id']}/release/").status_code == 404
    assert till.get(URL).json()["results"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 86_401}, "ttl_seconds"),
        ({"ttl_seconds": "600"}, "ttl_seconds"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 0}]}, "lines"),
        ({"lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": -1}]}, "lines"),
        ({"lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF"}]}, "lines"),
        ({"lines": [{"sku": "NOPE", "location": "LON-OXF", "quantity": 1}]}, "lines"),
        ({"lines": [{"sku": "TEE-BLK-M", "location": "NOWHERE", "quantity": 1}]}, "lines"),
        (
            {
                "lines": [
                    {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1},
                    {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2},
                ]
            },
            "lines",
        ),
        ({"channel": "nowhere"}, "channel"),
        ({"reference": ""}, "reference"),
        ({"reference": "has space"}, "reference"),
        ({"colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_a_bad_cart_is_refused_field_by_field_and_holds_nothing(
    api, stocked, change, field
):
    response = api.post(URL, cart() | change, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Reservation.objects.exists()
    assert balance_of(stocked["tee"], stocked["store"]).reserved == 0


@pytest.mark.sqlite_too
def test_an_unknown_code_is_named_on_its_line(api, stocked):
    bad = cart()
    bad["lines"][1]["sku"] = "HOOD-PNK-XL"
    response = api.post(URL, bad, format="json")
    assert response.json()["errors"] == {
        "lines": [{}, {"sku": ["Unknown SKU 'HOOD-PNK-XL'."]}]
    }


def test_integrations_may_not_send_references_kept_for_reservations(api, stocked):
    response = api.post(
        "/api/v1/movements/",
        {
            "reference": "#reservation/1/1/reserve",
            "type": "sale",
            "sku": "TEE-BLK-M",
            "location": "LON-OXF",
            "quantity": 1,
            "occurred_at": timezone.now().isoformat(),
            "channel": "web",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "reference" in response.json()


def test_a_cart_of_forty_lines_costs_the_same_queries_as_a_cart_of_one(
    api, shop, django_assert_max_num_queries
):
    skus = [SkuFactory(code=f"SOCK-{n:02d}") for n in range(40)]
    for sku in skus:
        StockEvents.post("receipt", sku=sku, location=shop["store"], quantity=3)
    big = {
        "reference": "CART-BIG",
        "channel": "pos",
        "lines": [
            {"sku": sku.code, "location": "LON-OXF", "quantity": 1} for sku in skus
        ],
    }
    # The flash-sale path: the token kept in memory, one query for every code in
    # the cart, one statement for the hold, one pipeline of conditional updates, and
    # the transaction around them.
    api.get(URL)
    with django_assert_max_num_queries(5):
        assert api.post(URL, big, format="json").status_code == 201
    held = Reservation.objects.get(reference="CART-BIG")
    # (and the kits the hold took, read for its answer)
    with django_assert_max_num_queries(19):
        assert api.post(f"{URL}{held.pk}/commit/").status_code == 200
    with django_assert_max_num_queries(8):
        assert api.get(URL).status_code == 200
