"""A web shop sells from a network of locations, not from every one: the retailer
draws it on the channel (``sells_from``), and its holds, its orders and routing keep
to it."""

from decimal import Decimal

import pytest

from catalog.models import Channel
from config.access import Actor
from config.errors import InvalidInput
from inventory.models import NetworkLocation, Reservation, StockBalance
from inventory.networks import not_in_network_message
from inventory.services.networks import network_set
from orders import services as orders
from orders.models import Order
from tests.factories import (
    ChannelFactory,
    Holds,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
    stock,
)

pytestmark = pytest.mark.django_db

CHANNEL = "/api/v1/channels/web/"
ISLINGTON = {
    "address": "1 Upper Street",
    "city": "London",
    "postal_code": "N1 0PN",
    "country": "GB",
    "latitude": 51.5362,
    "longitude": -0.1033,
}


@pytest.fixture
def estate(db):
    """Two London stores that ship, a northern distribution centre, a store that
    closed, a tee, and the web shop, which has not drawn its network yet."""

    def place(code, kind="store", *, lat, lon, **extra):
        return LocationFactory(
            code=code,
            kind=kind,
            latitude=Decimal(str(lat)),
            longitude=Decimal(str(lon)),
            pickup_enabled=kind == "store",
            ship_from_store_enabled=kind == "store",
            **extra,
        )

    return {
        "oxford": place("LON-OXF", lat=51.5154, lon=-0.1420),
        "camden": place("LON-CAM", lat=51.5390, lon=-0.1426),
        "dc": place("DC-NORTH", "distribution_centre", lat=52.4862, lon=-1.8904),
        "closed": place("LON-OLD", lat=51.5, lon=-0.1, is_active=False),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "web": ChannelFactory(code="web", name="Web shop", kind="web"),
    }


def sells_from(channel: Channel) -> list[str]:
    return sorted(
        NetworkLocation.objects.filter(channel=channel).values_list(
            "location__code", flat=True
        )
    )


def draw(estate, *codes):
    """The manager draws the web shop's network through the service."""
    places = {estate[key].code: estate[key] for key in ("oxford", "camden", "dc")}
    places["LON-OLD"] = estate["closed"]
    network_set(
        channel=estate["web"],
        locations=[places[code] for code in codes],
        actor=Actor(name="user:maria"),
    )


# The channel's record: its network and its buffer policy.


