"""Orders on the shop floor: placed from a checkout or directly, cancelled before and
after picking, shipped, collected; every unit a claim on real stock.

Every story is told twice: with the tee and the hoodie sold as they are (``[plain]``),
and sold as kits of one (``[kit]``). The customer orders ``tee_sold``/``hoodie_sold``;
the shelf, the balances and the order's lines only ever know the tee and the hoodie
(a kit's lines are its components'). No story here pre-orders (a kit never is).
"""

import pytest

from inventory.models import Reservation
from orders.models import Order, ReturnToStockTask
from tests.factories import Holds, balance_of, kit
from tests.orders.conftest import stock, web_order


@pytest.fixture(params=["plain", "kit"])
def network(request, network):
    """The London network, its tee and hoodie sold as they are or each as a
    one-component kit (``tee_sold``, ``hoodie_sold``: what an order names)."""
    if request.param == "plain":
        return {**network, "tee_sold": network["tee"], "hoodie_sold": network["hoodie"]}
    return {
        **network,
        "tee_sold": kit("TEE-KIT", (network["tee"], 1)),
        "hoodie_sold": kit("HOOD-KIT", (network["hoodie"], 1)),
    }


def sold(network, key):
    """An order line of ``key`` (tee, hoodie) as ``as_sold`` shows it."""
    bought = network[f"{key}_sold"]
    return (network[key].code, bought.code, 1 if bought.is_kit else None)


def as_sold(order):
    """Each line: (SKU on the shelf, what was bought: its kit if any, units per kit)."""
    kits = {k["id"]: k["sku"] for k in order["kit_lines"]}
    return [
        (x["sku"], kits.get(x["kit_line"], x["sku"]), x["per_kit"])
        for x in order["lines"]
    ]


KIT_FIGURES = (
    "sku",
    "location",
    "quantity",
    "open_kits",
    "cancelled_kits",
    "fulfilled_kits",
)


def kits_of(order):
    return [tuple(k[figure] for figure in KIT_FIGURES) for k in order["kit_lines"]]


def kits_sold(network, *lines):
    """The kit lines ``(key, *KIT_FIGURES[1:])`` lines make: none when sold as is."""
    return [
        (network[f"{key}_sold"].code, *figures)
        for key, *figures in lines
        if network[f"{key}_sold"].is_kit
    ]


def available(sku, location):
    return balance_of(sku, location).available


def needing(network, key):
    """A shortage's ``kit``/``kits``: the kits of the order that needed the component
    there (only said when the order named a kit)."""
    bought = network[f"{key}_sold"]
    return {"kit": bought.code, "kits": [bought.code]} if bought.is_kit else {}


def kinds(order_body):
    return [event["kind"] for event in order_body["timeline"]]


def test_a_web_order_from_a_checkout_hold_takes_over_its_units(api, network):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 3)
    hold = Holds.place(channel=network["web"], lines=[(network["tee_sold"], store, 2)])

    answer = api.post("/api/v1/orders/", web_order(reservation=hold.pk), format="json")

    assert answer.status_code == 201, answer.json()
    order = answer.json()
    assert order["status"] == "allocated"
    assert order["reservation"] == hold.pk
    assert [
        (line["sku"], line["location"], line["quantity"]) for line in order["lines"]
    ] == [("TEE-BLK-M", "LON-OXF", 2)]
    # The hold's kit, if it took one, is the order's kit line over the tee's line.
    assert as_sold(order) == [sold(network, "tee")]
    assert kits_of(order) == kits_sold(network, ("tee", "LON-OXF", 2, 2, 0, 0))
    assert order["routing"]["strategy"] == "reservation"
    assert kinds(order) == ["placed", "routed", "status"]
    assert order["timeline"][-1]["from_status"] == "placed"
    assert order["timeline"][-1]["to_status"] == "allocated"
    assert order["timeline"][-1]["actor"] == "token:erp"
    hold.refresh_from_db()
    assert hold.status == Reservation.Status.ORDERED
    balance = balance_of(tee, store)
    assert (balance.reserved, balance.committed, balance.available) == (0, 2, 1)
    # The hold is the order's now: it cannot be cancelled behind the order's back.
    refused = api.post(f"/api/v1/reservations/{hold.pk}/cancel/")
    assert refused.status_code == 409
    assert (
        api.post(
            "/api/v1/orders/", web_order("WEB-1002", reservation=hold.pk), format="json"
        ).json()["code"]
        == "reservation_already_ordered"
    )


