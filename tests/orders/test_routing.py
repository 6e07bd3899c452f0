"""Routing on its own: a snapshot of locations in, a decision and its reasons out."""

import pytest

from orders.routing import (
    Candidate,
    RoutingLine,
    Weights,
    haversine_km,
    nearest_that_can_fill,
    route,
)

CUSTOMER = (51.5072, -0.1276)  # central London
TEE, HOOD = 1, 2


def place(
    code,
    km_north,
    *,
    stock,
    ships=True,
    store=True,
    cost=0.0,
    today=0,
    capacity=None,
    walk_in=0,
    radius=None,
    coordinates=True,
):
    """A candidate ``km_north`` km north of the customer (1° of latitude ≈ 111.2 km)."""
    return Candidate(
        location_id=hash(code) % 10_000,
        code=code,
        is_store=store,
        ships=ships,
        latitude=CUSTOMER[0] + km_north / 111.195 if coordinates else None,
        longitude=CUSTOMER[1] if coordinates else None,
        shipping_cost=cost,
        orders_today=today,
        daily_capacity=capacity,
        walk_in_buffer=walk_in,
        service_radius_km=radius,
        available_to_promise=stock,
    )


def order(tees=1, hoods=0):
    lines = [RoutingLine(TEE, "TEE", tees)]
    if hoods:
        lines.append(RoutingLine(HOOD, "HOOD", hoods))
    return lines


CASES = {
    "the nearest full fill wins on distance": (
        order(2),
        [place("NEAR", 5, stock={TEE: 2}), place("FAR", 50, stock={TEE: 9})],
        ["NEAR"],
        "NEAR fills the whole order and wins on distance",
    ),
    "a single full fill beats a nearer split": (
        order(1, 1),
        [
            place("TEES", 2, stock={TEE: 5}),
            place("HOODS", 3, stock={HOOD: 5}),
            place("DC", 150, stock={TEE: 50, HOOD: 50}, store=False),
        ],
        ["DC"],
        "DC is the only location that can fill the whole order: one shipment beats a "
        "split, though HOODS, TEES scored better with part of it.",
    ),
    "no single fill: split, most units first": (
        order(3, 2),
        [
            place("A", 5, stock={TEE: 3}),
            place("B", 6, stock={TEE: 1, HOOD: 2}),
            place("C", 1, stock={HOOD: 1}),
        ],
        ["A", "B"],
        "No single location can fill the whole order: split across A (3 units), "
        "B (2 units), the fewest shipments that cover it.",
    ),
    "capacity is respected": (
        order(1),
        [
            place("BUSY", 1, stock={TEE: 5}, today=40, capacity=40),
            place("CALM", 30, stock={TEE: 5}, today=3, capacity=40),
        ],
        ["CALM"],
        "CALM is the only location that can fill the whole order.",
    ),
    "remaining capacity can decide between equals": (
        order(1),
        [
            place("LOADED", 10, stock={TEE: 5}, today=36, capacity=40),
            place("QUIET", 10, stock={TEE: 5}, today=2, capacity=40),
        ],
        ["QUIET"],
        "QUIET fills the whole order and wins on capacity left today (38 of 40 "
        "against 4 of 40)",
    ),
    "a store's walk-in buffer is never shipped": (
        order(2),
        [
            place("SHOP", 1, stock={TEE: 3}, walk_in=2),
            place("DC", 200, stock={TEE: 10}, store=False),
        ],
        ["DC"],
        "DC is the only location that can fill the whole order",
    ),
    "shipping cost beats a few km": (
        order(1),
        [
            place("DEAR", 10, stock={TEE: 1}, cost=9.0),
            place("CHEAP", 20, stock={TEE: 1}, cost=2.0),
        ],
        ["CHEAP"],
        "CHEAP fills the whole order and wins on shipping cost (2.00 against 9.00)",
    ),
    "a store that does not ship is ruled out": (
        order(1),
        [
            place("NOSHIP", 1, stock={TEE: 5}, ships=False),
            place("DC", 80, stock={TEE: 5}),
        ],
        ["DC"],
        "DC is the only location that can fill the whole order.",
    ),
    "too far for its radius": (
        order(1),
        [
            place("LOCAL", 40, stock={TEE: 5}, radius=25),
            place("DC", 300, stock={TEE: 5}),
        ],
        ["DC"],
        "DC is the only location",
    ),
}


