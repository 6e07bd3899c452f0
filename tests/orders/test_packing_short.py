"""A short at packing: the packer of a shipped order cannot find a unit, or finds it
damaged. The shelf is corrected, an *item not found* case opens, and the unit is
re-routed to the next best location that has it, or waits for a person's decision
(ship later, substitute, cancel).

The shop floor: Oxford Street and Camden (stores that ship), a distribution centre
in Birmingham, the web shop, and a customer in Islington. Oxford Street is nearest,
so a routed order ships from it whenever it has the units."""

from decimal import Decimal

import pytest

from config.access import Actor
from config.errors import Conflict, NotFound
from inventory.models import StockMovement
from orders import services as orders
from orders.models import Order, OrderEvent, OrderLine, PackingProblem
from orders.services.packing import packing_report_short
from orders.services.packing_decisions import (
    packing_problem_cancel,
    packing_problem_ship_later,
    packing_problem_substitute,
)
from reconciliation.models import ExceptionCase
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    balance_of,
    kit,
    stock,
)

pytestmark = pytest.mark.django_db
WEB_SHOP = Actor(name="token:web-shop", source="web")
ISLINGTON = orders.Delivery(
    address="1 Upper Street",
    city="London",
    postal_code="N1 0PN",
    country="GB",
    latitude=51.5362,
    longitude=-0.1033,
)


@pytest.fixture
def floor(shop):
    dc = LocationFactory(
        code="DC-NORTH",
        name="DC North",
        kind="distribution_centre",
        latitude=Decimal("52.4862"),
        longitude=Decimal("-1.8904"),
    )
    return {**shop, "dc": dc}


def shipped_order(floor, reference="WEB-7001", quantity=1, method="ship", at=None):
    order, _ = orders.order_place(
        channel=floor["web"],
        reference=reference,
        method=method,
        customer=orders.Customer(name="Ada Byron", email="ada@example.com"),
        actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=floor["tee"], quantity=quantity, location=at)],
        delivery=ISLINGTON,
    )
    return order


def alice(floor):
    return Actor.of_user(floor["alice"], source="store")


def the_line(order):
    return order.lines.get()


def written():
    """Every row a report or a decision could write."""
    return (
        StockMovement.objects.count(),
        OrderEvent.objects.count(),
        OrderLine.objects.count(),
        Order.objects.count(),
        PackingProblem.objects.count(),
        ExceptionCase.objects.count(),
    )


def test_a_unit_not_found_at_the_store_is_sent_from_the_warehouse(floor):
    """Alice packs WEB-7001 at Oxford Street and cannot find the tee. The shelf is
    corrected there, a case opens for someone to look for it, and the distribution
    centre, the only other place with one, sends it instead: a new line committed
    there, the routing decision on the order's timeline again."""
    stock(floor["tee"], floor["oxford"], 1)
    stock(floor["tee"], floor["dc"], 5)
    order = shipped_order(floor)
    line = the_line(order)
    assert line.location == floor["oxford"]

    problem = packing_report_short(
        order_id=order.pk,
        line_id=line.pk,
        quantity=1,
        condition="not_found",
        note="Not on the shelf or in the back",
        actor=alice(floor),
    )

    oxford = balance_of(floor["tee"], floor["oxford"])
    assert (oxford.on_hand, oxford.committed) == (0, 0)
    assert balance_of(floor["tee"], floor["dc"]).committed == 1
    problem.refresh_from_db()
    assert (problem.status, problem.resolution) == ("resolved", "rerouted")
    new_line = problem.rerouted_line
    assert (new_line.location, new_line.quantity, new_line.status) == (
        floor["dc"],
        1,
        "allocated",
    )
    line.refresh_from_db()
    assert (line.cancelled_quantity, line.short_quantity, line.status) == (
        1,
        0,
        "cancelled",
    )
    order.refresh_from_db()
    assert order.status == "allocated"
    rerouted = order.events.get(kind="rerouted")
    assert rerouted.detail["allocations"] == [{"location": "DC-NORTH", "units": 1}]
    assert rerouted.detail["to_line"] == new_line.pk
    assert "DC-NORTH is the only location that can fill the whole order" in (
        rerouted.note
    )
    cancelled = order.events.get(kind="cancelled")
    assert cancelled.detail["served_by"] == "rerouted"  # no sale lost
    case = ExceptionCase.objects.get(key=f"packing_problem:{problem.pk}")
    assert (case.kind, case.status, case.location) == (
        "item_not_found",
        "open",
        floor["oxford"],
    )
    assert "WEB-7001" in case.title
    assert case.link == "/store/packing/?location=LON-OXF"


