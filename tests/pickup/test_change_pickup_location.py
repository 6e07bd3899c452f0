"""A customer asks to collect at another store (Ada was to collect at Oxford Street,
she now wants Camden): the units move with the order, the task starts again at
Camden, and Ada is told; every refusal changes nothing. Told through the API, as a
web shop asks it, and through the service."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.access import Actor
from inventory.models import (
    StockBalance,
    StockMovement,
    TransferRequest,
    TransferRoute,
)
from inventory.selectors import pickup_ready_by
from inventory.services import allocation_set, balances_rebuild
from orders import services as orders
from orders.models import Order, OrderEvent, OrderLine, ReturnToStockTask
from pickup import services as pickup
from pickup.models import PickupNotice, PickupProblem, PickupTask
from pickup.selectors import problems_for, store_queue, task_lines
from reconciliation.models import ExceptionCase
from tests.conftest import client_for
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    StockEvents,
    pickup_order,
    ready_for_collection,
    reported_short,
    stock,
)

pytestmark = pytest.mark.django_db

Status = PickupTask.Status
MOVED = OrderEvent.Kind.PICKUP_LOCATION_CHANGED


def change_path(order) -> str:
    return f"/api/v1/orders/{order.pk}/change-pickup-location/"


def buckets(sku, location) -> tuple:
    """(on hand, committed, picked, available) of a SKU at a store."""
    found = StockBalance.objects.filter(sku=sku, location=location).first()
    if found is None:
        return (0, 0, 0, 0)
    return (found.on_hand, found.committed, found.picked, found.available)


def lane(shop, hours=24):
    """Oxford Street sends to Camden by van, next day."""
    return TransferRoute.objects.create(
        from_location=shop["oxford"], to_location=shop["camden"], lead_time_hours=hours
    )


def picked_one(shop, task):
    """Alice claims Ada's order at Oxford Street and picks one tee."""
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    line = task.order.lines.get(sku=shop["tee"])
    pickup.pickup_line_pick(task_id=task.pk, line_id=line.pk, actor=alice, quantity=1)


def written() -> tuple:
    """Everything a change of store writes, counted."""
    return (
        OrderEvent.objects.count(),
        StockMovement.objects.count(),
        StockBalance.objects.count(),
        TransferRequest.objects.count(),
        ReturnToStockTask.objects.count(),
        PickupProblem.objects.count(),
        PickupNotice.objects.count(),
    )