@pytest.mark.parametrize(
    "lines, candidates, winners, reason", CASES.values(), ids=CASES
)
def test_routing_cases(lines, candidates, winners, reason):
    decision = route(lines=lines, candidates=candidates, destination=CUSTOMER)

    assert [a.code for a in decision.allocations] == winners
    assert decision.reason.startswith(reason)
    assert not decision.shortages
    placed = {}
    for allocation in decision.allocations:
        for sku, units in allocation.units.items():
            placed[sku] = placed.get(sku, 0) + units
    assert placed == {line.sku_id: line.quantity for line in lines}


def test_every_candidate_is_explained():
    decision = route(
        lines=order(2),
        candidates=[
            place("WIN", 5, stock={TEE: 2}),
            place("SHORT", 1, stock={TEE: 1}),
            place("FULL", 2, stock={TEE: 9}, today=10, capacity=10),
            place("AWAY", 90, stock={TEE: 9}, radius=50),
            place("CLOSED", 3, stock={TEE: 9}, ships=False),
        ],
        destination=CUSTOMER,
    )

    why = {v.code: v.ruled_out for v in decision.verdicts}
    assert why == {
        "WIN": "",
        "SHORT": "not enough stock: 1 of 2 units",
        "FULL": "over capacity: 10 of 10 orders today",
        "AWAY": "too far: 90 km, ships within 50 km",
        "CLOSED": "does not ship orders of this kind",
    }
    shown = decision.as_json()
    assert shown["candidates"][0]["location"] == "WIN"
    assert shown["candidates"][0]["score"] == pytest.approx(5.0, abs=0.1)
    assert shown["split"] is False


def test_what_nobody_has_is_a_shortage():
    decision = route(
        lines=order(5),
        candidates=[place("A", 1, stock={TEE: 2}), place("B", 2, stock={TEE: 1})],
        destination=CUSTOMER,
    )

    assert decision.allocations == []
    assert decision.shortages == [{"sku": "TEE", "requested": 5, "short": 2}]


def test_without_the_customers_coordinates_cost_decides():
    decision = route(
        lines=order(1),
        candidates=[
            place("DEAR", 1, stock={TEE: 1}, cost=5.0),
            place("CHEAP", 500, stock={TEE: 1}),
        ],
        destination=None,
    )

    assert [a.code for a in decision.allocations] == ["CHEAP"]
    assert "shipping cost" in decision.reason


def test_weights_can_be_tuned():
    heavy_distance = Weights(per_km=100.0)
    decision = route(
        lines=order(1),
        candidates=[
            place("DEAR", 10, stock={TEE: 1}, cost=9.0),
            place("CHEAP", 20, stock={TEE: 1}),
        ],
        destination=CUSTOMER,
        weights=heavy_distance,
    )

    assert [a.code for a in decision.allocations] == ["DEAR"]
    assert "wins on distance" in decision.reason


def test_nearest_stores_that_can_fill_a_short_pickup():
    stores = [
        place("FAR", 40, stock={TEE: 3}),
        place("NEAR", 4, stock={TEE: 3}),
        place("SHORT", 1, stock={TEE: 1}),
        place("NOPICKUP", 2, stock={TEE: 3}, ships=False),
    ]

    assert nearest_that_can_fill(
        lines=order(2), candidates=stores, origin=CUSTOMER
    ) == [
        {"location": "NEAR", "distance_km": pytest.approx(4.0, abs=0.01)},
        {"location": "FAR", "distance_km": pytest.approx(40.0, abs=0.01)},
    ]


def test_haversine_london_to_paris():
    assert haversine_km((51.5072, -0.1276), (48.8566, 2.3522)) == pytest.approx(
        343.5, abs=1
    )


# A camera kit: one body and two lenses per kit. A kit line counts in kits.
BODY, LENS, CAM_KIT, BAG, TRAVEL_KIT = 11, 12, 13, 14, 15


