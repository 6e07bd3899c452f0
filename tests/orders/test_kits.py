"""Kits on orders: a camera sold with its lens while the shelves hold the parts. An
order of a kit commits every component or nothing, counts a component the cart asks
for twice as one check, is routed whole to one location, and is cancelled in whole
kits."""

import pytest
from rest_framework.test import APIClient

from inventory.models import RefusedDemand, StockMovement
from orders.models import Order, OrderKitLine, OrderLine
from tests.factories import ApiTokenFactory, Holds, SkuFactory, balance_of, kit
from tests.orders.conftest import stock, web_order
from tests.threads import all_at_once


@pytest.fixture
def camera(network):
    """A camera body sold with two 50 mm lenses (CAM-KIT), and alone."""
    body = SkuFactory(code="BODY-X", name="Camera body X")
    lens = SkuFactory(code="LENS-50", name="Lens 50 mm")
    return {
        **network,
        "body": body,
        "lens": lens,
        "kit": kit("CAM-KIT", (body, 1), (lens, 2), name="Camera kit"),
    }


def committed(sku, location):
    return balance_of(sku, location).committed


def pickup(reference="WEB-K1", **lines):
    return web_order(
        reference,
        method="pickup",
        pickup_location="LON-OXF",
        lines=[{"sku": sku, "quantity": qty} for sku, qty in lines.items()],
    )


def kit_order(reference, *lines, method="ship"):
    return web_order(
        reference,
        method=method,
        lines=[
            {"sku": sku, "quantity": qty, **({"location": at} if at else {})}
            for sku, qty, at in lines
        ],
    )


def test_a_kit_ordered_for_pickup_commits_each_component_at_the_store(api, camera):
    store = camera["oxford_st"]
    stock(camera["body"], store, 2)
    stock(camera["lens"], store, 3)

    answer = api.post("/api/v1/orders/", pickup(**{"CAM-KIT": 1}), format="json")

    assert answer.status_code == 201, answer.json()
    order = answer.json()
    (kit_line,) = order["kit_lines"]
    assert (kit_line["sku"], kit_line["location"], kit_line["quantity"]) == (
        "CAM-KIT",
        "LON-OXF",
        1,
    )
    assert (kit_line["open_kits"], kit_line["cancelled_kits"]) == (1, 0)
    shown = {
        line["sku"]: (line["quantity"], line["per_kit"], line["kit_line"])
        for line in order["lines"]
    }
    assert shown == {
        "BODY-X": (1, 1, kit_line["id"]),
        "LENS-50": (2, 2, kit_line["id"]),
    }
    assert sorted(kit_line["lines"]) == sorted(line["id"] for line in order["lines"])
    assert committed(camera["body"], store) == 1
    assert committed(camera["lens"], store) == 2
    assert balance_of(camera["lens"], store).available == 1
    placed = order["timeline"][0]
    assert placed["kind"] == "placed"
    assert placed["detail"]["kits"] == [
        {
            "kit_line": kit_line["id"],
            "sku": "CAM-KIT",
            "location": "LON-OXF",
            "quantity": 1,
            "components": [
                {"line": line["id"], "sku": line["sku"], "per_kit": line["per_kit"]}
                for line in order["lines"]
            ],
        }
    ]


def test_a_component_short_refuses_the_kit_and_commits_nothing(api, camera):
    store = camera["oxford_st"]
    stock(camera["body"], store, 5)
    stock(camera["lens"], store, 1)

    answer = api.post("/api/v1/orders/", pickup(**{"CAM-KIT": 1}), format="json")

    assert answer.status_code == 409, answer.json()
    assert answer.json()["code"] == "insufficient_stock"
    assert answer.json()["shortages"] == [
        {
            "sku": "LENS-50",
            "location": "LON-OXF",
            "requested": 2,
            "available_to_promise": 1,
            "kit": "CAM-KIT",
            "kits": ["CAM-KIT"],
        }
    ]
    assert not Order.objects.exists()
    assert not OrderKitLine.objects.exists()
    assert committed(camera["body"], store) == 0
    assert committed(camera["lens"], store) == 0
    assert not StockMovement.objects.filter(type="commit").exists()
    refused = RefusedDemand.objects.get()
    assert (refused.sku.code, refused.requested, refused.available) == (
        "LENS-50",
        2,
        1,
    )