def test_moved_to_a_store_that_has_the_units(
    shop, api, django_capture_on_commit_callbacks
):
    """Camden has two tees, both kept for walk-in customers: Ada walks in there, so
    they are hers; Oxford Street's two go back on sale at once."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    camden.address, camden.walk_in_buffer = "12 Camden High Street", 2
    camden.save()
    stock(tee, oxford, 2)
    stock(tee, camden, 2)
    order = pickup_order(shop, lines=[(tee, 2)])
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(change_path(order), {"pickup_location": "LON-CAM"})

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["pickup_location"] == "LON-CAM"
    assert [line["location"] for line in body["lines"]] == ["LON-CAM"]
    assert buckets(tee, oxford) == (2, 0, 0, 2)
    assert buckets(tee, camden) == (2, 2, 0, 0)
    order.refresh_from_db()
    task = order.pickup_task
    assert (task.location, task.status) == (camden, Status.NEW)
    ready_by = pickup_ready_by(location=camden, placed_at=before)
    assert ready_by <= order.promised_by <= ready_by + timedelta(minutes=1)
    assert task.due_at == order.promised_by
    event = order.events.get(kind=MOVED)
    assert (event.detail["from"], event.detail["to"]) == ("LON-OXF", "LON-CAM")
    (line,) = event.detail["lines"]
    assert (line["committed"], line["released"], line["on_transfer"]) == (2, 2, 0)
    notice = PickupNotice.objects.get(kind=PickupNotice.Kind.LOCATION_CHANGED)
    (email,) = mail.outbox
    assert email.subject == notice.subject
    assert "Camden" in email.body and "12 Camden High Street" in email.body
    assert "instead of Oxford Street" in email.body
    assert notice.sent_at is not None
    assert balances_rebuild(repair=False) == []


def test_picked_units_go_back_at_the_old_store_and_the_new_one_sets_its_own_aside(
    shop,
):
    """Alice had picked one of Ada's two tees when Ada changed her mind: that tee
    waits in Oxford Street's pickup-hold area to go back on the shelf, Camden sets
    two of its own aside, and Alice no longer has the order."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    stock(tee, oxford, 2)
    stock(tee, camden, 3)
    order = pickup_order(shop, lines=[(tee, 2)])
    task = order.pickup_task
    picked_one(shop, task)

    pickup.pickup_location_change(
        order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
    )

    put_back = ReturnToStockTask.objects.get(order=order)
    assert (put_back.location, put_back.quantity) == (oxford, 1)
    assert buckets(tee, oxford) == (2, 0, 1, 1)  # the picked one: not yet on sale
    assert buckets(tee, camden) == (3, 2, 0, 1)
    line = order.lines.get()
    assert (line.location, line.picked_quantity, line.status) == (
        camden,
        0,
        OrderLine.Status.ALLOCATED,
    )
    task.refresh_from_db()
    assert (task.status, task.claimed_by, task.location) == (Status.NEW, None, camden)
    detail = order.events.get(kind=MOVED).detail
    assert detail["return_to_stock"] == [
        {"line": line.pk, "quantity": 1, "task": put_back.pk}
    ]
    assert detail["lines"][0]["return_to_stock"] == 1

    pickup.return_to_stock_put_away(
        task_id=put_back.pk, actor=Actor.of_user(shop["bob"])
    )
    assert buckets(tee, oxford) == (2, 0, 0, 2)
    assert balances_rebuild(repair=False) == []


