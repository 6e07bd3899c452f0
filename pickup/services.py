"""Writes to pickup work: a task opened for every click-and-collect order, claimed,
picked (by scan or confirmation), held, handed over on the collection code, and
closed; the units a picker could not take and the decision about them; the reminder
and expiry of uncollected orders.

Each function is one transaction under the task's row lock. Stock moves only through
``orders.services`` and ``inventory.services``; every change of status is allowed by
``PickupTask.TRANSITIONS`` and recorded as a PickupTaskEvent with who and when. The
acting member of staff must work at the task's location (``inventory.access``).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Sku
from config.errors import Conflict, DomainError, InvalidInput, NotFound
from inventory import access
from inventory.models import Location, TransferRequest
from inventory.services.transfers import (
    TransferTransitionRefused,
    transfer_cancel,
    transfer_dispatch,
    transfer_receive,
    transfer_request,
)
from orders import services as orders
from orders.models import Method, Order, OrderLine, ReturnToStockTask
from reconciliation.models import ExceptionKind
from reconciliation.services import Raised, exception_raise, exception_settle

from .models import PickupNotice, PickupProblem, PickupTask, PickupTaskEvent
from .notices import notice_customer

log = logging.getLogger(__name__)
Status = PickupTask.Status
Notice = PickupNotice.Kind
SYSTEM = "system:pickup"
FINAL = frozenset({Status.CLOSED, Status.CANCELLED, Status.EXPIRED})


class PickupTransitionRefused(Conflict):
    code = "pickup_transition_refused"


class TaskClaimedByAnother(Conflict):
    code = "task_claimed_by_another"


@dataclass(frozen=True)
class Address:
    """Where a later shipment goes."""

    address: str
    city: str
    postal_code: str
    country: str


# ------------------------------------------------------------- opening and flow


def pickup_task_open(*, order: Order) -> PickupTask | None:
    """A task at the store for a click-and-collect order (called as the order is
    placed, in its transaction). Other orders get none."""
    if not order.is_collected_by_customer:
        return None
    location = order.pickup_location or order.lines.first().location
    now = timezone.now()
    task = PickupTask.objects.create(
        order=order,
        location=location,
        due_at=order.promised_by or now,
        collection_code=f"{secrets.randbelow(10**6):06d}",
        created_at=now,
    )
    _record(task, "", Status.NEW, order.placed_by, now, note="Order placed.")
    return task


@transaction.atomic
def pickup_task_claim(*, task_id: int, staff) -> PickupTask:
    """Take the task: one picker per task. Claimed by someone else already: 409 that
    names them. Claimed by this picker already: nothing changes. A task someone
    released mid-pick is taken over where it stands."""
    task = _task(task_id, staff)
    if task.claimed_by_id == staff.pk:
        return task
    if task.claimed_by_id is not None:
        raise _taken(task, "{who} claimed this order at {at}.")
    now = timezone.now()
    task.claimed_by, task.claimed_at = staff, now
    if task.status == Status.NEW:
        _move(task, Status.CLAIMED, access.actor_of(staff), now)
    elif task.status in (Status.PICKING, Status.ON_HOLD, Status.PICKED):
        task.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        _record(task, "", "", access.actor_of(staff), now, note="Took it over.")
    else:
        raise _refusal(task, "claimed")
    return task


@transaction.atomic
def pickup_task_release(*, task_id: int, staff) -> PickupTask:
    """Let the task go, for someone else to claim: by its picker, or by a manager
    when the picker has gone. Before picking it goes back to new; during picking it
    stays where it is, unclaimed."""
    task = _task(task_id, staff)
    if task.claimed_by_id is None:
        raise _refusal(task, "released", hint="Nobody has it.")
    if task.claimed_by_id != staff.pk and not access.sees_every_location(staff):
        raise _taken(
            task, "{who} has this order: only they or a manager can release it."
        )
    now = timezone.now()
    task.claimed_by, task.claimed_at = None, None
    note = "Released for someone else."
    if task.status == Status.CLAIMED:
        _move(task, Status.NEW, access.actor_of(staff), now, note=note)
    elif task.status in (Status.PICKING, Status.ON_HOLD, Status.PICKED):
        task.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        _record(task, "", "", access.actor_of(staff), now, note=note)
    else:
        raise _refusal(task, "released")
    return task


@transaction.atomic
def pickup_task_start(*, task_id: int, staff) -> PickupTask:
    task = _task(task_id, staff)
    _claimer_only(task, staff)
    _move(task, Status.PICKING, access.actor_of(staff), timezone.now())
    return task


@transaction.atomic
def pickup_line_pick(
    *, task_id: int, line_id: int, staff, scanned: str = "", quantity: int | None = None
) -> PickupTask:
    """Units of a line taken off the shelf into the pickup-hold area. ``scanned`` is
    what the scanner read (the SKU code or its barcode); empty means the picker
    confirmed the SKU by eye. A scan of anything else is refused."""
    task = _task(task_id, staff)
    _claimer_only(task, staff)
    if task.status != Status.PICKING:
        raise _refusal(task, "picked")
    line = _line(task, line_id)
    code = scanned.strip()
    if code and code not in (line.sku.code, line.sku.barcode):
        raise InvalidInput(
            {"scanned": [f"{code!r} is not {line.sku.code}: check the item."]}
        )
    orders.order_pick(
        order_id=task.order_id,
        lines=[orders.LineQuantity(line_id=line.pk, quantity=quantity)],
        who=_who(staff),
    )
    task.refresh_from_db()
    return task


@transaction.atomic
def pickup_task_mark_ready(*, task_id: int, staff, hold_slot: str = "") -> PickupTask:
    """Every unit is in the pickup-hold area: the customer is told to come (the
    order's move to ready brings the task with it, see ``_follow``)."""
    task = _task(task_id, staff)
    if task.status != Status.PICKED:
        raise _refusal(task, "marked ready")
    task.hold_slot = hold_slot.strip()[:40]
    task.save(update_fields=["hold_slot", "updated_at"])
    orders.order_mark_ready(order_id=task.order_id, who=_who(staff))
    task.refresh_from_db()
    return task


@transaction.atomic
def pickup_task_hand_over(
    *,
    task_id: int,
    staff,
    collection_code: str = "",
    order_reference: str = "",
    customer_name: str = "",
) -> PickupTask:
    """The customer takes the order, once they have shown its collection code, or
    named the order number and the name on it."""
    task = _task(task_id, staff)
    if task.status != Status.READY:
        raise _refusal(task, "handed over")
    _verify_customer(task, collection_code, order_reference, customer_name)
    how = "collection code" if collection_code.strip() else "order number and name"
    _record(
        task, "", "", access.actor_of(staff), timezone.now(), note=f"Verified by {how}."
    )
    orders.order_collect(order_id=task.order_id, who=_who(staff))
    task.refresh_from_db()
    return task


@transaction.atomic
def pickup_task_close(*, task_id: int, staff) -> PickupTask:
    task = _task(task_id, staff)
    if task.status != Status.COLLECTED:
        raise _refusal(task, "closed")
    orders.order_close(order_id=task.order_id, who=_who(staff))
    task.refresh_from_db()
    return task


@transaction.atomic
def return_to_stock_put_away(*, task_id: int, staff) -> ReturnToStockTask:
    """Staff at the store confirm the units are back on the shelf."""
    task = ReturnToStockTask.objects.filter(pk=task_id).only("location_id").first()
    access.ensure_may_act_at(
        user=staff,
        location_id=task.location_id if task else 0,
        what=f"return-to-stock task {task_id}",
    )
    # Two units put back at once: the order's lock, taken by the confirmation before
    # anything else, makes the second see the first.
    put_away = orders.return_to_stock_confirm(task_id=task_id, who=_who(staff))
    still_out = ReturnToStockTask.objects.filter(
        order_id=put_away.order_id, status=ReturnToStockTask.Status.OPEN
    )
    if not still_out.exists():
        exception_settle(
            key=_expired_key(put_away.order_id),
            note="Every unit put back on the shelf.",
            actor=access.actor_of(staff),
        )
    return put_away


# ------------------------------------------------------- not found, or damaged


@transaction.atomic
def pickup_line_short(
    *, task_id: int, line_id: int, staff, quantity: int, condition: str, note: str = ""
) -> PickupProblem:
    """The picker could not take ``quantity`` units: the stock fact is recorded now
    (``orders.order_report_short``) and the problem waits for a decision."""
    task = _task(task_id, staff)
    _claimer_only(task, staff)
    if task.status != Status.PICKING:
        raise _refusal(task, "reported short")
    if condition not in PickupProblem.Condition.values:
        raise InvalidInput({"condition": ["Say whether it is not found or damaged."]})
    line = _line(task, line_id)
    orders.order_report_short(
        order_id=task.order_id,
        line_id=line.pk,
        quantity=quantity,
        condition=condition,
        who=_who(staff),
        note=note,
    )
    now = timezone.now()
    problem = PickupProblem.objects.create(
        task=task,
        line=line,
        quantity=quantity,
        condition=condition,
        note=note.strip()[:300],
        reported_by=access.actor_of(staff),
        reported_at=now,
    )
    if condition == PickupProblem.Condition.NOT_FOUND:
        _raise_not_found(problem, task)
    label = PickupProblem.Condition(condition).label.lower()
    _record(
        task,
        "",
        "",
        access.actor_of(staff),
        now,
        note=f"{quantity} × {line.sku.code} {label}.",
    )
    return problem


@transaction.atomic
def pickup_problem_source_elsewhere(
    *, problem_id: int, staff, from_location: Location
) -> PickupProblem:
    """Ask another branch for the units: committed there now, on their way once it
    dispatches them; the task waits for them."""
    problem, task = _problem(problem_id, staff)
    problem.transfer = transfer_request(
        sku=problem.line.sku,
        quantity=problem.quantity,
        from_location=from_location,
        to_location=task.location,
        channel=task.order.channel,
        reason=f"Pickup order {task.order.reference}: "
        f"{problem.get_condition_display().lower()} at {task.location.code}",
        actor=access.actor_of(staff),
    )
    _decide(
        problem,
        PickupProblem.Resolution.SOURCE_ELSEWHERE,
        staff,
        PickupProblem.Status.WAITING,
    )
    _follow(task, access.actor_of(staff))
    return problem


@transaction.atomic
def pickup_problem_substitute(
    *, problem_id: int, staff, substitute: Sku, customer_answer: str
) -> PickupProblem:
    """The customer was offered ``substitute``: accepted, it is added to the order
    from this store's shelf; declined, the units are cancelled."""
    problem, task = _problem(problem_id, staff)
    if customer_answer not in PickupProblem.Answer.values:
        raise InvalidInput({"customer_answer": ["Record the customer's answer."]})
    if substitute.pk == problem.line.sku_id:
        raise InvalidInput({"substitute": ["Choose another SKU than the one missing."]})
    who = _who(staff)
    accepted = customer_answer == PickupProblem.Answer.ACCEPTED
    sku = problem.line.sku
    # The substitute is added before the missing units go, so the order is never
    # left with nothing on it (which would cancel it).
    if accepted:
        orders.order_add_line(
            order_id=task.order_id,
            sku=substitute,
            location=task.location,
            quantity=problem.quantity,
            who=who,
            reason=f"Substitute for {sku.code}, accepted by the customer.",
        )
    problem.substitute_sku = substitute
    problem.customer_answer = customer_answer
    _decide(problem, PickupProblem.Resolution.SUBSTITUTE, staff)
    verb = "replaced by" if accepted else "declined substitute"
    _cancel_short(problem, task, who, reason=f"{sku.code} {verb} {substitute.code}")
    _follow(task, who.actor)
    notice_customer(
        task=task,
        kind=Notice.SUBSTITUTE if accepted else Notice.UNITS_CANCELLED,
        context=_problem_context(problem, task, substitute=substitute),
    )
    return problem


@transaction.atomic
def pickup_problem_ship_later(
    *, problem_id: int, staff, address: Address
) -> PickupProblem:
    """The units are delivered to the customer instead, on a follow-up order routed
    to the location that can ship them; refused if none can."""
    problem, task = _problem(problem_id, staff)
    missing = {
        name: ["Needed to deliver the items."]
        for name, value in (
            ("address", address.address),
            ("city", address.city),
            ("postal_code", address.postal_code),
            ("country", address.country),
        )
        if not value.strip()
    }
    if missing:
        raise InvalidInput(missing)
    order, who = task.order, _who(staff)
    follow_up, _ = orders.order_place(
        channel=order.channel,
        reference=f"{order.reference}-D{problem.pk}",
        method=Method.SHIP,
        customer=orders.Customer(
            name=order.customer_name,
            email=order.customer_email,
            phone=order.customer_phone,
        ),
        who=who,
        lines=[orders.OrderLineInput(sku=problem.line.sku, quantity=problem.quantity)],
        delivery=orders.Delivery(
            address=address.address.strip(),
            city=address.city.strip(),
            postal_code=address.postal_code.strip(),
            country=address.country.strip().upper()[:2],
        ),
    )
    problem.follow_up_order = follow_up
    _decide(problem, PickupProblem.Resolution.SHIP_LATER, staff)
    _cancel_short(
        problem, task, who, reason=f"Delivered later on order {follow_up.reference}."
    )
    _follow(task, who.actor)
    notice_customer(
        task=task,
        kind=Notice.SHIP_LATER,
        context=_problem_context(problem, task, follow_up=follow_up),
    )
    return problem


@transaction.atomic
def pickup_problem_cancel(*, problem_id: int, staff) -> PickupProblem:
    """Cancel the units at once and tell the customer before they travel."""
    problem, task = _problem(problem_id, staff)
    who = _who(staff)
    _decide(problem, PickupProblem.Resolution.CANCEL, staff)
    _cancel_short(
        problem,
        task,
        who,
        reason=f"{problem.get_condition_display()} at {task.location.code}; "
        "customer told.",
    )
    _follow(task, who.actor)
    notice_customer(
        task=task,
        kind=Notice.UNITS_CANCELLED,
        context=_problem_context(problem, task),
    )
    return problem


@transaction.atomic
def pickup_transfer_dispatch(*, transfer_id: int, staff) -> TransferRequest:
    """The sending branch's staff confirm the units left."""
    transfer = _transfer(transfer_id)
    access.ensure_may_act_at(
        user=staff,
        location_id=transfer.from_location_id,
        what=f"transfer {transfer_id}",
    )
    return transfer_dispatch(transfer_id=transfer_id, actor=access.actor_of(staff))


@transaction.atomic
def pickup_transfer_receive(*, transfer_id: int, staff) -> TransferRequest:
    """The units arrived at this store. They are on hand whatever became of the
    order (a physical fact); if the order still waits for them they are committed to
    it again and the task goes back to picking. The same confirmation twice changes
    nothing."""
    transfer = _transfer(transfer_id)
    access.ensure_may_act_at(
        user=staff, location_id=transfer.to_location_id, what=f"transfer {transfer_id}"
    )
    waiting = PickupProblem.objects.filter(transfer_id=transfer_id).first()
    task = _task(waiting.task_id, staff) if waiting is not None else None
    # The documents first (the order and its task, then the problem), the transfer
    # and its stock after them: the lock order, inventory.locking.
    problem = (
        PickupProblem.objects.select_for_update(no_key=True).get(pk=waiting.pk)
        if task is not None
        else None
    )
    transfer = transfer_receive(transfer_id=transfer_id, actor=access.actor_of(staff))
    if problem is None:
        return transfer
    if problem.status != PickupProblem.Status.WAITING:
        return transfer
    line = OrderLine.objects.get(pk=problem.line_id)
    # The channel may have cancelled some of those units meanwhile.
    still_short = min(problem.quantity, line.short_quantity)
    if still_short:
        orders.order_refill_short(
            order_id=task.order_id,
            line_id=line.pk,
            quantity=still_short,
            who=_who(staff),
            reason=f"Transfer {transfer.pk} from {transfer.from_location.code} "
            "received.",
        )
    _decide(problem, problem.resolution, staff)
    _follow(task, access.actor_of(staff))
    return transfer


# ------------------------------------------------------- jobs, run by beat


def pickup_reminders_send(*, now: datetime | None = None) -> int:
    """Remind each customer once, a while before their order expires."""
    now = now or timezone.now()
    before = timedelta(hours=settings.PICKUP_REMINDER_HOURS_BEFORE_EXPIRY)
    sent = 0
    for task_id in _ready_expiring(before=now + before, after=now, reminded=False):
        with transaction.atomic():
            task = _lock(task_id)
            if task.status != Status.READY or task.reminded_at is not None:
                continue
            task.reminded_at = now
            task.save(update_fields=["reminded_at", "updated_at"])
            _record(task, "", "", SYSTEM, now, note="Reminder sent.")
            notice_customer(task=task, kind=Notice.REMINDER)
            sent += 1
    return sent


def pickup_tasks_expire(*, now: datetime | None = None) -> int:
    """Orders not collected in time: cancelled, their units to be put back on the
    shelf by staff (a return-to-stock task), the customer told. One task that cannot
    be expired is logged and skipped; the others still are."""
    now = now or timezone.now()
    expired = 0
    for task_id in _ready_expiring(before=now):
        try:
            with transaction.atomic():
                task = _lock(task_id)
                if task.status != Status.READY or task.expires_at > now:
                    continue
                days = task.location.pickup_hold_days
                # Expired first: the order's cancellation then finds the task final.
                _move(
                    task,
                    Status.EXPIRED,
                    SYSTEM,
                    now,
                    note=f"Not collected in {days} days.",
                )
                orders.order_cancel(
                    order_id=task.order_id,
                    lines=None,
                    reason=f"Not collected within {days} days.",
                    who=orders.Who(actor=SYSTEM, source="store"),
                )
                notice_customer(task=task, kind=Notice.EXPIRED)
                _raise_expired(task, days)
                expired += 1
        except DomainError as refused:
            log.error("Pickup task %s not expired: %s", task_id, refused.message)
    return expired


def pickup_problems_escalate(*, now: datetime | None = None) -> int:
    """Problems nobody decided on in time go to the manager's queue, once."""
    now = now or timezone.now()
    late = now - timedelta(minutes=settings.PICKUP_PROBLEM_ESCALATE_MINUTES)
    with transaction.atomic():
        ids = list(
            PickupProblem.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(
                status=PickupProblem.Status.OPEN,
                escalated_at__isnull=True,
                reported_at__lte=late,
            )
            .values_list("pk", flat=True)
        )
        PickupProblem.objects.filter(pk__in=ids).update(escalated_at=now)
        for problem in PickupProblem.objects.filter(pk__in=ids).select_related(
            "line__sku"
        ):
            PickupTaskEvent.objects.create(
                task_id=problem.task_id,
                actor=SYSTEM,
                note=f"{problem.quantity} × {problem.line.sku.code} undecided for "
                f"{settings.PICKUP_PROBLEM_ESCALATE_MINUTES} min: sent to the manager.",
                at=now,
            )
            _raise_undecided(problem)
    return len(ids)


# ------------------------------------------------------- following the order


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


def pickup_task_follow_order(*, order: Order, actor: str) -> None:
    """The order changed (in the store, through the API, in the back-office): the
    task follows, in the same transaction. Called with the order locked."""
    task = PickupTask.objects.select_for_update(no_key=True).filter(order=order).first()
    if task is not None:
        _follow(task, actor)


def _follow(task: PickupTask, actor: str) -> None:
    """Bring the task to where its order stands: cancelled with it (its problems
    closed, a transfer not yet sent called off), ready, collected or closed with it,
    else picking, waiting for a transfer, or picked, by its units."""
    task.refresh_from_db()
    if task.status in FINAL:
        return
    order = Order.objects.get(pk=task.order_id)
    now = timezone.now()
    if order.status == Order.Status.CANCELLED:
        _walk(task, Status.CANCELLED, actor, now, note="Order cancelled.")
        _close_problems(task, actor, now)
        return
    lines = list(order.lines.select_related("sku"))
    _close_problems(task, actor, now, lines=lines)
    target = _target(task, order, lines)
    if target is not None and target != task.status:
        _walk(task, target, actor, now)


def _target(task: PickupTask, order: Order, lines: list[OrderLine]) -> str | None:
    by_order = {
        Order.Status.READY: Status.READY,
        Order.Status.COLLECTED: Status.COLLECTED,
        Order.Status.CLOSED: Status.CLOSED,
    }
    if order.status in by_order:
        return by_order[order.status]
    started = any(line.picked_quantity or line.short_quantity for line in lines)
    if task.status in (Status.NEW, Status.CLAIMED) and not started:
        return None
    if task.problems.filter(status=PickupProblem.Status.WAITING).exists():
        return Status.ON_HOLD
    if all(line.unpicked_quantity == 0 and not line.short_quantity for line in lines):
        return Status.PICKED
    return Status.PICKING


def _walk(
    task: PickupTask, target: str, actor: str, now: datetime, note: str = ""
) -> None:
    """Move the task to ``target`` by the shortest way its table allows, recording
    each step: an order moved on through the API brings its task the same way."""
    path = _path(task.status, target)
    if path is None:
        raise _refusal(task, PickupTask.Status(target).label.lower())
    for step in path:
        if step == Status.READY:
            task.ready_at = now
            task.expires_at = now + timedelta(days=task.location.pickup_hold_days)
        if step == Status.COLLECTED:
            task.collected_at = now
        last = step == path[-1]
        _move(
            task,
            step,
            actor,
            now,
            note=(note or _step_note(task, step)) if last else "",
        )
        if step == Status.READY:
            lines = [
                line
                for line in task.order.lines.select_related("sku")
                if line.open_quantity
            ]
            notice_customer(task=task, kind=Notice.READY, context={"lines": lines})


def _path(start: str, target: str) -> list[str] | None:
    frontier, seen = [[start]], {start}
    while frontier:
        route = frontier.pop(0)
        if route[-1] == target:
            return route[1:]
        for step in sorted(PickupTask.TRANSITIONS[route[-1]]):
            if step not in seen and (step == target or step not in FINAL):
                seen.add(step)
                frontier.append([*route, step])
    return None


def _step_note(task: PickupTask, step: str) -> str:
    if step == Status.READY:
        return f"On hold at {task.hold_slot}." if task.hold_slot else "On hold."
    return ""


def _close_problems(
    task: PickupTask, actor: str, now: datetime, lines: list[OrderLine] | None = None
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
        problem.resolved_by, problem.resolved_at = actor, now
        problem.save()
        _settle_undecided(problem, actor)
        _record(
            task,
            "",
            "",
            actor,
            now,
            note=f"{problem.quantity} × {problem.line.sku.code}: no longer needed, "
            "cancelled on the order.",
        )


# ---------------------------------------------------------- the exception queue


def _raise_not_found(problem: PickupProblem, task: PickupTask) -> None:
    """The records said the units were on the shelf: someone should find out why."""
    sku = problem.line.sku
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.ITEM_NOT_FOUND,
            key=f"pickup_problem:{problem.pk}",
            title=f"{sku.code} at {task.location.code}: {problem.quantity} unit(s) "
            f"not found for order {task.order.reference}",
            detail=f"Reported by {problem.reported_by}. {problem.note}".strip()
            + " The units were taken off on-hand; look for them, or recount.",
            sku=sku,
            location=task.location,
            link=f"/store/tasks/{task.pk}/",
            facts={"order": task.order.reference, "quantity": problem.quantity},
        ),
        actor=problem.reported_by,
    )