def test_the_reroute_takes_the_nearest_other_store_and_keeps_its_walk_in_units(
    floor,
):
    """Camden is nearer than the warehouse (and than Oxford Street) but keeps 2 tees
    for walk-in customers: with 2 on its shelf it has none to send, and the
    warehouse sends it; with 3 it sends one."""
    stock(floor["tee"], floor["oxford"], 2)
    stock(floor["tee"], floor["camden"], 2)
    stock(floor["tee"], floor["dc"], 5)
    floor["camden"].walk_in_buffer = 2
    floor["camden"].save()
    first = shipped_order(floor, "WEB-7002")
    problem = packing_report_short(
        order_id=first.pk,
        line_id=the_line(first).pk,
        quantity=1,
        condition="damaged",
        actor=alice(floor),
    )
    assert problem.rerouted_line.location == floor["dc"]
    verdicts = {v["location"]: v for v in problem.routing["candidates"]}
    assert "walk-in units kept back" in verdicts["LON-CAM"]["ruled_out"]
    assert "LON-OXF" not in verdicts  # the location that was short is no candidate

    stock(floor["tee"], floor["oxford"], 1)
    stock(floor["tee"], floor["camden"], 1)
    second = shipped_order(floor, "WEB-7003", at=floor["oxford"])
    problem = packing_report_short(
        order_id=second.pk,
        line_id=the_line(second).pk,
        quantity=1,
        condition="damaged",
        actor=alice(floor),
    )
    assert problem.rerouted_line.location == floor["camden"]


def test_damaged_units_are_a_known_fact_no_case(floor):
    stock(floor["tee"], floor["oxford"], 1)
    stock(floor["tee"], floor["dc"], 1)
    order = shipped_order(floor)
    packing_report_short(
        order_id=order.pk,
        line_id=the_line(order).pk,
        quantity=1,
        condition="damaged",
        actor=alice(floor),
    )
    oxford = balance_of(floor["tee"], floor["oxford"])
    assert (oxford.on_hand, oxford.damaged, oxford.committed) == (1, 1, 0)
    assert not ExceptionCase.objects.exists()


def nobody_else_has_it(floor, reference="WEB-7101", quantity=1):
    """Oxford Street has the only tees; Alice cannot find one of them."""
    stock(floor["tee"], floor["oxford"], quantity)
    order = shipped_order(floor, reference, quantity=quantity)
    problem = packing_report_short(
        order_id=order.pk,
        line_id=the_line(order).pk,
        quantity=1,
        condition="not_found",
        actor=alice(floor),
    )
    return order, problem


def test_nobody_else_has_it_the_problem_waits_for_a_person(floor):
    order, problem = nobody_else_has_it(floor)
    problem.refresh_from_db()
    assert (problem.status, problem.resolution) == ("open", "")
    assert problem.routing["rerouted"] is False
    assert (
        problem.routing["reason"] == "No other location has 1 unit of TEE-BLK-M to send"
    )
    line = the_line(order)
    assert (line.short_quantity, line.status) == (1, "short")
    assert not order.events.filter(kind="rerouted").exists()
    assert ExceptionCase.objects.filter(kind="item_not_found").count() == 1


def test_ship_later_places_a_follow_up_order_to_the_same_address(floor):
    """Nobody has it now; the warehouse receives some before Alice decides: it is
    shipped to the customer later, on an order of its own."""
    order, problem = nobody_else_has_it(floor)
    before = written()
    with pytest.raises(Conflict) as refused:
        packing_problem_ship_later(problem_id=problem.pk, actor=alice(floor))
    assert refused.value.code == "insufficient_stock"
    assert "No location can ship 1 × TEE-BLK-M" in refused.value.message
    assert written() == before

    stock(floor["tee"], floor["dc"], 3)
    packing_problem_ship_later(problem_id=problem.pk, actor=alice(floor))

    problem.refresh_from_db()
    follow_up = problem.follow_up_order
    assert (problem.status, problem.resolution) == ("resolved", "ship_later")
    assert follow_up.reference == f"WEB-7101-L{problem.pk}"
    assert (follow_up.delivery_postal_code, follow_up.customer_name) == (
        "N1 0PN",
        "Ada Byron",
    )
    assert [(x.location, x.quantity) for x in follow_up.lines.all()] == [
        (floor["dc"], 1)
    ]
    assert balance_of(floor["tee"], floor["dc"]).committed == 1
    order.refresh_from_db()
    assert order.status == "cancelled"  # its only unit ships on the follow-up
    assert order.events.get(kind="cancelled").detail["served_by"] == "later_delivery"