def test_units_camden_lacks_come_from_oxford_street_along_the_lane(
    shop, django_capture_on_commit_callbacks
):
    """Camden has no tee. Oxford Street held two for Ada (one picked already) and
    keeps one tee for walk-ins: both of Ada's go to Camden by van all the same. The
    task waits at Camden; Oxford Street sends them, Camden receives them, and they
    are set aside for Ada to pick. Nobody treats them as missing."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    oxford.walk_in_buffer = 1
    oxford.save()
    lane(shop, hours=24)
    stock(tee, oxford, 2)
    order = pickup_order(shop, lines=[(tee, 2)])
    task = order.pickup_task
    picked_one(shop, task)
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        pickup.pickup_location_change(
            order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
        )

    transfer = TransferRequest.objects.get()
    assert (transfer.from_location, transfer.to_location, transfer.quantity) == (
        oxford,
        camden,
        2,
    )
    assert buckets(tee, oxford) == (2, 2, 0, 0)  # committed to the transfer
    line = order.lines.get()
    assert (line.location, line.short_quantity, line.status) == (
        camden,
        2,
        OrderLine.Status.SHORT,
    )
    problem = PickupProblem.objects.get()
    assert (problem.condition, problem.status, problem.resolution) == (
        PickupProblem.Condition.ON_THE_WAY,
        PickupProblem.Status.WAITING,
        PickupProblem.Resolution.SOURCE_ELSEWHERE,
    )
    assert problem.transfer == transfer
    task.refresh_from_db()
    assert (task.status, task.location) == (Status.ON_HOLD, camden)
    order.refresh_from_db()
    arrives = pickup_ready_by(location=camden, placed_at=before + timedelta(hours=24))
    assert arrives <= order.promised_by <= arrives + timedelta(minutes=1)
    assert task.due_at == order.promised_by
    event = order.events.get(kind=MOVED)
    assert event.detail["lines"][0]["transfer"] == transfer.pk
    assert event.detail["lead_time_hours"] == 24
    assert "on their way" in mail.outbox[0].body

    # Not a missing item anywhere: no problem to decide, none to escalate, no case.
    assert not problems_for(user=shop["maria"]).exists()
    assert store_queue(location=camden)["open_problems"] == 0
    assert pickup.pickup_problems_escalate(now=timezone.now() + timedelta(days=1)) == 0
    assert not ExceptionCase.objects.exists()
    (shown,) = task_lines(task=task)
    assert (shown.coming, shown.missing) == (2, 0)

    pickup.pickup_transfer_dispatch(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["bob"])
    )
    pickup.pickup_transfer_receive(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["carol"])
    )
    line.refresh_from_db()
    task.refresh_from_db()
    assert (line.short_quantity, line.status) == (0, OrderLine.Status.ALLOCATED)
    assert task.status == Status.PICKING
    problem.refresh_from_db()
    assert problem.status == PickupProblem.Status.RESOLVED
    assert buckets(tee, oxford) == (0, 0, 0, 0)
    assert buckets(tee, camden) == (2, 2, 0, 0)
    carol = Actor.of_user(shop["carol"])
    pickup.pickup_task_claim(task_id=task.pk, actor=carol)
    pickup.pickup_line_pick(task_id=task.pk, line_id=line.pk, actor=carol)
    task.refresh_from_db()
    assert task.status == Status.PICKED
    assert balances_rebuild(repair=False) == []


def spare_tee_gone(shop, how):
    """Oxford Street's one tee beyond Ada's two stops being spare: the tee's safety
    buffer is raised to two, a walk-in customer buys it, or the app protects it."""
    oxford, tee = shop["oxford"], shop["tee"]
    if how == "buffer raised":
        tee.safety_buffer = 2
        tee.save(update_fields=["safety_buffer"])
    elif how == "walk-in bought it":
        StockEvents.post("sale", sku=tee, location=oxford, quantity=1)
    else:
        allocation_set(
            channel=ChannelFactory(code="app", kind="app"),
            sku=tee,
            location=oxford,
            units=3,
            actor=Actor(name="user:maria"),
        )


@pytest.mark.parametrize(
    "how", ["buffer raised", "walk-in bought it", "another channel protects it"]
)
def test_units_held_for_ada_travel_whatever_oxford_keeps_back_since(shop, how):
    """Oxford Street had three tees, two set aside for Ada. Since then it keeps more
    back (a higher safety buffer, a walk-in sale, the app's protection). Ada moves to
    Camden, which has none: her two tees are hers already, so Oxford Street hands
    them to the van as they are, and keeps back nothing of them."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    lane(shop)
    stock(tee, oxford, 3)
    order = pickup_order(shop, lines=[(tee, 2)])
    spare_tee_gone(shop, how)
    before = buckets(tee, oxford)

    pickup.pickup_location_change(
        order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
    )

    transfer = TransferRequest.objects.get()
    assert (transfer.from_location, transfer.quantity) == (oxford, 2)
    assert buckets(tee, oxford) == before  # the same two committed, now the van's
    assert StockMovement.objects.filter(
        reference=f"#transfer/{transfer.pk}/commit", location=oxford, quantity=2
    ).exists()
    line = order.lines.get()
    assert (line.location, line.short_quantity) == (camden, 2)
    assert PickupTask.objects.get(order=order).status == Status.ON_HOLD

    pickup.pickup_transfer_dispatch(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["bob"])
    )
    assert buckets(tee, oxford)[:3] == (before[0] - 2, 0, 0)
    assert StockBalance.objects.get(sku=tee, location=camden).in_transit == 2
    assert balances_rebuild(repair=False) == []