def test_a_kit_and_the_same_lens_besides_are_one_check_of_three_lenses(api, camera):
    """Three lenses on the shelf, one kept back as the lens's buffer: the kit's two
    and the lens bought alone are three, and only two can be promised."""
    store, lens = camera["oxford_st"], camera["lens"]
    lens.safety_buffer = 1
    lens.save()
    stock(camera["body"], store, 1)
    stock(lens, store, 3)
    body = kit_order("WEB-K2", ("CAM-KIT", 1, "LON-OXF"), ("LENS-50", 1, "LON-OXF"))

    refused = api.post("/api/v1/orders/", body, format="json")

    assert refused.status_code == 409, refused.json()
    assert refused.json()["shortages"] == [
        {
            "sku": "LENS-50",
            "location": "LON-OXF",
            "requested": 3,
            "available_to_promise": 2,
            "kit": "CAM-KIT",
            "kits": ["CAM-KIT"],
        }
    ]
    assert committed(lens, store) == 0

    stock(lens, store, 1)
    placed = api.post("/api/v1/orders/", body, format="json")

    assert placed.status_code == 201, placed.json()
    lines = placed.json()["lines"]
    assert sorted((x["sku"], x["quantity"], x["per_kit"]) for x in lines) == [
        ("BODY-X", 1, 1),
        ("LENS-50", 1, None),
        ("LENS-50", 2, 2),
    ]
    balance = balance_of(lens, store)
    assert (balance.committed, balance.available) == (3, 1)


def test_two_kits_sharing_a_lens_are_checked_together(api, camera):
    store, lens = camera["oxford_st"], camera["lens"]
    bag = SkuFactory(code="BAG-S")
    kit("TRAVEL-KIT", (lens, 1), (bag, 1))
    stock(camera["body"], store, 1)
    stock(bag, store, 1)
    stock(lens, store, 2)
    body = kit_order("WEB-K3", ("CAM-KIT", 1, "LON-OXF"), ("TRAVEL-KIT", 1, "LON-OXF"))

    refused = api.post("/api/v1/orders/", body, format="json")

    assert refused.status_code == 409
    (short,) = refused.json()["shortages"]
    assert (short["sku"], short["requested"], short["available_to_promise"]) == (
        "LENS-50",
        3,
        2,
    )
    assert sorted(short["kits"]) == ["CAM-KIT", "TRAVEL-KIT"]
    assert committed(lens, store) == 0

    stock(lens, store, 1)
    placed = api.post("/api/v1/orders/", body, format="json")

    assert placed.status_code == 201, placed.json()
    kits = {k["sku"]: k for k in placed.json()["kit_lines"]}
    assert set(kits) == {"CAM-KIT", "TRAVEL-KIT"}
    lens_lines = [x for x in placed.json()["lines"] if x["sku"] == "LENS-50"]
    assert sorted((x["quantity"], x["kit_line"]) for x in lens_lines) == sorted(
        [(2, kits["CAM-KIT"]["id"]), (1, kits["TRAVEL-KIT"]["id"])]
    )
    assert committed(lens, store) == 3


def test_a_kit_whose_component_is_no_longer_sold_is_refused(api, camera):
    camera["lens"].is_active = False
    camera["lens"].save()

    answer = api.post("/api/v1/orders/", pickup(**{"CAM-KIT": 1}), format="json")

    assert answer.status_code == 400
    (said,) = answer.json()["lines"][0]["sku"]
    assert "CAM-KIT" in said and "LENS-50" in said
    assert not Order.objects.exists()


def test_more_kits_than_a_line_may_take_is_a_400_not_a_shortage(api, camera):
    answer = api.post("/api/v1/orders/", pickup(**{"CAM-KIT": 600_000}), format="json")

    assert answer.status_code == 400
    (said,) = answer.json()["lines"][0]["sku"]
    assert "600000 kits take more than" in said and "LENS-50" in said
    assert not Order.objects.exists()