def test_an_order_placed_directly_is_routed_reserved_and_committed_in_one_step(
    api, network
):
    tee = network["tee"]
    stock(tee, network["dc"], 10)

    answer = api.post(
        "/api/v1/orders/",
        web_order(lines=[{"sku": network["tee_sold"].code, "quantity": 2}]),
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    order = answer.json()
    assert order["lines"][0]["location"] == "DC-NORTH"
    assert as_sold(order) == [sold(network, "tee")]
    assert kits_of(order) == kits_sold(network, ("tee", "DC-NORTH", 2, 2, 0, 0))
    assert order["routing"]["reason"].startswith("DC-NORTH is the only location")
    ruled_out = {c["location"]: c["ruled_out"] for c in order["routing"]["candidates"]}
    counted = "items (a kit counts as one)" if network["tee_sold"].is_kit else "units"
    assert ruled_out["LON-OXF"] == f"not enough stock: 0 of 2 {counted}"
    assert balance_of(tee, network["dc"]).committed == 2
    assert [e for e in order["timeline"] if e["kind"] == "routed"][0][
        "reason"
    ] == order["routing"]["reason"]


def test_the_same_order_sent_twice_is_placed_once(api, network):
    stock(network["tee"], network["dc"], 10)
    body = web_order(lines=[{"sku": network["tee_sold"].code, "quantity": 2}])

    first = api.post("/api/v1/orders/", body, format="json")
    again = api.post("/api/v1/orders/", body, format="json")
    other = api.post(
        "/api/v1/orders/",
        web_order(lines=[{"sku": network["tee_sold"].code, "quantity": 3}]),
        format="json",
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    assert other.json()["code"] == "reference_clash"
    assert other.json()["order_id"] == first.json()["id"]
    assert balance_of(network["tee"], network["dc"]).committed == 2


def test_a_partial_cancellation_releases_only_the_cancelled_units(api, network):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 5)
    order = api.post(
        "/api/v1/orders/",
        web_order(
            lines=[
                {"sku": network["tee_sold"].code, "quantity": 3, "location": "LON-OXF"}
            ]
        ),
        format="json",
    ).json()
    line = order["lines"][0]["id"]

    answer = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {
            "lines": [{"line": line, "quantity": 1}],
            "reason": "Customer changed their mind",
        },
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["status"] == "allocated"
    assert body["lines"][0]["cancelled_quantity"] == 1
    assert body["lines"][0]["open_quantity"] == 2
    # A kit of one tee: one tee cancelled is one whole kit, so it may go alone.
    assert kits_of(body) == kits_sold(network, ("tee", "LON-OXF", 3, 2, 1, 0))
    assert (balance_of(tee, store).committed, available(tee, store)) == (2, 3)
    cancelled = body["timeline"][-1]
    assert cancelled["kind"] == "cancelled"
    assert cancelled["reason"] == "Customer changed their mind"
    assert cancelled["detail"]["lines"][0]["quantity"] == 1


def test_cancelled_before_picking_the_units_are_available_at_once(api, network):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 2)
    order = api.post(
        "/api/v1/orders/",
        web_order(
            lines=[
                {"sku": network["tee_sold"].code, "quantity": 2, "location": "LON-OXF"}
            ]
        ),
        format="json",
    ).json()
    assert available(tee, store) == 0

    answer = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"reason": "Fraud check failed"},
        format="json",
    )

    assert answer.json()["status"] == "cancelled"
    assert kits_of(answer.json()) == kits_sold(network, ("tee", "LON-OXF", 2, 0, 2, 0))
    assert available(tee, store) == 2
    assert not ReturnToStockTask.objects.exists()
    again = api.post(
        f"/api/v1/orders/{order['id']}/cancel/", {"reason": "again"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "order_transition_refused"


def test_cancelled_after_picking_the_units_come_back_only_once_put_away(api, network):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 2)
    order = api.post(
        "/api/v1/orders/",
        web_order(
            method="pickup",
            pickup_location="LON-OXF",
            lines=[{"sku": network["tee_sold"].code, "quantity": 2}],
        ),
        format="json",
    ).json()
    picked = api.post(f"/api/v1/orders/{order['id']}/pick/", {}, format="json").json()
    assert picked["status"] == "in_progress"
    assert (balance_of(tee, store).committed, balance_of(tee, store).picked) == (0, 2)

    cancelled = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"reason": "Customer cancelled by phone"},
        format="json",
    ).json()

    assert cancelled["status"] == "cancelled"
    assert available(tee, store) == 0, (
        "the units sit in the pickup-hold area, not on the shelf"
    )
    [task] = cancelled["return_to_stock_tasks"]
    assert (task["sku"], task["location"], task["quantity"], task["status"]) == (
        "TEE-BLK-M",
        "LON-OXF",
        2,
        "open",
    )
    listed = api.get(
        "/api/v1/return-to-stock-tasks/?location=LON-OXF&status=open"
    ).json()
    assert [t["id"] for t in listed["results"]] == [task["id"]]

    confirmed = api.post(f"/api/v1/return-to-stock-tasks/{task['id']}/confirm/")

    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "put_away"
    assert confirmed.json()["put_away_by"] == "token:erp"
    assert available(tee, store) == 2
    api.post(f"/api/v1/return-to-stock-tasks/{task['id']}/confirm/")
    assert available(tee, store) == 2, "confirming twice puts nothing back twice"
    timeline = api.get(f"/api/v1/orders/{order['id']}/").json()["timeline"]
    assert timeline[-1]["kind"] == "put_away"