def _raise_undecided(problem: PickupProblem) -> None:
    task = problem.task
    minutes = settings.PICKUP_PROBLEM_ESCALATE_MINUTES
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.PICKUP_UNDECIDED,
            key=f"pickup_undecided:{problem.pk}",
            title=f"Order {task.order.reference}: {problem.quantity} × "
            f"{problem.line.sku.code} {problem.get_condition_display().lower()}, "
            f"undecided for {minutes} min",
            detail="The customer's order waits for a decision: source elsewhere, "
            "substitute, ship later or cancel these units.",
            sku=problem.line.sku,
            location=task.location,
            link=f"/store/tasks/{task.pk}/",
            facts={"order": task.order.reference},
        ),
        actor=SYSTEM,
    )


def _settle_undecided(problem: PickupProblem, actor: str) -> None:
    exception_settle(
        key=f"pickup_undecided:{problem.pk}",
        note=f"Decided on the pickup task: {_decision(problem)}.",
        actor=actor,
    )


def _expired_key(order_id: int) -> str:
    return f"pickup_expired:order:{order_id}"


def _raise_expired(task: PickupTask, days: int) -> None:
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.PICKUP_EXPIRED,
            key=_expired_key(task.order_id),
            title=f"Order {task.order.reference} not collected in {days} days",
            detail="Cancelled and the customer told. Put its units back on the "
            "shelf from the pickup-hold area; the case settles when they are.",
            location=task.location,
            link="/store/",
            facts={"order": task.order.reference, "hold_slot": task.hold_slot},
        ),
        actor=SYSTEM,
    )