def test_ada_s_tees_are_set_aside_at_camden_when_the_van_arrives(shop):
    """The tee's safety buffer was raised to two after Ada's order; her two tees
    came from Oxford Street by van: they are hers at Camden too."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    lane(shop)
    stock(tee, oxford, 3)
    order = pickup_order(shop, lines=[(tee, 2)])
    spare_tee_gone(shop, "buffer raised")
    pickup.pickup_location_change(
        order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
    )
    transfer = TransferRequest.objects.get()
    pickup.pickup_transfer_dispatch(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["bob"])
    )

    pickup.pickup_transfer_receive(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["carol"])
    )

    assert buckets(tee, camden) == (2, 2, 0, 0)
    assert order.lines.get().short_quantity == 0


def test_a_picked_tee_travels_too_when_the_buffer_was_raised_since(shop):
    """Alice had picked one of Ada's two tees at Oxford Street (three on hand) when
    the tee's safety buffer went up to two and Ada asked for Camden, which has none:
    the picked tee goes back on the shelf and, with the one still there, onto the
    van; nothing waits for a return-to-stock task."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    lane(shop)
    stock(tee, oxford, 3)
    order = pickup_order(shop, lines=[(tee, 2)])
    task = order.pickup_task
    picked_one(shop, task)
    spare_tee_gone(shop, "buffer raised")
    assert buckets(tee, oxford) == (3, 1, 1, 1)

    pickup.pickup_location_change(
        order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
    )

    transfer = TransferRequest.objects.get()
    assert (transfer.quantity, transfer.status) == (2, TransferRequest.Status.REQUESTED)
    assert buckets(tee, oxford) == (3, 2, 0, 1)
    assert not ReturnToStockTask.objects.exists()
    line = order.lines.get()
    assert (line.picked_quantity, line.short_quantity) == (0, 2)
    task.refresh_from_db()
    assert (task.status, task.location) == (Status.ON_HOLD, camden)
    assert balances_rebuild(repair=False) == []


def test_a_cancelled_order_calls_the_transfer_off(shop):
    """Ada cancels while the tee is still at Oxford Street: the van takes nothing,
    and Oxford Street may sell the tee again."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    lane(shop)
    stock(tee, oxford, 1)
    order = pickup_order(shop)
    pickup.pickup_location_change(
        order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
    )
    orders.order_cancel(
        order_id=order.pk, lines=None, reason="Changed mind", actor=Actor(name="web")
    )
    transfer = TransferRequest.objects.get()
    assert transfer.status == TransferRequest.Status.CANCELLED
    assert buckets(tee, oxford) == (1, 0, 0, 1)
    assert order.pickup_task.problems.get().status == PickupProblem.Status.RESOLVED
    assert balances_rebuild(repair=False) == []


def test_no_lane_and_no_stock_names_the_nearest_stores_and_writes_nothing(shop, api):
    """Camden has no tee and no van runs there from Oxford Street: Ada is told which
    stores near Camden could have it ready, and nothing moves."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    kings_cross = LocationFactory(
        code="LON-KGX",
        name="King's Cross",
        latitude="51.530600",
        longitude="-0.123900",
        pickup_enabled=True,
    )
    stock(tee, oxford, 1)
    stock(tee, kings_cross, 1)
    order = pickup_order(shop)
    seen = written()

    answer = api.post(change_path(order), {"pickup_location": "LON-CAM"})

    assert answer.status_code == 409, answer.json()
    body = answer.json()
    assert body["code"] == "insufficient_stock"
    assert body["shortages"] == [
        {
            "sku": "TEE-BLK-M",
            "location": "LON-CAM",
            "requested": 1,
            "available_to_promise": 0,
        }
    ]
    assert [store["location"] for store in body["nearest_stores"]] == ["LON-KGX"]
    assert body["nearest_stores"][0]["distance_km"] > 0
    assert written() == seen
    order.refresh_from_db()
    assert order.pickup_location == oxford
    assert order.pickup_task.location == oxford
    assert buckets(tee, oxford) == (1, 1, 0, 0)
    assert buckets(tee, camden) == (0, 0, 0, 0)