def test_a_substitute_the_customer_accepts_is_added_where_it_is(floor):
    order, problem = nobody_else_has_it(floor, quantity=2)
    stock(floor["polo"], floor["camden"], 4)
    packing_problem_substitute(
        problem_id=problem.pk,
        actor=alice(floor),
        substitute=floor["polo"],
        customer_answer="accepted",
    )
    problem.refresh_from_db()
    assert (problem.resolution, problem.customer_answer) == ("substitute", "accepted")
    polo = order.lines.get(sku=floor["polo"])
    assert (polo.location, polo.quantity) == (floor["camden"], 1)
    assert balance_of(floor["polo"], floor["camden"]).committed == 1
    tee = order.lines.get(sku=floor["tee"])
    assert (tee.quantity, tee.cancelled_quantity, tee.short_quantity) == (2, 1, 0)
    assert order.events.get(kind="cancelled").detail["served_by"] == "substitute"


def test_a_substitute_the_customer_declines_cancels_the_units(floor):
    order, problem = nobody_else_has_it(floor)
    packing_problem_substitute(
        problem_id=problem.pk,
        actor=alice(floor),
        substitute=floor["polo"],
        customer_answer="declined",
    )
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert not order.lines.filter(sku=floor["polo"]).exists()
    assert "served_by" not in order.events.get(kind="cancelled").detail  # lost


def test_cancel_and_a_second_decision_is_refused(floor):
    order, problem = nobody_else_has_it(floor, quantity=2)
    packing_problem_cancel(problem_id=problem.pk, actor=alice(floor))
    line = the_line(order)
    assert (line.cancelled_quantity, line.short_quantity, line.status) == (
        1,
        0,
        "allocated",
    )
    oxford = balance_of(floor["tee"], floor["oxford"])
    assert (oxford.on_hand, oxford.committed) == (1, 1)
    before = written()
    with pytest.raises(Conflict) as refused:
        packing_problem_cancel(problem_id=problem.pk, actor=alice(floor))
    assert refused.value.code == "packing_problem_transition_refused"
    assert written() == before


def test_a_packer_at_another_store_cannot_report_or_decide(floor):
    """Carol works at Camden: Oxford Street's order is not found for her."""
    order, problem = nobody_else_has_it(floor)
    carol = Actor.of_user(floor["carol"], source="store")
    before = written()
    with pytest.raises(NotFound):
        packing_problem_cancel(problem_id=problem.pk, actor=carol)
    assert written() == before


# ---------------------------------------------------------------- the API


def report(api, order, body):
    return api.post(f"/api/v1/orders/{order.pk}/report-short/", body, format="json")


def test_the_api_reports_a_short_and_answers_the_order_with_its_problem(floor, api):
    stock(floor["tee"], floor["oxford"], 1)
    stock(floor["tee"], floor["dc"], 1)
    order = shipped_order(floor)
    line = the_line(order)
    body = {
        "line": line.pk,
        "quantity": 1,
        "condition": "not_found",
        "note": "Empty bin",
        "request_reference": "pack-1",
    }
    answer = report(api, order, body)
    assert answer.status_code == 200, answer.json()
    shown = answer.json()
    (problem,) = shown["packing_problems"]
    assert problem["status"] == "resolved"
    assert (problem["resolution"], problem["rerouted_to"]) == ("rerouted", "DC-NORTH")
    assert problem["routing"]["allocations"] == [{"location": "DC-NORTH", "units": 1}]
    assert [x["kind"] for x in shown["timeline"]][-4:] == [
        "short",
        "rerouted",
        "line_added",
        "cancelled",
    ]
    short = next(x for x in shown["timeline"] if x["kind"] == "short")
    assert short["request_reference"] == "pack-1"

    before = written()
    again = report(api, order, body)
    assert again.status_code == 200
    assert again.json()["packing_problems"] == shown["packing_problems"]
    assert written() == before
    clash = report(api, order, {**body, "note": "Another note"})
    assert clash.status_code == 409
    assert clash.json()["code"] == "request_reference_clash"
    assert written() == before