# ------------------------------------------------------------------ helpers


def _task(task_id: int, staff) -> PickupTask:
    """The task, for ``staff`` at its location (404 otherwise), locked."""
    return _lock(task_id, staff=staff)


def _lock(task_id: int, staff=None) -> PickupTask:
    """Lock the task's order, then the task: every order service locks the order
    first too, so the two never wait on each other in opposite order. With
    ``staff``, they must work at the task's location."""
    row = (
        PickupTask.objects.filter(pk=task_id).values("order_id", "location_id").first()
    )
    if staff is not None:
        access.ensure_may_act_at(
            user=staff,
            location_id=row["location_id"] if row else 0,
            what=f"pickup task {task_id}",
        )
    if row is None:
        raise NotFound(f"No pickup task {task_id}.")
    list(
        Order.objects.select_for_update(no_key=True)
        .filter(pk=row["order_id"])
        .values_list("pk")
    )
    # The picker is read after the lock, never joined into the locking query: a
    # claim waiting on a twin's lock would see the new claimed_by_id with the old
    # (empty) joined row.
    return (
        PickupTask.objects.select_for_update(no_key=True, of=("self",))
        .select_related("order__channel", "location")
        .get(pk=task_id)
    )


def _taken(task: PickupTask, template: str) -> TaskClaimedByAnother:
    """Someone else has the task: say who, and since when in the store's time."""
    picker = task.claimed_by
    zone = ZoneInfo(task.location.time_zone or "UTC")
    return TaskClaimedByAnother(
        template.format(
            who=picker.get_full_name() or picker.get_username(),
            at=f"{timezone.localtime(task.claimed_at, zone):%H:%M}",
        ),
        claimed_by=picker.get_username(),
    )