def test_a_routed_kit_goes_whole_to_one_location(api, camera):
    """One camera body at Oxford Street, lenses only at the DC: no location has a
    whole kit, so nothing is split and nothing is committed."""
    stock(camera["body"], camera["oxford_st"], 1)
    stock(camera["lens"], camera["oxford_st"], 1)
    stock(camera["lens"], camera["dc"], 5)

    answer = api.post(
        "/api/v1/orders/", kit_order("WEB-K4", ("CAM-KIT", 1, None)), format="json"
    )

    assert answer.status_code == 409, answer.json()
    assert answer.json()["shortages"] == [
        {
            "sku": "CAM-KIT",
            "location": None,
            "requested": 1,
            "available_to_promise": 0,
            "kit": "CAM-KIT",
            "kits": ["CAM-KIT"],
        }
    ]
    assert committed(camera["lens"], camera["dc"]) == 0

    stock(camera["body"], camera["dc"], 1)
    placed = api.post(
        "/api/v1/orders/", kit_order("WEB-K4", ("CAM-KIT", 1, None)), format="json"
    )

    assert placed.status_code == 201, placed.json()
    assert {x["location"] for x in placed.json()["lines"]} == {"DC-NORTH"}
    assert placed.json()["kit_lines"][0]["location"] == "DC-NORTH"


@pytest.mark.parametrize("split", [False, True])
def test_kits_are_split_across_locations_only_where_the_channel_allows(
    api, camera, split
):
    """Two kits ordered, one at each of two stores."""
    web = camera["web"]
    web.allow_kit_split = split
    web.save()
    for store in (camera["oxford_st"], camera["camden"]):
        stock(camera["body"], store, 1)
        stock(camera["lens"], store, 2)

    answer = api.post(
        "/api/v1/orders/", kit_order("WEB-K5", ("CAM-KIT", 2, None)), format="json"
    )

    if not split:
        assert answer.status_code == 409
        assert answer.json()["shortages"][0]["sku"] == "CAM-KIT"
        assert not Order.objects.exists()
        return
    assert answer.status_code == 201, answer.json()
    kits = answer.json()["kit_lines"]
    assert sorted((k["location"], k["quantity"]) for k in kits) == [
        ("LON-CAM", 1),
        ("LON-OXF", 1),
    ]
    for store in (camera["oxford_st"], camera["camden"]):
        assert committed(camera["lens"], store) == 2
        assert committed(camera["body"], store) == 1


def test_routing_counts_a_lens_once_for_the_kit_and_the_lens_besides(api, camera):
    """Oxford Street has a body and two lenses: a kit, but not a third lens too.
    The DC has the lens alone: the kit goes from the store, the lens from the DC."""
    stock(camera["body"], camera["oxford_st"], 1)
    stock(camera["lens"], camera["oxford_st"], 2)
    stock(camera["lens"], camera["dc"], 1)

    answer = api.post(
        "/api/v1/orders/",
        kit_order("WEB-K6", ("CAM-KIT", 1, None), ("LENS-50", 1, None)),
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    where = sorted(
        (x["sku"], x["location"], x["quantity"], x["per_kit"])
        for x in answer.json()["lines"]
    )
    assert where == [
        ("BODY-X", "LON-OXF", 1, 1),
        ("LENS-50", "DC-NORTH", 1, None),
        ("LENS-50", "LON-OXF", 2, 2),
    ]
    assert answer.json()["routing"]["split"] is True


def test_kits_are_cancelled_whole_and_part_of_one_is_refused(api, camera):
    store = camera["oxford_st"]
    stock(camera["body"], store, 2)
    stock(camera["lens"], store, 4)
    order = api.post("/api/v1/orders/", pickup(**{"CAM-KIT": 2}), format="json").json()
    kit_line = order["kit_lines"][0]["id"]
    lens = next(x["id"] for x in order["lines"] if x["sku"] == "LENS-50")

    refused = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"lines": [{"line": lens, "quantity": 1}], "reason": "One lens too many"},
        format="json",
    )

    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "kit_split_refused"
    assert refused.json()["kit"] == "CAM-KIT"
    assert "CAM-KIT" in refused.json()["detail"]
    assert committed(camera["lens"], store) == 4
    assert OrderLine.objects.filter(cancelled_quantity__gt=0).count() == 0

    # Both lenses of one kit, and its body: a whole kit, named line by line.
    body = next(x["id"] for x in order["lines"] if x["sku"] == "BODY-X")
    whole_by_lines = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {
            "lines": [{"line": lens, "quantity": 2}, {"line": body, "quantity": 1}],
            "reason": "One kit only",
            "request_reference": "cancel-1",
        },
        format="json",
    )
    assert whole_by_lines.status_code == 200, whole_by_lines.json()

    cancelled = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"lines": [{"kit_line": kit_line, "quantity": 1}], "reason": "No kit at all"},
        format="json",
    )

    assert cancelled.status_code == 200, cancelled.json()
    shown = cancelled.json()
    assert shown["status"] == "cancelled"
    assert shown["kit_lines"][0]["cancelled_kits"] == 2
    assert shown["kit_lines"][0]["open_kits"] == 0
    assert committed(camera["lens"], store) == 0
    assert committed(camera["body"], store) == 0