def test_the_api_decides_an_open_problem(floor, api):
    order, problem = nobody_else_has_it(floor)
    stock(floor["polo"], floor["oxford"], 1)
    url = f"/api/v1/orders/{order.pk}/packing-problems/{problem.pk}/decide/"
    missing = api.post(url, {"decision": "substitute"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()) >= {"substitute", "customer_answer"}
    unknown = api.post(
        url,
        {"decision": "substitute", "substitute": "NOPE", "customer_answer": "accepted"},
        format="json",
    )
    assert unknown.status_code == 400
    assert unknown.json()["substitute"] == ["Unknown SKU 'NOPE'."]
    body = {
        "decision": "substitute",
        "substitute": "POLO-BLU-M",
        "customer_answer": "accepted",
        "request_reference": "decide-1",
    }
    answer = api.post(url, body, format="json")
    assert answer.status_code == 200, answer.json()
    (shown,) = answer.json()["packing_problems"]
    assert (shown["resolution"], shown["substitute"]) == ("substitute", "POLO-BLU-M")
    before = written()
    assert api.post(url, body, format="json").status_code == 200  # sent again
    cancel = api.post(url, {"decision": "cancel"}, format="json")
    assert cancel.status_code == 409
    assert cancel.json()["code"] == "packing_problem_transition_refused"
    assert written() == before
    elsewhere = api.post(
        f"/api/v1/orders/{order.pk}/packing-problems/999999/decide/",
        {"decision": "cancel"},
        format="json",
    )
    assert elsewhere.status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"line": None, "quantity": 1, "condition": "not_found"}, "line"),
        ({"line": 0, "quantity": 1, "condition": "not_found"}, "line"),
        ({"quantity": 0, "condition": "not_found"}, "quantity"),
        ({"quantity": "1", "condition": "not_found"}, "quantity"),
        ({"quantity": 2, "condition": "not_found"}, "quantity"),  # over the shelf's
        ({"quantity": 1, "condition": "lost"}, "condition"),
        ({"quantity": 1}, "condition"),
        ({"quantity": 1, "condition": "damaged", "colour": "red"}, "colour"),
        ({"quantity": 1, "condition": "damaged", "note": "x" * 301}, "note"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    floor, api, body, field
):
    stock(floor["tee"], floor["oxford"], 1)
    order = shipped_order(floor)
    body = {"line": the_line(order).pk, **body}
    if body["line"] is None:
        del body["line"]
    before = written()
    answer = report(api, order, body)
    assert answer.status_code == 400
    assert field in answer.json()
    assert written() == before


def test_a_line_of_another_order_is_a_400(floor, api):
    stock(floor["tee"], floor["oxford"], 2)
    order = shipped_order(floor)
    other = shipped_order(floor, "WEB-7999")
    before = written()
    answer = report(
        api, order, {"line": the_line(other).pk, "quantity": 1, "condition": "damaged"}
    )
    assert answer.status_code == 400
    assert answer.json()["line"] == [f"No line {the_line(other).pk} on this order."]
    assert written() == before


def test_a_pickup_order_is_reported_on_its_task_not_here(floor, api):
    stock(floor["tee"], floor["oxford"], 1)
    order, _ = orders.order_place(
        channel=floor["web"],
        reference="WEB-7201",
        method="pickup",
        customer=orders.Customer(name="Ada Byron"),
        actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=floor["tee"], quantity=1)],
        pickup_location=floor["oxford"],
    )
    before = written()
    answer = report(
        api, order, {"line": the_line(order).pk, "quantity": 1, "condition": "damaged"}
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "packing_refused"
    assert "pickup task" in answer.json()["detail"]
    assert written() == before


def test_a_shipped_order_has_nothing_left_to_pack(floor, api):
    stock(floor["tee"], floor["oxford"], 1)
    order = shipped_order(floor)
    orders.order_ship(order_id=order.pk, lines=None, actor=WEB_SHOP)
    before = written()
    answer = report(
        api, order, {"line": the_line(order).pk, "quantity": 1, "condition": "damaged"}
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "packing_refused"
    assert written() == before


def test_another_channels_order_is_not_found(floor):
    stock(floor["tee"], floor["oxford"], 1)
    order = shipped_order(floor)
    ChannelFactory(code="app", kind="app")
    _, raw = ApiTokenFactory.issue(name="app-shop", channel_code="app")
    before = written()
    answer = report(
        client_for(raw),
        order,
        {"line": the_line(order).pk, "quantity": 1, "condition": "damaged"},
    )
    assert answer.status_code == 404
    assert written() == before


def test_a_kit_part_is_not_split_off_by_itself(floor):
    """A kit's part short at the store waits for a person: the kit is not split
    across locations behind anyone's back."""
    bundle = kit("TEE-PAIR", (floor["tee"], 2))
    stock(floor["tee"], floor["oxford"], 2)
    stock(floor["tee"], floor["dc"], 9)
    order, _ = orders.order_place(
        channel=floor["web"],
        reference="WEB-7301",
        method="ship",
        customer=orders.Customer(name="Ada Byron"),
        actor=WEB_SHOP,
        lines=[orders.OrderLineInput(sku=bundle, quantity=1, location=floor["oxford"])],
        delivery=ISLINGTON,
    )
    problem = packing_report_short(
        order_id=order.pk,
        line_id=the_line(order).pk,
        quantity=1,
        condition="damaged",
        actor=alice(floor),
    )
    assert problem.status == "open"
    assert problem.routing["reason"].startswith("Part of kit TEE-PAIR")
