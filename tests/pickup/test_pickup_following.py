"""The store's task keeps up with its order whoever moves it (the channel, an
integration, the back-office), and the awkward cases a busy store meets: two
problems on one line, a cancellation while a transfer is on the road, a picker who
went home, a job that meets a broken task, a pick and a cancel at the same moment;
and the one table that says what the task does at each status of its order, which
never refuses the order's change."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from config.access import Actor
from config.errors import DomainError
from inventory.models import TransferRequest
from inventory.services import balances_rebuild
from orders import services as orders
from orders.models import Order
from pickup import services as pickup
from pickup.models import PickupProblem, PickupTask
from pickup.services import following
from pickup.services.following import BY_ORDER_STATUS, BY_UNITS, NOT_FOR_PICKUP
from reconciliation.models import ExceptionCase, ExceptionKind
from tests.factories import (
    LocationFactory,
    StaffFactory,
    balance_of,
    pickup_order,
    stock,
)
from tests.threads import all_at_once

Status = PickupTask.Status
CHANNEL = Actor(name="token:web-shop", source="web")


def picking(shop, task, staff="alice"):
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(shop[staff]))
    pickup.pickup_task_start(task_id=task.pk, actor=Actor.of_user(shop[staff]))


def short(shop, task, line, quantity=1, condition="not_found"):
    return pickup.pickup_line_short(
        task_id=task.pk,
        line_id=line.pk,
        actor=Actor.of_user(shop["alice"]),
        quantity=quantity,
        condition=condition,
    )


def test_an_integration_moves_the_order_and_the_task_follows(
    shop, api, django_capture_on_commit_callbacks
):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop).pickup_task
    path = f"/api/v1/orders/{task.order_id}"
    api.post(f"{path}/pick/", {}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{path}/ready/", {}, format="json")
    task.refresh_from_db()
    assert task.status == Status.READY and task.expires_at is not None
    assert "ready to collect" in mail.outbox[0].subject  # the customer is still told
    api.post(f"{path}/collect/", {}, format="json")
    api.post(f"{path}/close/", {}, format="json")
    task.refresh_from_db()
    assert task.status == Status.CLOSED
    steps = list(task.events.exclude(to_status="").values_list("to_status", flat=True))
    assert steps == [
        "new",
        "claimed",
        "picking",
        "picked",
        "ready",
        "collected",
        "closed",
    ]


def test_the_channel_cancels_one_line_and_the_rest_is_picked(shop, api):
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["hoodie"], shop["oxford"], 1)
    order = pickup_order(shop, lines=[(shop["tee"], 1), (shop["hoodie"], 1)])
    task = order.pickup_task
    picking(shop, task)
    tee_line, hoodie_line = order.lines.order_by("id")
    pickup.pickup_line_pick(
        task_id=task.pk, line_id=tee_line.pk, actor=Actor.of_user(shop["alice"])
    )
    api.post(
        f"/api/v1/orders/{order.pk}/cancel/",
        {"reason": "Out of stock online", "lines": [{"line": hoodie_line.pk}]},
        format="json",
    )
    task.refresh_from_db()
    assert task.status == Status.PICKED  # nothing left to pick: ready can be pressed
    pickup.pickup_task_mark_ready(task_id=task.pk, actor=Actor.of_user(shop["alice"]))


def test_two_problems_on_one_line_are_decided_one_by_one(shop):
    stock(shop["tee"], shop["oxford"], 3)
    stock(shop["polo"], shop["oxford"], 1)
    order = pickup_order(shop, lines=[(shop["tee"], 3)])
    task = order.pickup_task
    picking(shop, task)
    line = order.lines.get()
    damaged = short(shop, task, line, condition="damaged")
    missing = short(shop, task, line, condition="not_found")
    pickup.pickup_problem_substitute(
        problem_id=damaged.pk,
        actor=Actor.of_user(shop["alice"]),
        substitute=shop["polo"],
        customer_answer="accepted",
    )
    line.refresh_from_db()
    assert (line.short_quantity, line.cancelled_quantity) == (1, 1)
    pickup.pickup_problem_cancel(
        problem_id=missing.pk, actor=Actor.of_user(shop["alice"])
    )
    line.refresh_from_db()
    assert (line.short_quantity, line.cancelled_quantity, line.open_quantity) == (
        0,
        2,
        1,
    )
    assert set(PickupProblem.objects.values_list("resolution", flat=True)) == {
        "substitute",
        "cancel",
    }


def test_a_transfer_on_the_road_when_the_channel_cancels_those_units(shop):
    stock(shop["tee"], shop["oxford"], 2)
    stock(shop["tee"], shop["camden"], 1)
    order = pickup_order(shop, lines=[(shop["tee"], 2)])
    task = order.pickup_task
    picking(shop, task)
    line = order.lines.get()
    problem = short(shop, task, line)
    pickup.pickup_line_pick(
        task_id=task.pk, line_id=line.pk, actor=Actor.of_user(shop["alice"])
    )
    pickup.pickup_problem_source_elsewhere(
        problem_id=problem.pk,
        actor=Actor.of_user(shop["alice"]),
        from_location=shop["camden"],
    )
    transfer = TransferRequest.objects.get()
    pickup.pickup_transfer_dispatch(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["carol"])
    )
    # The customer no longer wants the missing unit: the channel cancels it.
    orders.order_cancel(
        order_id=order.pk,
        lines=[orders.LineQuantity(line.pk, 1)],
        reason="Changed mind",
        actor=CHANNEL,
    )
    line.refresh_from_db()
    # The unit still arrives: on hand here, nobody's, and the task can go on.
    pickup.pickup_transfer_receive(
        transfer_id=transfer.pk, actor=Actor.of_user(shop["alice"])
    )
    transfer.refresh_from_db()
    task.refresh_from_db()
    assert transfer.status == TransferRequest.Status.RECEIVED
    assert task.status == Status.PICKED
    oxford = balance_of(shop["tee"], shop["oxford"])
    assert (oxford.on_hand, oxford.picked, oxford.available) == (2, 1, 1)
    assert balances_rebuild() == []


def test_nothing_is_decided_on_a_cancelled_order_and_its_problems_close(shop):
    stock(shop["tee"], shop["oxford"], 1)
    stock(shop["tee"], shop["camden"], 1)
    order = pickup_order(shop)
    task = order.pickup_task
    picking(shop, task)
    problem = short(shop, task, order.lines.get())
    orders.order_cancel(
        order_id=order.pk, lines=None, reason="Changed mind", actor=CHANNEL
    )
    with pytest.raises(DomainError):
        pickup.pickup_problem_source_elsewhere(
            problem_id=problem.pk,
            actor=Actor.of_user(shop["alice"]),
            from_location=shop["camden"],
        )
    problem.refresh_from_db()
    assert problem.status == PickupProblem.Status.RESOLVED
    assert not TransferRequest.objects.exists()
    assert pickup.pickup_problems_escalate(now=timezone.now() + timedelta(hours=2)) == 0


def test_only_the_picker_or_a_manager_lets_a_task_go(shop):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop).pickup_task
    picking(shop, task)
    with pytest.raises(pickup.TaskClaimedByAnother, match="Alice has this order"):
        pickup.pickup_task_release(task_id=task.pk, actor=Actor.of_user(shop["bob"]))
    # Alice went home mid-pick: the manager frees the task, Bob takes it over.
    pickup.pickup_task_release(task_id=task.pk, actor=Actor.of_user(shop["maria"]))
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(shop["bob"]))
    pickup.pickup_line_pick(
        task_id=task.pk,
        line_id=task.order.lines.get().pk,
        actor=Actor.of_user(shop["bob"]),
    )
    task.refresh_from_db()
    assert (task.status, task.claimed_by) == (Status.PICKED, shop["bob"])


def test_the_expiry_job_gets_past_a_task_it_cannot_expire(shop):
    stock(shop["tee"], shop["oxford"], 2)
    broken, fine = (
        pickup_order(shop, ref).pickup_task for ref in ("WEB-6001", "WEB-6002")
    )
    for task in (broken, fine):
        picking(shop, task)
        pickup.pickup_line_pick(
            task_id=task.pk,
            line_id=task.order.lines.get().pk,
            actor=Actor.of_user(shop["alice"]),
        )
        pickup.pickup_task_mark_ready(
            task_id=task.pk, actor=Actor.of_user(shop["alice"])
        )
    PickupTask.objects.filter(pk=broken.pk).update(
        expires_at=timezone.now() - timedelta(hours=2)
    )
    PickupTask.objects.filter(pk=fine.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    Order.objects.filter(pk=broken.order_id).update(
        status=Order.Status.CLOSED
    )  # out of step
    assert pickup.pickup_tasks_expire() == 1
    fine.refresh_from_db()
    assert fine.status == Status.EXPIRED


def test_no_reminder_once_the_hold_has_run_out(shop):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop).pickup_task
    picking(shop, task)
    pickup.pickup_line_pick(
        task_id=task.pk,
        line_id=task.order.lines.get().pk,
        actor=Actor.of_user(shop["alice"]),
    )
    task = pickup.pickup_task_mark_ready(
        task_id=task.pk, actor=Actor.of_user(shop["alice"])
    )
    assert pickup.pickup_reminders_send(now=task.expires_at + timedelta(minutes=5)) == 0


def test_the_ready_email_gives_the_store_s_own_time(
    shop, django_capture_on_commit_callbacks
):
    new_york = LocationFactory(
        code="NYC-5TH",
        name="Fifth Avenue",
        time_zone="America/New_York",
        pickup_enabled=True,
    )
    sam = StaffFactory.at(new_york, username="sam")
    stock(shop["tee"], new_york, 1)
    task = pickup_order(shop, store=new_york).pickup_task
    pickup.pickup_task_claim(task_id=task.pk, actor=Actor.of_user(sam))
    pickup.pickup_task_start(task_id=task.pk, actor=Actor.of_user(sam))
    pickup.pickup_line_pick(
        task_id=task.pk, line_id=task.order.lines.get().pk, actor=Actor.of_user(sam)
    )
    with django_capture_on_commit_callbacks(execute=True):
        task = pickup.pickup_task_mark_ready(task_id=task.pk, actor=Actor.of_user(sam))
    local = timezone.localtime(task.expires_at, timezone.get_fixed_timezone(0))
    in_new_york = task.expires_at.astimezone(ZoneInfo("America/New_York"))
    assert f"{in_new_york:%H:%M}" in mail.outbox[0].body
    assert f"{local:%H:%M}" not in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_a_pick_and_the_channel_s_cancel_at_the_same_moment(shop):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop, "WEB-6100").pickup_task
    picking(shop, task)
    line = task.order.lines.get()

    def act(n):
        try:
            if n == 0:
                pickup.pickup_line_pick(
                    task_id=task.pk, line_id=line.pk, actor=Actor.of_user(shop["alice"])
                )
            else:
                orders.order_cancel(
                    order_id=task.order_id,
                    lines=None,
                    reason="Fraud check",
                    actor=CHANNEL,
                )
            return "done"
        except DomainError as refused:
            return refused.code
        except OperationalError as failure:  # a deadlock would land here
            return f"database: {failure}"

    outcomes = all_at_once(2, act)
    assert not any(str(o).startswith("database") for o in outcomes), outcomes
    task.refresh_from_db()
    assert task.status == Status.CANCELLED
    assert balances_rebuild() == []


def test_the_task_has_an_answer_for_every_status_of_its_order():
    # Orders adding a status fails here first: say what the task does at it.
    assert set(BY_ORDER_STATUS) == set(Order.Status.values)
    answers = set(PickupTask.Status.values) | {BY_UNITS, NOT_FOR_PICKUP}
    assert set(BY_ORDER_STATUS.values()) <= answers


def test_each_step_the_order_brings_is_recorded_with_its_action(shop, api):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop).pickup_task
    path = f"/api/v1/orders/{task.order_id}"
    for step in ("pick", "ready", "collect", "close"):
        api.post(f"{path}/{step}/", {}, format="json")
    actions = list(task.events.exclude(to_status="").values_list("action", flat=True))
    assert actions == [
        "pickup_open",
        "pickup_claim",
        "pickup_start",
        "pickup_picked",
        "pickup_ready",
        "pickup_collect",
        "pickup_close",
    ]


def test_an_order_is_never_refused_because_its_task_cannot_follow(shop):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop).pickup_task
    picking(shop, task)
    pickup.pickup_line_pick(
        task_id=task.pk,
        line_id=task.order.lines.get().pk,
        actor=Actor.of_user(shop["alice"]),
    )
    # Out of step: the task says collected, the order is still being picked.
    PickupTask.objects.filter(pk=task.pk).update(status=Status.COLLECTED)
    orders.order_cancel(
        order_id=task.order_id, lines=None, reason="Changed mind", actor=CHANNEL
    )
    task.refresh_from_db()
    assert task.order.status == Order.Status.CANCELLED
    assert task.status == Status.COLLECTED  # left for a person
    case = ExceptionCase.objects.get(key=f"pickup_out_of_step:task:{task.pk}")
    assert (case.kind, case.status) == (
        ExceptionKind.PICKUP_OUT_OF_STEP,
        ExceptionCase.Status.OPEN,
    )
    assert task.events.filter(action="pickup_out_of_step").count() == 1


def test_an_order_status_pickup_has_no_answer_for_goes_to_a_person(
    shop, api, monkeypatch
):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop).pickup_task
    unanswered = dict(BY_ORDER_STATUS)
    del unanswered[Order.Status.IN_PROGRESS]
    monkeypatch.setattr(following, "BY_ORDER_STATUS", unanswered)
    answer = api.post(f"/api/v1/orders/{task.order_id}/pick/", {}, format="json")
    assert answer.status_code == 200
    task.refresh_from_db()
    assert task.order.status == Order.Status.IN_PROGRESS
    assert task.status == Status.NEW
    assert ExceptionCase.objects.filter(
        key=f"pickup_out_of_step:task:{task.pk}",
        kind=ExceptionKind.PICKUP_OUT_OF_STEP,
        status=ExceptionCase.Status.OPEN,
    ).exists()