def _claimer_only(task: PickupTask, staff) -> None:
    if task.claimed_by_id is None:
        raise _refusal(task, "picked", hint="Claim it first.")
    if task.claimed_by_id != staff.pk:
        raise _taken(task, "{who} is picking this order.")


def _line(task: PickupTask, line_id: int) -> OrderLine:
    line = (
        OrderLine.objects.select_related("sku")
        .filter(pk=line_id, order=task.order_id)
        .first()
    )
    if line is None:
        raise InvalidInput({"line": [f"No line {line_id} on this order."]})
    return line


def _problem(problem_id: int, staff) -> tuple[PickupProblem, PickupTask]:
    task_id = (
        PickupProblem.objects.filter(pk=problem_id)
        .values_list("task_id", flat=True)
        .first()
    )
    if task_id is None:
        raise NotFound(f"No problem {problem_id}.")
    task = _task(task_id, staff)
    problem = (
        PickupProblem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("line__sku")
        .get(pk=problem_id)
    )
    if task.status in FINAL:
        raise _refusal(task, "changed", hint="Nothing is left to decide.")
    if problem.status != PickupProblem.Status.OPEN:
        raise PickupTransitionRefused(
            "This problem is decided already; nothing was changed.",
            status=problem.status,
        )
    return problem, task