def test_the_web_shop_draws_its_network_and_reads_it_back(api, estate):
    answer = api.put(
        CHANNEL,
        {"name": "Web shop", "sells_from": ["LON-OXF", "DC-NORTH", "LON-OXF"]},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["sells_from"] == ["DC-NORTH", "LON-OXF"]
    assert answer.json()["buffer_policy"] == "fixed"
    assert sells_from(estate["web"]) == ["DC-NORTH", "LON-OXF"]

    # Renamed without a word about its network: the network stays.
    api.put(CHANNEL, {"name": "Web"}, format="json")
    listed = api.get("/api/v1/channels/").json()["results"]
    assert [(row["code"], row["sells_from"]) for row in listed] == [
        ("web", ["DC-NORTH", "LON-OXF"])
    ]
    # An empty list: every active location again, as before networks existed.
    emptied = api.put(CHANNEL, {"name": "Web", "sells_from": []}, format="json")
    assert emptied.json()["sells_from"] == []
    assert sells_from(estate["web"]) == []


def test_a_new_marketplace_is_created_with_its_network_and_velocity_buffers(
    api, estate
):
    answer = api.put(
        "/api/v1/channels/mkt/",
        {
            "name": "Marketplace",
            "kind": "marketplace",
            "buffer_policy": "velocity",
            "sells_from": ["DC-NORTH"],
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["buffer_policy"], answer.json()["sells_from"]) == (
        "velocity",
        ["DC-NORTH"],
    )
    assert Channel.objects.get(code="mkt").buffer_policy == "velocity"

    refused = api.put(
        "/api/v1/channels/mkt/",
        {"name": "Marketplace", "buffer_policy": "sometimes"},
        format="json",
    )
    assert refused.status_code == 400
    assert "buffer_policy" in refused.json()


def test_unknown_and_closed_locations_are_named_and_nothing_is_written(api, estate):
    draw(estate, "LON-OXF")
    answer = api.put(
        CHANNEL,
        {"name": "Renamed", "sells_from": ["LON-CAM", "NOWHERE", "LON-OLD"]},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["sells_from"] == [
        "Unknown location 'NOWHERE'.",
        "Location 'LON-OLD' is closed: a channel sells only from open locations.",
    ]
    estate["web"].refresh_from_db()
    assert estate["web"].name == "Web shop"
    assert sells_from(estate["web"]) == ["LON-OXF"]

    # A channel that does not exist yet is not made either.
    new = api.put(
        "/api/v1/channels/app/", {"name": "App", "sells_from": ["X"]}, format="json"
    )
    assert new.status_code == 400
    assert not Channel.objects.filter(code="app").exists()


def test_a_closed_location_is_refused_by_the_service_too(estate):
    with pytest.raises(InvalidInput) as refused:
        draw(estate, "LON-OLD")
    assert "LON-OLD" in refused.value.field_errors["sells_from"][0]
    assert sells_from(estate["web"]) == []


def test_a_redrawn_network_announces_the_stock_at_the_locations_that_entered_or_left(
    estate,
):
    """The web shop sold from everywhere; it now sells from Oxford Street only.
    Camden and the DC left its network: their stock is announced again (its sums
    changed), Oxford Street's is not, nor a balance with nothing on hand."""
    tee, hoodie = estate["tee"], SkuFactory(code="HOOD-GRE-L")
    for place in ("oxford", "camden", "dc"):
        stock(tee, estate[place], 3)
    # Camden's last hoodie sold at the till: nothing on hand, nothing to sum.
    stock(hoodie, estate["camden"], 1)
    StockEvents.post("sale", sku=hoodie, location=estate["camden"], quantity=1)
    before = {
        (row.sku_id, row.location_id): row.sequence
        for row in StockBalance.objects.all()
    }

    draw(estate, "LON-OXF")

    after = {
        (row.sku_id, row.location_id): row.sequence
        for row in StockBalance.objects.all()
    }
    moved = {key for key in after if after[key] != before[key]}
    assert moved == {(tee.pk, estate["camden"].pk), (tee.pk, estate["dc"].pk)}
    assert all(after[key] == before[key] + 1 for key in moved)


# Holds keep to the network.


def test_a_hold_at_a_location_outside_the_network_is_refused_and_holds_nothing(
    api, estate
):
    stock(estate["tee"], estate["camden"], 5)
    stock(estate["tee"], estate["oxford"], 5)
    draw(estate, "LON-OXF")

    with pytest.raises(InvalidInput) as refused:
        Holds.place(channel=estate["web"], lines=[(estate["tee"], estate["camden"], 1)])
    message = not_in_network_message(channel=estate["web"], location=estate["camden"])
    assert refused.value.field_errors["lines"][0]["location"] == [message]

    # Through the API (the lean path hands the cart to the general one, which says
    # why).
    answer = api.post(
        "/api/v1/reservations/",
        {
            "reference": "CART-1",
            "channel": "web",
            "lines": [{"sku": "TEE-BLK-M", "location": "LON-CAM", "quantity": 1}],
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["lines"][0]["location"] == [message]
    assert not Reservation.objects.exists()
    assert balance_of(estate["tee"], estate["camden"]).reserved == 0

    # Inside the network, the same cart holds.
    held = Holds.place(
        channel=estate["web"], lines=[(estate["tee"], estate["oxford"], 1)]
    )
    assert held.status == Reservation.Status.ACTIVE


# Orders keep to the network, and routing looks nowhere else.


def web_order(reference, *, lines, **extra):
    return {
        "reference": reference,
        "channel": "web",
        "fulfilment_method": "ship",
        "customer": {"name": "Ada Byron", "email": "ada@example.com"},
        "delivery_address": ISLINGTON,
        "lines": lines,
        **extra,
    }


def test_an_order_naming_a_location_outside_the_network_is_refused(api, estate):
    stock(estate["tee"], estate["camden"], 5)
    draw(estate, "LON-OXF", "DC-NORTH")

    answer = api.post(
        "/api/v1/orders/",
        web_order(
            "WEB-1", lines=[{"sku": "TEE-BLK-M", "location": "LON-CAM", "quantity": 1}]
        ),
        format="json",
    )

    assert answer.status_code == 400
    assert answer.json()["lines"][0]["location"] == [
        "Location 'LON-CAM' is not in channel 'web''s network: it does not sell "
        "from there."
    ]
    assert not Order.objects.exists()
    assert balance_of(estate["tee"], estate["camden"]).committed == 0


def test_a_pickup_at_a_store_outside_the_network_is_refused(api, estate):
    stock(estate["tee"], estate["camden"], 5)
    draw(estate, "LON-OXF")

    pickup = web_order("WEB-2", lines=[{"sku": "TEE-BLK-M", "quantity": 1}])
    del pickup["delivery_address"]
    pickup.update(fulfilment_method="pickup", pickup_location="LON-CAM")
    answer = api.post("/api/v1/orders/", pickup, format="json")

    assert answer.status_code == 400, answer.json()
    assert "not in channel 'web''s network" in answer.json()["pickup_location"][0]
    assert not Order.objects.exists()


def test_routing_ships_from_the_network_though_a_nearer_store_has_the_tee(api, estate):
    """Camden is nearest the customer and has the tee, but the web shop sells from
    Oxford Street and the DC only: Oxford Street ships it, and Camden is not even a
    candidate."""
    stock(estate["tee"], estate["camden"], 5)
    stock(estate["tee"], estate["oxford"], 2)
    draw(estate, "LON-OXF", "DC-NORTH")

    answer = api.post(
        "/api/v1/orders/",
        web_order("WEB-3", lines=[{"sku": "TEE-BLK-M", "quantity": 2}]),
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    order = answer.json()
    assert [line["location"] for line in order["lines"]] == ["LON-OXF"]
    candidates = {row["location"] for row in order["routing"]["candidates"]}
    assert candidates == {"LON-OXF", "DC-NORTH"}
    assert balance_of(estate["tee"], estate["camden"]).committed == 0


def test_routing_finds_nothing_outside_the_network_and_commits_nothing(api, estate):
    stock(estate["tee"], estate["camden"], 5)
    draw(estate, "LON-OXF")

    answer = api.post(
        "/api/v1/orders/",
        web_order("WEB-4", lines=[{"sku": "TEE-BLK-M", "quantity": 1}]),
        format="json",
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "insufficient_stock"
    assert not Order.objects.exists()


def test_a_substitute_line_outside_the_network_is_refused(estate):
    stock(estate["tee"], estate["oxford"], 2)
    stock(estate["tee"], estate["camden"], 2)
    draw(estate, "LON-OXF")
    actor = Actor(name="token:web-shop", source="web")
    order, _ = orders.order_place(
        channel=estate["web"],
        reference="WEB-5",
        method="ship",
        customer=orders.Customer(name="Ada Byron"),
        actor=actor,
        lines=[orders.OrderLineInput(estate["tee"], 1, estate["oxford"])],
    )

    with pytest.raises(InvalidInput) as refused:
        orders.order_add_line(
            order_id=order.pk,
            sku=estate["tee"],
            location=estate["camden"],
            quantity=1,
            actor=actor,
            reason="substitute",
        )
    assert "not in channel 'web''s network" in refused.value.field_errors["location"][0]
    assert order.lines.count() == 1
    assert balance_of(estate["tee"], estate["camden"]).committed == 0
