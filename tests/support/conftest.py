"""The order a service agent is asked about: one of everything its story can hold."""

import pytest

from config.access import Actor
from orders import services as orders
from pickup import services as pickup
from pickup.models import PickupTask
from returns.services import (
    Purchase,
    ReturnLineInput,
    return_inspection_start,
    return_line_grade,
    return_receive_at_counter,
)
from tests.factories import stock


def rich_order(shop, reference="WEB-7001"):
    """Ada's click-and-collect order at Oxford Street: two tees and a hoodie. One tee
    is not on the shelf (an exception is raised); she accepts a polo instead (the
    tee is cancelled); everything else is picked, put on the hold shelf and
    collected; later she brings the polo back and it is graded resellable."""
    oxford = shop["oxford"]
    for sku, units in ((shop["tee"], 2), (shop["hoodie"], 1), (shop["polo"], 3)):
        stock(sku, oxford, units)
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="pickup",
        customer=orders.Customer(
            name="Ada Byron", email="Ada.Byron@Example.com", phone="07700 900123"
        ),
        actor=Actor(name="token:web-shop", source="web"),
        lines=[
            orders.OrderLineInput(sku=shop["tee"], quantity=2),
            orders.OrderLineInput(sku=shop["hoodie"], quantity=1),
        ],
        pickup_location=oxford,
    )
    task = PickupTask.objects.get(order=order)
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    tee = order.lines.get(sku=shop["tee"])
    hoodie = order.lines.get(sku=shop["hoodie"])
    pickup.pickup_line_pick(task_id=task.pk, line_id=hoodie.pk, actor=alice)
    pickup.pickup_line_pick(task_id=task.pk, line_id=tee.pk, actor=alice, quantity=1)
    problem = pickup.pickup_line_short(
        task_id=task.pk, line_id=tee.pk, actor=alice, quantity=1,
        condition="not_found", note="Empty hook",
    )  # fmt: skip
    pickup.pickup_problem_substitute(
        problem_id=problem.pk, actor=alice, substitute=shop["polo"],
        customer_answer="accepted",
    )  # fmt: skip
    polo = order.lines.get(sku=shop["polo"])
    pickup.pickup_line_pick(task_id=task.pk, line_id=polo.pk, actor=alice)
    pickup.pickup_task_mark_ready(task_id=task.pk, actor=alice, hold_slot="H-3")
    pickup.pickup_task_hand_over(
        task_id=task.pk, actor=Actor.of_user(shop["bob"]),
        collection_code=PickupTask.objects.get(pk=task.pk).collection_code,
    )  # fmt: skip
    order.refresh_from_db()
    returned = return_receive_at_counter(
        purchase=Purchase(channel=shop["web"], order=order),
        location=oxford,
        lines=[ReturnLineInput(sku=shop["polo"], quantity=1, reason="wrong_size")],
        actor=alice,
    )
    return_inspection_start(return_id=returned.pk, actor=alice)
    return_line_grade(
        return_id=returned.pk, line_id=returned.lines.get().pk, grade="resellable",
        quantity=1, shelf_location="A1", actor=alice,
    )  # fmt: skip
    return order


@pytest.fixture
def ada_order(shop):
    return rich_order(shop)