def test_a_pickup_order_is_picked_made_ready_collected_and_closed(api, network):
    tee, store = network["tee"], network["camden"]
    stock(tee, store, 4)
    order = api.post(
        "/api/v1/orders/",
        web_order(
            method="pickup",
            pickup_location="LON-CAM",
            lines=[{"sku": network["tee_sold"].code, "quantity": 3}],
            promised_by="2026-11-24T16:00:00Z",
        ),
        format="json",
    ).json()
    path = f"/api/v1/orders/{order['id']}"
    line = order["lines"][0]["id"]

    early = api.post(f"{path}/ready/", {}, format="json")
    assert early.status_code == 409
    api.post(f"{path}/pick/", {"lines": [{"line": line, "quantity": 1}]}, format="json")
    assert api.post(f"{path}/ready/", {}, format="json").status_code == 409, (
        "two units still on the shelf"
    )
    api.post(f"{path}/pick/", {}, format="json")
    assert api.post(f"{path}/ready/", {}, format="json").json()["status"] == "ready"
    assert api.post(f"{path}/ship/", {}, format="json").status_code == 409, (
        "a pickup is collected"
    )
    collected = api.post(f"{path}/collect/", {}, format="json").json()
    closed = api.post(f"{path}/close/", {}, format="json").json()

    assert collected["status"] == "collected"
    assert closed["status"] == "closed"
    assert closed["promised_by"] == "2026-11-24T16:00:00Z"
    assert as_sold(closed) == [sold(network, "tee")]
    assert kits_of(closed) == kits_sold(network, ("tee", "LON-CAM", 3, 0, 0, 3))
    balance = balance_of(tee, store)
    assert (balance.on_hand, balance.committed, balance.picked, balance.available) == (
        1,
        0,
        0,
        1,
    )
    statuses = [
        (e["from_status"], e["to_status"]) for e in closed["timeline"] if e["to_status"]
    ]
    assert statuses == [
        ("", "placed"),
        ("placed", "allocated"),
        ("allocated", "in_progress"),
        ("in_progress", "ready"),
        ("ready", "collected"),
        ("collected", "closed"),
    ]