def test_asking_more_kits_than_are_open_is_a_400(api, camera):
    stock(camera["body"], camera["oxford_st"], 1)
    stock(camera["lens"], camera["oxford_st"], 2)
    order = api.post("/api/v1/orders/", pickup(**{"CAM-KIT": 1}), format="json").json()

    answer = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {
            "lines": [{"kit_line": order["kit_lines"][0]["id"], "quantity": 2}],
            "reason": "Too many",
        },
        format="json",
    )
    neither = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"lines": [{"quantity": 1}], "reason": "Nothing named"},
        format="json",
    )
    unknown = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"lines": [{"kit_line": 999999}], "reason": "Not ours"},
        format="json",
    )

    assert answer.status_code == 400
    assert "1 kit of this kit line can be cancelled" in str(answer.json())
    assert neither.status_code == 400
    assert unknown.status_code == 400
    assert "No kit line 999999" in str(unknown.json())
    assert committed(camera["lens"], camera["oxford_st"]) == 2


def test_a_channel_that_splits_kits_may_cancel_part_of_one(api, camera):
    camera["web"].allow_kit_split = True
    camera["web"].save()
    stock(camera["body"], camera["oxford_st"], 1)
    stock(camera["lens"], camera["oxford_st"], 2)
    order = api.post("/api/v1/orders/", pickup(**{"CAM-KIT": 1}), format="json").json()
    lens = next(x["id"] for x in order["lines"] if x["sku"] == "LENS-50")

    answer = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"lines": [{"line": lens, "quantity": 1}], "reason": "One lens only"},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert committed(camera["lens"], camera["oxford_st"]) == 1
    assert answer.json()["kit_lines"][0]["open_kits"] == 0


def test_an_order_from_a_hold_of_a_kit_keeps_its_kit_and_its_lens_besides(api, camera):
    store = camera["oxford_st"]
    stock(camera["body"], store, 1)
    stock(camera["lens"], store, 3)
    hold = Holds.place(
        channel=camera["web"],
        lines=[(camera["kit"], store, 1), (camera["lens"], store, 1)],
    )

    answer = api.post(
        "/api/v1/orders/", web_order("WEB-K7", reservation=hold.pk), format="json"
    )

    assert answer.status_code == 201, answer.json()
    order = answer.json()
    (kit_line,) = order["kit_lines"]
    assert (kit_line["sku"], kit_line["quantity"]) == ("CAM-KIT", 1)
    assert sorted(
        (x["sku"], x["quantity"], x["kit_line"] is not None) for x in order["lines"]
    ) == [("BODY-X", 1, True), ("LENS-50", 1, False), ("LENS-50", 2, True)]
    lens = balance_of(camera["lens"], store)
    assert (lens.reserved, lens.committed, lens.available) == (0, 3, 0)


@pytest.mark.django_db(transaction=True)
def test_two_buyers_race_for_the_last_kit_while_a_third_buys_its_lens(camera):
    """One body and three lenses: one kit (two lenses) and one lens alone can be
    sold, never two kits."""
    store = camera["oxford_st"]
    stock(camera["body"], store, 1)
    stock(camera["lens"], store, 3)
    _, raw = ApiTokenFactory.issue(name="web-shop")

    def buy(n):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        lines = {"LENS-50": 1} if n == 2 else {"CAM-KIT": 1}
        return client.post(
            "/api/v1/orders/", pickup(f"WEB-R{n}", **lines), format="json"
        )

    answers = all_at_once(3, buy)

    kit_answers = sorted(a.status_code for a in answers[:2])
    assert kit_answers == [201, 409]
    assert answers[2].status_code == 201, answers[2].json()
    assert Order.objects.count() == 2
    assert OrderKitLine.objects.count() == 1
    body, lens = balance_of(camera["body"], store), balance_of(camera["lens"], store)
    assert (body.committed, body.available) == (1, 0)
    assert (lens.committed, lens.available) == (3, 0)