def test_a_ready_order_moves_and_is_picked_again_at_the_new_store(
    shop, django_capture_on_commit_callbacks
):
    """Ada's tee waits on Oxford Street's hold shelf when she asks for Camden: the
    order is back in progress, the shelf and the expiry are forgotten, and Camden's
    team picks it and tells her when it is ready there."""
    oxford, camden, tee = shop["oxford"], shop["camden"], shop["tee"]
    stock(tee, oxford, 1)
    stock(tee, camden, 1)
    order = pickup_order(shop)
    task = order.pickup_task
    ready_for_collection(shop, task)
    assert task.status == Status.READY

    pickup.pickup_location_change(
        order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
    )

    order.refresh_from_db()
    task.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    assert (task.status, task.hold_slot, task.ready_at, task.expires_at) == (
        Status.NEW,
        "",
        None,
        None,
    )
    moved = task.events.get(action="pickup_location_change")
    assert (moved.from_status, moved.to_status) == (Status.READY, Status.NEW)
    assert "from Oxford Street to Camden" in moved.note
    assert ReturnToStockTask.objects.get().location == oxford
    assert buckets(tee, oxford) == (1, 0, 1, 0)
    assert buckets(tee, camden) == (1, 1, 0, 0)

    carol = Actor.of_user(shop["carol"])
    pickup.pickup_task_claim(task_id=task.pk, actor=carol)
    pickup.pickup_task_start(task_id=task.pk, actor=carol)
    pickup.pickup_line_pick(task_id=task.pk, line_id=order.lines.get().pk, actor=carol)
    with django_capture_on_commit_callbacks(execute=True):
        pickup.pickup_task_mark_ready(task_id=task.pk, actor=carol, hold_slot="C1")
    task.refresh_from_db()
    order.refresh_from_db()
    assert (task.status, order.status) == (Status.READY, Order.Status.READY)
    ready = PickupNotice.objects.filter(kind=PickupNotice.Kind.READY).last()
    assert "ready to collect at Camden" in ready.body
    assert balances_rebuild(repair=False) == []


def test_the_same_request_reference_again_changes_nothing(shop, api):
    camden, tee = shop["camden"], shop["tee"]
    stock(tee, shop["oxford"], 1)
    stock(tee, camden, 1)
    order = pickup_order(shop)
    asked = {"pickup_location": "LON-CAM", "request_reference": "MOVE-1"}

    first = api.post(change_path(order), asked)
    seen = written()
    again = api.post(change_path(order), asked)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["pickup_location"] == "LON-CAM"
    assert written() == seen
    event = order.events.get(kind=MOVED)
    assert event.request_reference == "MOVE-1"
    assert event.detail["request_reference"] == "MOVE-1"
    other = api.post(
        change_path(order),
        {"pickup_location": "LON-OXF", "request_reference": "MOVE-1"},
    )
    assert other.status_code == 409
    assert other.json()["code"] == "request_reference_clash"
    assert written() == seen


def test_another_channel_s_token_finds_no_such_order(shop):
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], shop["camden"], 1)
    order = pickup_order(shop)
    ChannelFactory(code="app", kind="app")
    _, app_key = ApiTokenFactory.issue(name="app", channel_code="app")
    _, web_key = ApiTokenFactory.issue(name="web", channel_code="web")
    seen = written()

    refused = client_for(app_key).post(
        change_path(order), {"pickup_location": "LON-CAM"}
    )

    assert refused.status_code == 404
    assert written() == seen
    mine = client_for(web_key).post(change_path(order), {"pickup_location": "LON-CAM"})
    assert mine.status_code == 200


@pytest.mark.parametrize(
    "body, message",
    [
        ({"pickup_location": "NOPE"}, "Unknown location 'NOPE'."),
        ({"pickup_location": "LON-OXF"}, "The order is collected at LON-OXF already"),
        ({"pickup_location": "DC-1"}, "DC-1 does not hand over pickups."),
        ({"pickup_location": "LON-FAR"}, "not in channel 'web''s network"),
        ({"pickup_location": "bad code!"}, "Invalid code"),
        ({}, "This field is required."),
    ],
)
def test_a_store_that_cannot_take_the_order_is_a_400(shop, api, body, message):
    from inventory.models import NetworkLocation

    LocationFactory(code="DC-1", kind="warehouse")
    LocationFactory(code="LON-FAR", pickup_enabled=True)
    for store in (shop["oxford"], shop["camden"]):
        NetworkLocation.objects.create(channel=shop["web"], location=store)
    stock(shop["tee"], shop["oxford"], 1)
    order = pickup_order(shop)
    seen = written()

    answer = api.post(change_path(order), body)

    assert answer.status_code == 400, answer.json()
    assert message in answer.json()["pickup_location"][0]
    assert written() == seen