def kits(quantity, *, lenses=0, travel=0):
    lines = [RoutingLine(CAM_KIT, "CAM-KIT", quantity, ((BODY, 1), (LENS, 2)))]
    if lenses:
        lines.append(RoutingLine(LENS, "LENS", lenses))
    if travel:
        lines.append(
            RoutingLine(TRAVEL_KIT, "TRAVEL-KIT", travel, ((LENS, 1), (BAG, 1)))
        )
    return lines


def test_a_kit_goes_to_the_one_location_that_has_every_component():
    decision = route(
        lines=kits(1),
        candidates=[
            place("BODIES", 1, stock={BODY: 5}),
            place("LENSES", 2, stock={LENS: 5}),
            place("DC", 150, stock={BODY: 1, LENS: 2}, store=False),
        ],
        destination=CUSTOMER,
    )

    assert [(a.code, a.units) for a in decision.allocations] == [("DC", {CAM_KIT: 1})]
    why = {v.code: v.ruled_out for v in decision.verdicts}
    assert why["BODIES"] == "not enough stock: 0 of 1 items (a kit counts as one)"


def test_a_kit_is_never_split_across_locations_unless_the_channel_allows():
    """Two kits wanted, each of two stores has one."""
    stores = [
        place("OXF", 1, stock={BODY: 1, LENS: 2}),
        place("CAM", 2, stock={BODY: 1, LENS: 3}),
    ]

    whole = route(lines=kits(2), candidates=stores, destination=CUSTOMER)
    split = route(
        lines=kits(2), candidates=stores, destination=CUSTOMER, kit_split=True
    )

    assert whole.allocations == []
    assert whole.shortages == [{"sku": "CAM-KIT", "requested": 2, "short": 2}]
    assert [(a.code, a.units) for a in split.allocations] == [
        ("OXF", {CAM_KIT: 1}),
        ("CAM", {CAM_KIT: 1}),
    ]


def test_the_walk_in_buffer_is_kept_for_each_component():
    """The shop keeps one of everything for walk-ins: two lenses on its shelf are
    one it may ship, not a kit's two."""
    decision = route(
        lines=kits(1),
        candidates=[
            place("SHOP", 1, stock={BODY: 3, LENS: 2}, walk_in=1),
            place("DC", 200, stock={BODY: 1, LENS: 2}, store=False),
        ],
        destination=CUSTOMER,
    )

    assert [a.code for a in decision.allocations] == ["DC"]


def test_a_lens_the_kit_takes_is_not_counted_again_for_the_lens_besides():
    decision = route(
        lines=kits(1, lenses=1),
        candidates=[
            place("SHOP", 1, stock={BODY: 1, LENS: 2}),
            place("DC", 200, stock={LENS: 1}, store=False),
        ],
        destination=CUSTOMER,
    )

    assert [(a.code, a.units) for a in decision.allocations] == [
        ("SHOP", {CAM_KIT: 1}),
        ("DC", {LENS: 1}),
    ]
    assert not decision.verdicts[0].fills_whole_order


def test_two_kits_sharing_a_lens_are_filled_from_one_shelf_only_if_it_has_both():
    lines = kits(1, travel=1)
    short = route(
        lines=lines,
        candidates=[place("SHOP", 1, stock={BODY: 1, LENS: 2, BAG: 1})],
        destination=CUSTOMER,
    )
    enough = route(
        lines=lines,
        candidates=[place("SHOP", 1, stock={BODY: 1, LENS: 3, BAG: 1})],
        destination=CUSTOMER,
    )

    assert short.shortages == [{"sku": "TRAVEL-KIT", "requested": 1, "short": 1}]
    assert [(a.code, a.units) for a in enough.allocations] == [
        ("SHOP", {CAM_KIT: 1, TRAVEL_KIT: 1})
    ]


def test_nearest_stores_that_can_fill_a_short_kit_pickup():
    stores = [
        place("HALF", 1, stock={BODY: 1, LENS: 1}),
        place("WHOLE", 5, stock={BODY: 1, LENS: 2}),
    ]

    found = nearest_that_can_fill(lines=kits(1), candidates=stores, origin=CUSTOMER)

    assert [store["location"] for store in found] == ["WHOLE"]
