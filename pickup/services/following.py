"""How a pickup task follows its order, whoever moved the order (a picker on the
store's screen, the channel through the API, the back-office): ``BY_ORDER_STATUS``
says what the task becomes at each status of its order, and the task goes there
along ``FORWARD``, one recorded step at a time, in the order's transaction. Problems
whose units left the order are closed on the way, a transfer not yet sent for them
called off.

An order's change never fails because of its task: a status this table has no
answer for, or a step the task's own table does not allow, leaves the task where it
is, notes it on the task's timeline and raises an exception case for a person."""

from datetime import datetime, timedelta

from django.utils import timezone

from config.access import Actor
from config.transitions import move
from inventory.models import TransferRequest
from inventory.services.transfers import TransferTransitionRefused, transfer_cancel
from orders.models import Order, OrderLine

from ..models import PickupProblem, PickupTask
from ..notices import notice_customer
from .cases import raise_out_of_step, settle_undecided
from .shared import (
    FINAL,
    STEP_ACTIONS,
    Notice,
    PickupTransitionRefused,
    Status,
    noted,
)

OrderStatus = Order.Status
# Picking, waiting for a transfer, or picked: what the order's units say.
BY_UNITS = "by_units"
# A pickup order is collected, never shipped (orders refuses to ship one).
NOT_FOR_PICKUP = "not_for_pickup"

# What the task becomes when its order reaches each status: the one table the
# task follows (tests/pickup/test_pickup_following.py holds it to every status).
BY_ORDER_STATUS: dict[str, str] = {
    # Placed and allocated in one transaction, before the task is opened.
    OrderStatus.PLACED: BY_UNITS,
    OrderStatus.ALLOCATED: BY_UNITS,
    OrderStatus.IN_PROGRESS: BY_UNITS,
    OrderStatus.READY: Status.READY,
    OrderStatus.PARTIALLY_SHIPPED: NOT_FOR_PICKUP,
    OrderStatus.SHIPPED: NOT_FOR_PICKUP,
    OrderStatus.COLLECTED: Status.COLLECTED,
    OrderStatus.CLOSED: Status.CLOSED,
    OrderStatus.CANCELLED: Status.CANCELLED,
}

# The way a task goes forward, every step recorded: an order picked and made ready
# through the API brings its untouched task through claimed, picking and picked.
# Waiting for a transfer sits beside picking; a cancellation is one step from
# anywhere open, and so is any other move the task's table allows.
FORWARD = (
    Status.NEW,
    Status.CLAIMED,
    Status.PICKING,
    Status.PICKED,
    Status.READY,
    Status.COLLECTED,
    Status.CLOSED,
)


def pickup_documents_lock(*, order: Order) -> None:
    """An order was just locked for a change: its task, the task's open problems and
    their transfer requests are locked now, in that order, before any stock moves
    (the lock order, inventory.locking). Following the order afterwards closes
    problems and calls transfers off under these locks; a transfer being dispatched
    meanwhile is waited for here, never while holding the order's balances."""
    if not order.is_collected_by_customer:
        return  # never had a task (pickup_task_open): no query for one
    task = PickupTask.objects.select_for_update(no_key=True).filter(order=order)
    task_id = task.values_list("pk", flat=True).first()
    if task_id is None:
        return
    problems = (
        PickupProblem.objects.select_for_update(no_key=True)
        .filter(task_id=task_id)
        .exclude(status=PickupProblem.Status.RESOLVED)
        .order_by("pk")
    )
    transfer_ids = [
        transfer
        for transfer in problems.values_list("transfer_id", flat=True)
        if transfer is not None
    ]
    list(
        TransferRequest.objects.select_for_update(no_key=True)
        .filter(pk__in=transfer_ids)
        .order_by("pk")
        .values_list("pk")
    )


def pickup_task_follow_order(*, order: Order, actor: Actor) -> None:
    """The order changed (in the store, through the API, in the back-office): the
    task follows, in the same transaction. Called with the order locked."""
    task = PickupTask.objects.select_for_update(no_key=True).filter(order=order).first()
    if task is not None:
        follow(task, actor)


def follow(task: PickupTask, actor: Actor) -> None:
    """Bring the task to where its order stands (``BY_ORDER_STATUS``)."""
    task.refresh_from_db()
    if task.status in FINAL:
        return
    order = Order.objects.get(pk=task.order_id)
    now = timezone.now()
    becomes = BY_ORDER_STATUS.get(order.status)
    if becomes is None or becomes == NOT_FOR_PICKUP:
        _out_of_step(
            task,
            order,
            actor,
            now,
            why=f"Pickup has no step for an order that is {order.status}.",
        )
        return
    if becomes == Status.CANCELLED:
        _walk(task, order, Status.CANCELLED, actor, now, note="Order cancelled.")
        close_problems(task, actor, now)
        return
    lines = list(order.lines.select_related("sku"))
    close_problems(task, actor, now, lines=lines)
    target = by_units(task, lines) if becomes == BY_UNITS else becomes
    if target is not None and target != task.status:
        _walk(task, order, target, actor, now)