def test_orders_past_changing_or_still_waiting_are_refused(shop, api):
    """A shipped order has no pickup store; a collected one is Ada's already; an
    order with a tee not found is settled on its task first."""
    from tests.factories import delivered_order

    tee = shop["tee"]
    stock(tee, shop["oxford"], 3)
    stock(tee, shop["camden"], 3)
    shipped = delivered_order(shop, reference="WEB-3001")
    collected = pickup_order(shop, reference="WEB-2002")
    ready_for_collection(shop, collected.pickup_task)
    pickup.pickup_task_hand_over(
        task_id=collected.pickup_task.pk,
        actor=Actor.of_user(shop["alice"]),
        collection_code=collected.pickup_task.collection_code,
    )
    short = pickup_order(shop, reference="WEB-2003")
    reported_short(shop, short.pickup_task)
    seen = written()

    answers = {
        order.reference: api.post(change_path(order), {"pickup_location": "LON-CAM"})
        for order in (shipped, collected, short)
    }

    assert {ref: a.status_code for ref, a in answers.items()} == {
        "WEB-3001": 409,
        "WEB-2002": 409,
        "WEB-2003": 409,
    }
    assert answers["WEB-3001"].json()["code"] == "order_transition_refused"
    assert "not collected at a store" in answers["WEB-3001"].json()["detail"]
    assert answers["WEB-2002"].json()["current_status"] == "collected"
    waiting = answers["WEB-2003"].json()
    assert waiting["code"] == "pickup_location_change_refused"
    assert "first" in waiting["detail"]
    assert written() == seen


def test_a_kit_moves_whole_and_its_missing_part_comes_by_van(shop):
    """Ada's camera kit (a body and two lenses): Camden has a body but no lens. The
    body is set aside at Camden, the two lenses come from Oxford Street, and the kit
    is Camden's whole."""
    from orders.models import OrderKitLine
    from tests.factories import SkuFactory, kit

    oxford, camden = shop["oxford"], shop["camden"]
    body, lens = SkuFactory(code="BODY-X"), SkuFactory(code="LENS-50")
    camera = kit("CAM-KIT", (body, 1), (lens, 2))
    lane(shop)
    stock(body, oxford, 1)
    stock(lens, oxford, 2)
    stock(body, camden, 1)
    order = pickup_order(shop, lines=[(camera, 1)])

    pickup.pickup_location_change(
        order_id=order.pk, pickup_location=camden, actor=Actor(name="token:web")
    )

    assert OrderKitLine.objects.get(order=order).location == camden
    assert set(order.lines.values_list("location", flat=True)) == {camden.pk}
    assert buckets(body, camden) == (1, 1, 0, 0)
    assert buckets(body, oxford) == (1, 0, 0, 1)
    transfer = TransferRequest.objects.get()
    assert (transfer.sku, transfer.quantity) == (lens, 2)
    assert buckets(lens, oxford) == (2, 2, 0, 0)
    assert order.lines.get(sku=lens).short_quantity == 2
    assert PickupTask.objects.get(order=order).status == Status.ON_HOLD
    assert balances_rebuild(repair=False) == []


def test_a_pre_order_waits_for_its_delivery_before_it_moves(shop, api):
    """Ada's tee is pre-ordered against a delivery to Oxford Street: the delivery
    comes there, so the store changes after it lands (or the tee is cancelled)."""
    from tests.factories import purchase_order

    shop["tee"].future_promise_limit = 10
    shop["tee"].save()
    purchase_order(
        shop["tee"], shop["oxford"], 5, due=timezone.now() + timedelta(days=3)
    )
    order, _ = orders.order_place(
        channel=shop["web"],
        reference="WEB-PRE-1",
        method="pickup",
        customer=orders.Customer(name="Ada Byron", email="ada@example.com"),
        actor=Actor(name="token:web-shop", source="web"),
        lines=[orders.OrderLineInput(sku=shop["tee"], quantity=1, allow_future=True)],
        pickup_location=shop["oxford"],
    )
    assert order.lines.get().awaiting_supply_quantity == 1
    seen = written()

    answer = api.post(change_path(order), {"pickup_location": "LON-CAM"})

    assert answer.status_code == 409
    assert answer.json()["code"] == "pickup_location_change_refused"
    assert "waiting for a delivery" in answer.json()["detail"]
    assert written() == seen