def _cancel_short(problem: PickupProblem, task: PickupTask, who, reason: str) -> None:
    orders.order_cancel_short(
        order_id=task.order_id,
        line_id=problem.line_id,
        quantity=problem.quantity,
        who=who,
        reason=reason,
    )


def _transfer(transfer_id: int) -> TransferRequest:
    transfer = TransferRequest.objects.filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id}.")
    return transfer


def _decide(
    problem: PickupProblem,
    resolution: str,
    staff,
    status: str = PickupProblem.Status.RESOLVED,
) -> None:
    if status not in PickupProblem.TRANSITIONS[problem.status]:
        raise PickupTransitionRefused(
            f"This problem is {problem.status}; nothing was changed.",
            status=problem.status,
        )
    now = timezone.now()
    problem.resolution = resolution
    problem.status = status
    problem.resolved_by = access.actor_of(staff)
    problem.resolved_at = now
    problem.save()
    _settle_undecided(problem, access.actor_of(staff))
    _record(
        problem.task,
        "",
        "",
        access.actor_of(staff),
        now,
        note=f"{problem.quantity} × {problem.line.sku.code}: {_decision(problem)}.",
    )


def _decision(problem: PickupProblem) -> str:
    """The decision on a problem, in the words the timeline shows."""
    if problem.status == PickupProblem.Status.WAITING:
        return f"transfer asked from {problem.transfer.from_location.name}"
    if problem.resolution == PickupProblem.Resolution.SOURCE_ELSEWHERE:
        return f"transfer from {problem.transfer.from_location.name} received"
    if problem.resolution == PickupProblem.Resolution.SUBSTITUTE:
        answer = problem.get_customer_answer_display().lower()
        return f"substitute {problem.substitute_sku.code} offered, {answer}"
    if problem.resolution == PickupProblem.Resolution.SHIP_LATER:
        return f"delivered later on order {problem.follow_up_order.reference}"
    return "cancelled, customer told"