def by_units(task: PickupTask, lines: list[OrderLine]) -> str | None:
    """Where the order's units put a task still being worked; None: where it is."""
    started = any(line.picked_quantity or line.short_quantity for line in lines)
    if task.status in (Status.NEW, Status.CLAIMED) and not started:
        return None
    if task.problems.filter(status=PickupProblem.Status.WAITING).exists():
        return Status.ON_HOLD
    if all(
        line.unpicked_quantity == 0
        and not line.short_quantity
        and not line.awaiting_supply_quantity  # a pre-order's units still to come
        for line in lines
    ):
        return Status.PICKED
    return Status.PICKING


def route(start: str, target: str) -> list[str] | None:
    """The steps from ``start`` to ``target``: one when the task's table allows it,
    else forward along ``FORWARD``; None when there is no way."""
    if target in PickupTask.TRANSITIONS[start]:
        return [target]
    here = Status.PICKING if start == Status.ON_HOLD else start
    last = Status.PICKING if target == Status.ON_HOLD else target
    if here not in FORWARD or last not in FORWARD:
        return None
    if FORWARD.index(last) <= FORWARD.index(here):
        return None
    steps = list(FORWARD[FORWARD.index(here) + 1 : FORWARD.index(last) + 1])
    if target == Status.ON_HOLD:
        steps.append(Status.ON_HOLD)
    at = start
    for step in steps:
        if step not in PickupTask.TRANSITIONS[at]:
            return None
        at = step
    return steps


def _walk(
    task: PickupTask,
    order: Order,
    target: str,
    actor: Actor,
    now: datetime,
    note: str = "",
) -> None:
    steps = route(task.status, target)
    if steps is None:
        _out_of_step(
            task,
            order,
            actor,
            now,
            why=f"A task that is {task.status} cannot become {target}.",
        )
        return
    for step in steps:
        also: tuple[str, ...] = ()
        if step == Status.READY:
            task.ready_at = now
            task.expires_at = now + timedelta(days=task.location.pickup_hold_days)
            also = ("ready_at", "expires_at")
        if step == Status.COLLECTED:
            task.collected_at = now
            also = ("collected_at",)
        last = step == steps[-1]
        move(
            task,
            to=step,
            actor=actor,
            action=STEP_ACTIONS[step],
            at=now,
            note=(note or _step_note(task, step)) if last else "",
            error=PickupTransitionRefused,
            also=also,
        )
    if target == Status.READY:
        # Told once, when the task is ready and stays so.
        lines = [
            line
            for line in task.order.lines.select_related("sku")
            if line.open_quantity
        ]
        notice_customer(task=task, kind=Notice.READY, context={"lines": lines})


def _step_note(task: PickupTask, step: str) -> str:
    if step == Status.READY:
        return f"On hold at {task.hold_slot}." if task.hold_slot else "On hold."
    return ""


def _out_of_step(
    task: PickupTask, order: Order, actor: Actor, now: datetime, *, why: str
) -> None:
    noted(
        task,
        actor=actor,
        action="pickup_out_of_step",
        note=f"The order is {order.get_status_display().lower()}: the task could "
        "not follow; sent to the exception queue.",
        at=now,
    )
    raise_out_of_step(task, order.status, why)


def close_problems(
    task: PickupTask,
    actor: Actor,
    now: datetime,
    lines: list[OrderLine] | None = None,
) -> None:
    """Problems whose units are gone from the order (the whole order or those units
    cancelled elsewhere) need no decision any more: closed, and a transfer not yet
    sent for them called off."""
    problems = list(
        task.problems.select_for_update(no_key=True, of=("self",))
        .exclude(status=PickupProblem.Status.RESOLVED)
        .select_related("line__sku", "transfer")
        .order_by("reported_at")
    )
    short_left = {line.pk: line.short_quantity for line in lines or []}
    # A problem waiting for its transfer keeps its units before an open one does.
    for problem in sorted(
        problems, key=lambda p: p.status != PickupProblem.Status.WAITING
    ):
        left = short_left.get(problem.line_id, 0)
        if left >= problem.quantity:
            short_left[problem.line_id] = left - problem.quantity
            continue
        if problem.status == PickupProblem.Status.WAITING and lines is not None:
            continue  # its transfer still arrives; receipt commits what is still owed
        if (
            problem.transfer_id
            and problem.transfer.status == TransferRequest.Status.REQUESTED
        ):
            try:
                transfer_cancel(transfer_id=problem.transfer_id, actor=actor)
            except TransferTransitionRefused:
                pass  # sent a moment ago: it is received as usual
        problem.status = PickupProblem.Status.RESOLVED
        problem.resolution = problem.resolution or PickupProblem.Resolution.CANCEL
        problem.resolved_by, problem.resolved_at = actor.name, now
        problem.save()
        settle_undecided(problem, actor)
        noted(
            task,
            actor=actor,
            action="pickup_problem_closed",
            note=f"{problem.quantity} × {problem.line.sku.code}: no longer needed, "
            "cancelled on the order.",
            at=now,
        )
