"""A camera kit collected at the store: the picker takes its parts one component at a
time, a lens is not on the shelf, and what is decided cancels a whole kit or serves
the kit another way; the rest is handed over."""

import pytest
from django.test import Client

from config.access import Actor
from orders import services as orders
from orders.models import OrderKitLine, ReturnToStockTask
from pickup import services as pickup
from pickup.models import PickupTask
from tests.factories import (
    SkuFactory,
    StaffFactory,
    balance_of,
    kit,
    pickup_order,
    stock,
)

Status = PickupTask.Status


@pytest.fixture
def two_kits(shop):
    """Two camera kits (a body and two lenses each) for collection at Oxford Street,
    whose shelf holds exactly that."""
    body = SkuFactory(code="BODY-X", name="Camera body X")
    lens = SkuFactory(code="LENS-50", name="Lens 50 mm")
    camera = kit("CAM-KIT", (body, 1), (lens, 2), name="Camera kit")
    stock(body, shop["oxford"], 2)
    stock(lens, shop["oxford"], 4)
    order = pickup_order(shop, "WEB-KIT1", lines=[(camera, 2)])
    return {"order": order, "task": order.pickup_task, "body": body, "lens": lens}


def picked_but_one_lens(shop, two_kits):
    """Alice picks both bodies and three lenses; the fourth is not on the shelf."""
    alice = Actor.of_user(shop["alice"])
    task, order = two_kits["task"], two_kits["order"]
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    body = order.lines.get(sku=two_kits["body"])
    lens = order.lines.get(sku=two_kits["lens"])
    pickup.pickup_line_pick(task_id=task.pk, line_id=body.pk, actor=alice)
    pickup.pickup_line_pick(task_id=task.pk, line_id=lens.pk, actor=alice, quantity=3)
    return pickup.pickup_line_short(
        task_id=task.pk,
        line_id=lens.pk,
        actor=alice,
        quantity=1,
        condition="not_found",
    )


def test_a_lens_not_found_cancels_its_kit_and_the_other_is_handed_over(shop, two_kits):
    alice = Actor.of_user(shop["alice"])
    task, order = two_kits["task"], two_kits["order"]
    lens, body, oxford = two_kits["lens"], two_kits["body"], shop["oxford"]
    problem = picked_but_one_lens(shop, two_kits)
    # The missing lens is off the shelf's record at once.
    assert balance_of(lens, oxford).on_hand == 3

    pickup.pickup_problem_cancel(problem_id=problem.pk, actor=alice)

    # The kit the lens was part of is cancelled whole: its body and its other lens,
    # both picked, wait to go back on the shelf.
    kit_line = OrderKitLine.objects.get(order=order)
    parts = list(kit_line.components.all())
    assert kit_line.kits(parts, lambda x: x.cancelled_quantity) == 1
    assert kit_line.kits(parts, lambda x: x.open_quantity) == 1
    assert sorted(
        (line.sku.code, line.cancelled_quantity, line.picked_quantity) for line in parts
    ) == [("BODY-X", 1, 1), ("LENS-50", 2, 2)]
    put_back = sorted(
        (t.sku.code, t.quantity) for t in ReturnToStockTask.objects.filter(order=order)
    )
    assert put_back == [("BODY-X", 1), ("LENS-50", 1)]
    task.refresh_from_db()
    assert task.status == Status.PICKED

    pickup.pickup_task_mark_ready(task_id=task.pk, actor=alice, hold_slot="K1")
    task = pickup.pickup_task_hand_over(
        task_id=task.pk, actor=alice, collection_code=task.collection_code
    )

    assert task.status == Status.COLLECTED
    order.refresh_from_db()
    assert order.status == "collected"
    assert (
        kit_line.kits(list(kit_line.components.all()), lambda x: x.fulfilled_quantity)
        == 1
    )
    # The kit that left: one body and two lenses off the shelf for good; the
    # cancelled kit's picked parts still out of availability until put away.
    lens_now, body_now = balance_of(lens, oxford), balance_of(body, oxford)
    assert (lens_now.on_hand, lens_now.picked, lens_now.available) == (1, 1, 0)
    assert (body_now.on_hand, body_now.picked, body_now.available) == (1, 1, 0)
    for put in ReturnToStockTask.objects.filter(order=order):
        pickup.return_to_stock_put_away(task_id=put.pk, actor=alice)
    assert balance_of(lens, oxford).available == 1
    assert balance_of(body, oxford).available == 1


def test_a_lens_sent_later_leaves_the_kits_whole(shop, two_kits):
    """Delivered later on a follow-up order, the customer still gets both kits: only
    the missing lens is cancelled here."""
    alice = Actor.of_user(shop["alice"])
    stock(two_kits["lens"], shop["camden"], 1)
    problem = picked_but_one_lens(shop, two_kits)

    pickup.pickup_problem_ship_later(
        problem_id=problem.pk,
        actor=alice,
        address=pickup.Address("1 Upper Street", "London", "N1 0PN", "GB"),
    )

    order = two_kits["order"]
    lines = {line.sku.code: line for line in order.lines.all()}
    assert lines["LENS-50"].cancelled_quantity == 1
    assert lines["BODY-X"].cancelled_quantity == 0
    assert not ReturnToStockTask.objects.filter(order=order).exists()


def test_a_channel_that_splits_kits_cancels_only_the_missing_lens(shop, two_kits):
    shop["web"].allow_kit_split = True
    shop["web"].save()
    alice = Actor.of_user(shop["alice"])
    problem = picked_but_one_lens(shop, two_kits)

    pickup.pickup_problem_cancel(problem_id=problem.pk, actor=alice)

    lines = {line.sku.code: line for line in two_kits["order"].lines.all()}
    assert (
        lines["LENS-50"].cancelled_quantity,
        lines["BODY-X"].cancelled_quantity,
    ) == (
        1,
        0,
    )


def test_the_task_screen_says_which_kit_a_part_belongs_to(shop, two_kits):
    picked_but_one_lens(shop, two_kits)
    client = Client()
    assert client.login(username="alice", password=StaffFactory.PASSWORD)

    page = client.get(f"/store/tasks/{two_kits['task'].pk}/").content.decode()

    assert page.count("part of CAM-KIT") == 2
    assert "Part of CAM-KIT</strong>: cancelled with nothing in its place" in page


def test_cancelling_part_of_a_kit_through_the_api_service_is_refused(shop, two_kits):
    order = two_kits["order"]
    lens = order.lines.get(sku=two_kits["lens"])

    with pytest.raises(orders.KitSplitRefused):
        orders.order_cancel(
            order_id=order.pk,
            lines=[orders.LineQuantity(lens.pk, 1)],
            reason="One lens less",
            actor=Actor(name="token:web-shop", source="web"),
        )

    lens.refresh_from_db()
    assert lens.cancelled_quantity == 0
    assert balance_of(two_kits["lens"], shop["oxford"]).committed == 4


def test_customer_service_reads_the_kit_with_its_parts(shop, two_kits):
    from support import selectors as support

    story = support.order_story(order=two_kits["order"], user=shop["maria"])

    placed = next(step for step in story.steps if step.tag == "Placed")
    assert placed.words.endswith(": 2 × CAM-KIT (BODY-X, 2 × LENS-50)")