def _move(
    task: PickupTask, to_status: str, actor: str, now: datetime, note: str = ""
) -> None:
    if to_status not in PickupTask.TRANSITIONS[task.status]:
        raise _refusal(task, PickupTask.Status(to_status).label.lower())
    from_status = task.status
    task.status = to_status
    task.save()
    _record(task, from_status, to_status, actor, now, note=note)


def _record(
    task: PickupTask, from_status: str, to_status: str, actor: str, now, note: str = ""
) -> None:
    PickupTaskEvent.objects.create(
        task=task,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        note=note[:500],
        at=now,
    )


def _refusal(task: PickupTask, doing: str, hint: str = "") -> PickupTransitionRefused:
    label = PickupTask.Status(task.status).label.lower()
    return PickupTransitionRefused(
        f"This order is {label}: it cannot be {doing} now; nothing was changed. "
        f"{hint}".strip(),
        status=task.status,
    )


def _verify_customer(task: PickupTask, code: str, reference: str, name: str) -> None:
    if code.strip():
        if not secrets.compare_digest(code.strip(), task.collection_code):
            raise InvalidInput(
                {"collection_code": ["This code does not match the order's."]}
            )
        return
    if not (reference.strip() and name.strip()):
        raise InvalidInput(
            {
                "collection_code": [
                    "Enter the collection code, or the order number and the name "
                    "on the order."
                ]
            }
        )
    order = task.order
    if reference.strip().casefold() != order.reference.casefold() or not _same_name(
        name, order.customer_name
    ):
        raise InvalidInput(
            {"customer_name": ["The order number and name do not match this order."]}
        )


def _same_name(given: str, on_order: str) -> bool:
    """The full name, or the family name alone, ignoring case and spacing."""
    given_words = given.casefold().split()
    words = on_order.casefold().split()
    return bool(given_words) and (given_words == words or given_words == words[-1:])


def _who(staff) -> orders.Who:
    return orders.Who(actor=access.actor_of(staff), source="store")


def _problem_context(problem: PickupProblem, task: PickupTask, **extra) -> dict:
    cancelled = Order.objects.filter(
        pk=task.order_id, status=Order.Status.CANCELLED
    ).exists()
    return {
        "quantity": problem.quantity,
        "sku": problem.line.sku,
        "order_cancelled": cancelled,
        **extra,
    }


def _ready_expiring(
    *, before: datetime, after: datetime | None = None, reminded: bool | None = None
) -> list[int]:
    tasks = PickupTask.objects.filter(status=Status.READY, expires_at__lte=before)
    if after is not None:
        tasks = tasks.filter(expires_at__gt=after)
    if reminded is False:
        tasks = tasks.filter(reminded_at__isnull=True)
    return list(tasks.order_by("expires_at").values_list("pk", flat=True))