def test_shipping_in_two_parcels(api, network):
    tee, hoodie, dc = network["tee"], network["hoodie"], network["dc"]
    stock(tee, dc, 5)
    stock(hoodie, dc, 5)
    order = api.post(
        "/api/v1/orders/",
        web_order(
            lines=[
                {"sku": network["tee_sold"].code, "quantity": 2},
                {"sku": network["hoodie_sold"].code, "quantity": 1},
            ]
        ),
        format="json",
    ).json()
    tee_line = order["lines"][0]["id"]

    first = api.post(
        f"/api/v1/orders/{order['id']}/ship/",
        {
            "lines": [{"line": tee_line}],
            "carrier": "DPD",
            "tracking_reference": "15501234",
        },
        format="json",
    ).json()
    assert first["status"] == "partially_shipped"
    assert first["timeline"][-1]["detail"]["tracking_reference"] == "15501234"
    rest = api.post(f"/api/v1/orders/{order['id']}/ship/", {}, format="json").json()

    assert rest["status"] == "shipped"
    assert [line["status"] for line in rest["lines"]] == ["fulfilled", "fulfilled"]
    assert as_sold(rest) == [sold(network, "tee"), sold(network, "hoodie")]
    assert kits_of(rest) == kits_sold(
        network, ("tee", "DC-NORTH", 2, 0, 0, 2), ("hoodie", "DC-NORTH", 1, 0, 0, 1)
    )
    assert (balance_of(tee, dc).on_hand, balance_of(tee, dc).committed) == (3, 0)


def test_a_request_reference_makes_a_partial_cancel_safe_to_resend(api, network):
    tee, store = network["tee"], network["oxford_st"]
    stock(tee, store, 5)
    order = api.post(
        "/api/v1/orders/",
        web_order(
            lines=[
                {"sku": network["tee_sold"].code, "quantity": 3, "location": "LON-OXF"}
            ]
        ),
        format="json",
    ).json()
    body = {
        "lines": [{"line": order["lines"][0]["id"], "quantity": 1}],
        "reason": "Out of budget",
        "request_reference": "CANCEL-77",
    }

    for _ in range(3):
        assert (
            api.post(
                f"/api/v1/orders/{order['id']}/cancel/", body, format="json"
            ).status_code
            == 200
        )

    assert balance_of(tee, store).committed == 2
    clash = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {**body, "reason": "other"},
        format="json",
    )
    assert clash.status_code == 409
    assert clash.json()["code"] == "request_reference_clash"


def test_a_short_pickup_store_names_the_nearest_stores_that_can_fill_it(api, network):
    tee = network["tee"]
    stock(tee, network["oxford_st"], 1)
    stock(tee, network["camden"], 3)
    stock(tee, network["brighton"], 3)

    answer = api.post(
        "/api/v1/orders/",
        web_order(
            method="pickup",
            pickup_location="LON-OXF",
            lines=[{"sku": network["tee_sold"].code, "quantity": 2}],
        ),
        format="json",
    )

    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "insufficient_stock"
    assert body["shortages"] == [
        {
            "sku": "TEE-BLK-M",
            "location": "LON-OXF",
            "requested": 2,
            "available_to_promise": 1,
            # Which kits of the order needed the tee there (said only for a kit).
            **needing(network, "tee"),
        }
    ]
    assert [store["location"] for store in body["nearest_stores"]] == [
        "LON-CAM",
        "BRI-NST",
    ]
    assert Order.objects.count() == 0
    assert available(tee, network["oxford_st"]) == 1


def test_channel_bound_tokens_see_and_place_only_their_own_orders(network, api):
    from tests.conftest import client_for
    from tests.factories import ApiTokenFactory, ChannelFactory

    ChannelFactory(code="app", kind="web")
    stock(network["tee"], network["dc"], 5)
    api.post(
        "/api/v1/orders/",
        web_order(lines=[{"sku": network["tee_sold"].code, "quantity": 1}]),
        format="json",
    )
    _, raw = ApiTokenFactory.issue(name="app-shop", channel_code="app")
    app = client_for(raw)

    assert app.get("/api/v1/orders/").json()["results"] == []
    refused = app.post(
        "/api/v1/orders/",
        web_order("APP-1", lines=[{"sku": network["tee_sold"].code, "quantity": 1}]),
        format="json",
    )
    assert refused.status_code == 403
    body = web_order("APP-1", lines=[{"sku": network["tee_sold"].code, "quantity": 1}])
    del body["channel"]
    placed = app.post("/api/v1/orders/", body, format="json")
    assert placed.status_code == 201
    assert placed.json()["channel"] == "app"
    assert placed.json()["timeline"][0]["source"] == "app"


