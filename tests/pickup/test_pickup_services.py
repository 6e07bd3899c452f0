"""The pickup story told through the services: from the order placed on the web to
the customer walking out with it, and every way it can go otherwise."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.access import Actor
from config.errors import InvalidInput, NotFound
from inventory.models import TransferRequest
from orders.models import Order, ReturnToStockTask
from pickup import services as pickup
from pickup.models import PickupNotice, PickupProblem, PickupTask
from tests.factories import (
    balance_of,
    pickup_order,
    stock,
)
from tests.factories import (
    ready_for_collection as _ready,
)
from tests.factories import (
    reported_short as _short,
)

Status = PickupTask.Status


@pytest.fixture
def one_tee(shop):
    stock(shop["tee"], shop["oxford"], 2)
    order = pickup_order(shop)
    return order, order.pickup_task


def test_a_pickup_order_opens_a_task_due_when_the_customer_was_told(shop, one_tee):
    order, task = one_tee
    assert task.status == Status.NEW
    assert task.location == shop["oxford"]
    assert order.promised_by == task.due_at
    assert task.due_at - order.placed_at == timedelta(minutes=60)
    assert len(task.collection_code) == 6


def test_the_whole_story_from_claim_to_close(
    shop, one_tee, django_capture_on_commit_callbacks
):
    order, task = one_tee
    alice, tee, oxford = shop["alice"], shop["tee"], shop["oxford"]
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(alice))
    pickup.pickup_task_start(task_id=task.pk, actor=Actor.of_user(alice))
    line = order.lines.get()
    pickup.pickup_line_pick(
        task_id=task.pk,
        line_id=line.pk,
        actor=Actor.of_user(alice),
        scanned="5012345678900",
    )
    task.refresh_from_db()
    assert task.status == Status.PICKED
    held = balance_of(tee, oxford)
    assert (held.on_hand, held.committed, held.picked, held.available) == (2, 0, 1, 1)

    with django_capture_on_commit_callbacks(execute=True):
        pickup.pickup_task_mark_ready(
            task_id=task.pk, actor=Actor.of_user(alice), hold_slot="B3"
        )
    task.refresh_from_db()
    assert task.status == Status.READY and task.hold_slot == "B3"
    (email,) = mail.outbox
    assert email.to == ["ada@example.com"]
    assert task.collection_code in email.body
    assert PickupNotice.objects.get(kind="ready").sent_at is not None

    with pytest.raises(InvalidInput):
        pickup.pickup_task_hand_over(
            task_id=task.pk,
            actor=Actor.of_user(shop["bob"]),
            collection_code="000000" if task.collection_code != "000000" else "111111",
        )
    pickup.pickup_task_hand_over(
        task_id=task.pk,
        actor=Actor.of_user(shop["bob"]),
        collection_code=task.collection_code,
    )
    pickup.pickup_task_close(task_id=task.pk, actor=Actor.of_user(shop["bob"]))
    task.refresh_from_db()
    order.refresh_from_db()
    assert (task.status, order.status) == (Status.CLOSED, Order.Status.CLOSED)
    after = balance_of(tee, oxford)
    assert (after.on_hand, after.picked, after.available) == (1, 0, 1)
    steps = [
        (e.from_status, e.to_status, e.actor) for e in task.events.exclude(to_status="")
    ]
    assert steps == [
        ("", "new", "token:web-shop"),
        ("new", "claimed", "user:alice"),
        ("claimed", "picking", "user:alice"),
        ("picking", "picked", "user:alice"),
        ("picked", "ready", "user:alice"),
        ("ready", "collected", "user:bob"),
        ("collected", "closed", "user:bob"),
    ]


def test_a_wrong_scan_is_refused_and_picks_nothing(shop, one_tee):
    order, task = one_tee
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(shop["alice"]))
    pickup.pickup_task_start(task_id=task.pk, actor=Actor.of_user(shop["alice"]))
    with pytest.raises(InvalidInput):
        pickup.pickup_line_pick(
            task_id=task.pk,
            line_id=order.lines.get().pk,
            actor=Actor.of_user(shop["alice"]),
            scanned="HOOD-GRE-L",
        )
    assert balance_of(shop["tee"], shop["oxford"]).picked == 0


def test_another_store_cannot_see_the_task(shop, one_tee):
    _, task = one_tee
    with pytest.raises(NotFound):
        pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(shop["carol"]))
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(shop["maria"]))


def test_handing_over_on_order_number_and_family_name(shop, one_tee):
    order, task = one_tee
    _ready(shop, task)
    with pytest.raises(InvalidInput):
        pickup.pickup_task_hand_over(
            task_id=task.pk,
            actor=Actor.of_user(shop["alice"]),
            order_reference="WEB-2001",
            customer_name="Lovelace",
        )
    pickup.pickup_task_hand_over(
        task_id=task.pk,
        actor=Actor.of_user(shop["alice"]),
        order_reference="web-2001",
        customer_name=" byron ",
    )
    task.refresh_from_db()
    assert task.status == Status.COLLECTED


def test_not_found_is_taken_off_on_hand_and_never_promised_again(shop, one_tee):
    _, task = one_tee
    problem = _short(shop, task)
    tee = balance_of(shop["tee"], shop["oxford"])
    assert (tee.on_hand, tee.committed, tee.available) == (1, 0, 1)
    assert problem.status == PickupProblem.Status.OPEN


def test_source_from_another_branch(shop, one_tee):
    order, task = one_tee
    stock(shop["tee"], shop["camden"], 1)
    problem = _short(shop, task)
    pickup.pickup_problem_source_elsewhere(
        problem_id=problem.pk,
        actor=Actor.of_user(shop["alice"]),
        from_location=shop["camden"],
    )
    task.refresh_from_db()
    assert task.status == Status.ON_HOLD
    assert (
        balance_of(shop["tee"], shop["camden"]).available == 0
    )  # Camden cannot sell it
    transfer = TransferRequest.objects.get()
    with pytest.raises(NotFound):
        pickup.pickup_transfer_dispatch(
            transfer_id=transfer.pk, actor=Actor.of_user(shop["alice"])
        )
    pickup.pickup_transfer_dispatch(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["carol"])
    )
    pickup.pickup_transfer_receive(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["alice"])
    )
    pickup.pickup_transfer_receive(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["alice"])
    )  # twice: nothing more
    task.refresh_from_db()
    assert task.status == Status.PICKING
    oxford = balance_of(shop["tee"], shop["oxford"])
    assert (oxford.on_hand, oxford.committed, oxford.available) == (2, 1, 1)
    camden = balance_of(shop["tee"], shop["camden"])
    assert (camden.on_hand, camden.committed) == (0, 0)
    pickup.pickup_line_pick(
        task_id=task.pk,
        line_id=order.lines.get().pk,
        actor=Actor.of_user(shop["alice"]),
    )
    task.refresh_from_db()
    assert task.status == Status.PICKED


def test_a_substitute_the_customer_accepts(
    shop, one_tee, django_capture_on_commit_callbacks
):
    order, task = one_tee
    stock(shop["polo"], shop["oxford"], 1)
    problem = _short(shop, task, condition="damaged")
    damaged = balance_of(shop["tee"], shop["oxford"])
    assert (damaged.on_hand, damaged.damaged, damaged.available) == (2, 1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        pickup.pickup_problem_substitute(
            problem_id=problem.pk,
            actor=Actor.of_user(shop["alice"]),
            substitute=shop["polo"],
            customer_answer="accepted",
        )
    assert [(line.sku.code, line.open_quantity) for line in order.lines.all()] == [
        ("TEE-BLK-M", 0),
        ("POLO-BLU-M", 1),
    ]
    assert balance_of(shop["polo"], shop["oxford"]).committed == 1
    assert "Polo blue M" in mail.outbox[0].body
    # The tee is cancelled, but the customer was served: no sale lost.
    cancelled = order.events.get(action="order_cancel_short")
    assert cancelled.detail["served_by"] == "substitute"


def test_ship_later_places_a_delivery_order(shop, one_tee):
    order, task = one_tee
    stock(shop["tee"], shop["camden"], 3)
    problem = _short(shop, task)
    pickup.pickup_problem_ship_later(
        problem_id=problem.pk,
        actor=Actor.of_user(shop["alice"]),
        address=pickup.Address("1 Upper Street", "London", "N1 0PN", "gb"),
    )
    problem.refresh_from_db()
    later = problem.follow_up_order
    assert (later.fulfilment_method, later.reference) == (
        "ship",
        f"WEB-2001-D{problem.pk}",
    )
    assert later.lines.get().location == shop["camden"]
    task.refresh_from_db()
    order.refresh_from_db()
    assert task.status == Status.CANCELLED and order.status == Order.Status.CANCELLED
    cancelled = order.events.get(action="order_cancel_short")
    assert cancelled.detail["served_by"] == "later_delivery"


def test_cancel_tells_the_customer_before_they_travel(
    shop, one_tee, django_capture_on_commit_callbacks
):
    _, task = one_tee
    problem = _short(shop, task)
    with django_capture_on_commit_callbacks(execute=True):
        pickup.pickup_problem_cancel(
            problem_id=problem.pk, actor=Actor.of_user(shop["alice"])
        )
    task.refresh_from_db()
    assert task.status == Status.CANCELLED
    assert "please do not travel" in mail.outbox[0].body


def test_reminder_then_expiry_each_once(shop, one_tee):
    order, task = one_tee
    _ready(shop, task)
    later = task.expires_at - timedelta(hours=2)
    assert pickup.pickup_reminders_send(now=later) == 1
    assert pickup.pickup_reminders_send(now=later) == 0
    gone = task.expires_at + timedelta(minutes=1)
    assert pickup.pickup_tasks_expire(now=gone) == 1
    assert pickup.pickup_tasks_expire(now=gone) == 0
    task.refresh_from_db()
    order.refresh_from_db()
    assert (task.status, order.status) == (Status.EXPIRED, Order.Status.CANCELLED)
    (put_back,) = ReturnToStockTask.objects.all()
    held = balance_of(shop["tee"], shop["oxford"])
    assert (held.picked, held.available) == (1, 1)
    pickup.return_to_stock_put_away(
        task_id=put_back.pk, actor=Actor.of_user(shop["bob"])
    )
    assert balance_of(shop["tee"], shop["oxford"]).available == 2
    assert list(PickupNotice.objects.values_list("kind", flat=True)) == [
        "ready",
        "reminder",
        "expired",
    ]


def test_an_undecided_problem_goes_to_the_manager_once(shop, one_tee):
    _, task = one_tee
    problem = _short(shop, task)
    soon = timezone.now() + timedelta(minutes=10)
    assert pickup.pickup_problems_escalate(now=soon) == 0
    late = timezone.now() + timedelta(minutes=31)
    assert pickup.pickup_problems_escalate(now=late) == 1
    assert pickup.pickup_problems_escalate(now=late) == 0
    problem.refresh_from_db()
    assert problem.escalated_at == late