def test_orders_are_listed_by_channel_status_location_and_date(api, network):
    stock(network["tee"], network["dc"], 5)
    api.post(
        "/api/v1/orders/",
        web_order("W-1", lines=[{"sku": network["tee_sold"].code, "quantity": 1}]),
        format="json",
    )
    stock(network["tee"], network["camden"], 5)
    pickup = api.post(
        "/api/v1/orders/",
        web_order(
            "W-2",
            method="pickup",
            pickup_location="LON-CAM",
            lines=[{"sku": network["tee_sold"].code, "quantity": 1}],
        ),
        format="json",
    ).json()
    api.post(
        f"/api/v1/orders/{pickup['id']}/cancel/", {"reason": "test"}, format="json"
    )

    def refs(query):
        return [
            o["reference"]
            for o in api.get(f"/api/v1/orders/?{query}").json()["results"]
        ]

    assert refs("channel=web") == ["W-2", "W-1"]
    assert refs("status=cancelled") == ["W-2"]
    assert refs("status=allocated&status=cancelled") == ["W-2", "W-1"]
    assert refs("location=DC-NORTH") == ["W-1"]
    assert refs("location=LON-CAM") == ["W-2"]
    assert refs("since=2000-01-01T00:00:00Z") == ["W-2", "W-1"]
    assert refs("until=2000-01-01T00:00:00Z") == []


def test_routing_keeps_a_stores_walk_in_units_and_its_daily_capacity(api, network):
    tee, camden, dc = network["tee"], network["camden"], network["dc"]
    camden.walk_in_buffer = 2
    camden.daily_order_capacity = 2
    camden.save()
    stock(tee, camden, 5)
    stock(tee, dc, 20)

    def order_of(reference, quantity):
        return api.post(
            "/api/v1/orders/",
            web_order(
                reference,
                lines=[{"sku": network["tee_sold"].code, "quantity": quantity}],
            ),
            format="json",
        ).json()

    walk_in = order_of("W-1", 4)
    near = order_of("W-2", 2)
    full = order_of("W-3", 1)

    # 5 on the shelf, 2 kept for walk-ins: 4 is too many for Camden, 2 is not.
    assert walk_in["lines"][0]["location"] == "DC-NORTH"
    why = {c["location"]: c["ruled_out"] for c in walk_in["routing"]["candidates"]}
    # A kit line goes whole from one location: Camden's 3 tees fill none of 4 kits.
    kits = network["tee_sold"].is_kit
    can, counted = (0, "items (a kit counts as one)") if kits else (3, "units")
    assert why["LON-CAM"] == (
        f"not enough stock: {can} of 4 {counted} (walk-in units kept back)"
    )
    assert near["lines"][0]["location"] == "LON-CAM"
    assert (
        "LON-CAM fills the whole order and wins on distance"
        in near["routing"]["reason"]
    )
    # Camden takes two orders a day: W-2 and W-3.
    assert full["lines"][0]["location"] == "LON-CAM"
    fourth = order_of("W-4", 1)
    assert fourth["lines"][0]["location"] == "DC-NORTH"
    why = {c["location"]: c["ruled_out"] for c in fourth["routing"]["candidates"]}
    assert why["LON-CAM"] == "over capacity: 2 of 2 orders today"
    assert balance_of(tee, camden).available == 2, "the walk-in units are still there"


def test_a_split_order_shows_one_fulfilment_per_location(api, network):
    tee, hoodie = network["tee"], network["hoodie"]
    stock(tee, network["camden"], 1)
    stock(hoodie, network["oxford_st"], 1)

    order = api.post(
        "/api/v1/orders/",
        web_order(
            lines=[
                {"sku": network["tee_sold"].code, "quantity": 1},
                {"sku": network["hoodie_sold"].code, "quantity": 1},
            ]
        ),
        format="json",
    ).json()

    assert order["routing"]["split"] is True
    assert order["routing"]["reason"].startswith(
        "No single location can fill the whole order"
    )
    assert sorted((f["location"], f["units"]) for f in order["fulfilments"]) == [
        ("LON-CAM", 1),
        ("LON-OXF", 1),
    ]
