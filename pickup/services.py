"""Writes to pickup work: a task opened for every click-and-collect order, claimed,
picked (by scan or confirmation), held, handed over on the collection code, and
closed; the units a picker could not take and the decision about them; the reminder
and expiry of uncollected orders.

Each function is one transaction under the task's row lock. Stock moves only through
``orders.services`` and ``inventory.services``; every change of status is allowed by
``PickupTask.TRANSITIONS`` and recorded as a PickupTaskEvent with who and when. The
acting member of staff must work at the task's location (``pickup.access``).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Sku
from config.errors import Conflict, InvalidInput, NotFound
from inventory.models import Location, TransferRequest
from inventory.services.transfers import (
    transfer_cancel,
    transfer_dispatch,
    transfer_receive,
    transfer_request,
)
from orders import services as orders
from orders.models import Method, Order, OrderLine, ReturnToStockTask

from . import access
from .models import PickupNotice, PickupProblem, PickupTask, PickupTaskEvent
from .notices import notice_customer

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
    names them. Claimed by this picker already: nothing changes."""
    task = _task(task_id, staff)
    if task.claimed_by_id == staff.pk and task.status != Status.NEW:
        return task
    if task.claimed_by_id is not None:
        who = task.claimed_by.get_full_name() or task.claimed_by.get_username()
        raise TaskClaimedByAnother(
            f"{who} claimed this order at {timezone.localtime(task.claimed_at):%H:%M}.",
            claimed_by=task.claimed_by.get_username(),
        )
    now = timezone.now()
    task.claimed_by, task.claimed_at = staff, now
    _move(task, Status.CLAIMED, access.actor_of(staff), now)
    return task


@transaction.atomic
def pickup_task_release(*, task_id: int, staff) -> PickupTask:
    """Let the task go before picking, for someone else to claim."""
    task = _task(task_id, staff)
    _move(
        task,
        Status.NEW,
        access.actor_of(staff),
        timezone.now(),
        note="Released for someone else.",
    )
    task.claimed_by, task.claimed_at = None, None
    task.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
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
    _settle(task, staff, timezone.now())
    return task


@transaction.atomic
def pickup_task_mark_ready(*, task_id: int, staff, hold_slot: str = "") -> PickupTask:
    """Every unit is in the pickup-hold area: the customer is told to come."""
    task = _task(task_id, staff)
    if task.status != Status.PICKED:
        raise _refusal(task, "marked ready")
    orders.order_mark_ready(order_id=task.order_id, who=_who(staff))
    now = timezone.now()
    task.hold_slot = hold_slot.strip()[:40]
    task.ready_at = now
    task.expires_at = now + timedelta(days=task.location.pickup_hold_days)
    _move(
        task, Status.READY, access.actor_of(staff), now, note=_slot_note(task.hold_slot)
    )
    lines = [
        line for line in task.order.lines.select_related("sku") if line.open_quantity
    ]
    notice_customer(task=task, kind=Notice.READY, context={"lines": lines})
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
    orders.order_collect(order_id=task.order_id, who=_who(staff))
    now = timezone.now()
    task.collected_at = now
    how = "collection code" if collection_code.strip() else "order number and name"
    _move(
        task, Status.COLLECTED, access.actor_of(staff), now, note=f"Verified by {how}."
    )
    return task


@transaction.atomic
def pickup_task_close(*, task_id: int, staff) -> PickupTask:
    task = _task(task_id, staff)
    if task.status != Status.COLLECTED:
        raise _refusal(task, "closed")
    orders.order_close(order_id=task.order_id, who=_who(staff))
    _move(task, Status.CLOSED, access.actor_of(staff), timezone.now())
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
    return orders.return_to_stock_confirm(task_id=task_id, who=_who(staff))


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
    transfer = transfer_request(
        sku=problem.line.sku,
        quantity=problem.quantity,
        from_location=from_location,
        to_location=task.location,
        channel=task.order.channel,
        reason=f"Pickup order {task.order.reference}: "
        f"{problem.get_condition_display().lower()} at {task.location.code}",
        actor=access.actor_of(staff),
    )
    problem.transfer = transfer
    _decide(
        problem,
        PickupProblem.Resolution.SOURCE_ELSEWHERE,
        staff,
        PickupProblem.Status.WAITING,
    )
    _settle(task, staff, timezone.now())
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
    orders.order_cancel_short(
        order_id=task.order_id,
        line_id=problem.line_id,
        who=who,
        reason=f"{sku.code} {'replaced by' if accepted else 'declined substitute'} "
        f"{substitute.code}",
    )
    problem.substitute_sku = substitute
    problem.customer_answer = customer_answer
    _decide(problem, PickupProblem.Resolution.SUBSTITUTE, staff)
    cancelled = _settle(task, staff, timezone.now())
    context = _problem_context(
        problem, substitute=substitute, order_cancelled=cancelled
    )
    notice_customer(
        task=task,
        kind=Notice.SUBSTITUTE if accepted else Notice.UNITS_CANCELLED,
        context=context,
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
    orders.order_cancel_short(
        order_id=order.pk,
        line_id=problem.line_id,
        who=who,
        reason=f"Delivered later on order {follow_up.reference}.",
    )
    problem.follow_up_order = follow_up
    _decide(problem, PickupProblem.Resolution.SHIP_LATER, staff)
    cancelled = _settle(task, staff, timezone.now())
    context = _problem_context(problem, follow_up=follow_up, order_cancelled=cancelled)
    notice_customer(task=task, kind=Notice.SHIP_LATER, context=context)
    return problem


@transaction.atomic
def pickup_problem_cancel(*, problem_id: int, staff) -> PickupProblem:
    """Cancel the units at once and tell the customer before they travel."""
    problem, task = _problem(problem_id, staff)
    orders.order_cancel_short(
        order_id=task.order_id,
        line_id=problem.line_id,
        who=_who(staff),
        reason=f"{problem.get_condition_display()} at {task.location.code}; "
        "customer told.",
    )
    _decide(problem, PickupProblem.Resolution.CANCEL, staff)
    cancelled = _settle(task, staff, timezone.now())
    context = _problem_context(problem, order_cancelled=cancelled)
    notice_customer(task=task, kind=Notice.UNITS_CANCELLED, context=context)
    return problem


@transaction.atomic
def pickup_transfer_dispatch(*, transfer_id: int, staff):
    """The sending branch's staff confirm the units left."""
    transfer = _transfer(transfer_id)
    access.ensure_may_act_at(
        user=staff,
        location_id=transfer.from_location_id,
        what=f"transfer {transfer_id}",
    )
    return transfer_dispatch(transfer_id=transfer_id, actor=access.actor_of(staff))


@transaction.atomic
def pickup_transfer_receive(*, transfer_id: int, staff):
    """The units arrived at this store: on hand, committed to the order again, and
    the task goes back to picking them."""
    transfer = _transfer(transfer_id)
    access.ensure_may_act_at(
        user=staff, location_id=transfer.to_location_id, what=f"transfer {transfer_id}"
    )
    problem = (
        PickupProblem.objects.select_for_update()
        .select_related("task")
        .filter(transfer_id=transfer_id)
        .first()
    )
    if problem is not None and problem.status == PickupProblem.Status.RESOLVED:
        return transfer  # received already: the same confirmation changes nothing
    transfer = transfer_receive(transfer_id=transfer_id, actor=access.actor_of(staff))
    if problem is not None:
        task = _task(problem.task_id, staff)
        if task.status not in FINAL:
            orders.order_refill_short(
                order_id=task.order_id,
                line_id=problem.line_id,
                quantity=problem.quantity,
                who=_who(staff),
                reason=f"Transfer {transfer.pk} from {transfer.from_location.code} "
                "received.",
            )
        _decide(problem, problem.resolution, staff)
        _settle(task, staff, timezone.now())
    return transfer


# ------------------------------------------------------- jobs, run by beat


def pickup_reminders_send(*, now: datetime | None = None) -> int:
    """Remind each customer once, a while before their order expires."""
    now = now or timezone.now()
    before = timedelta(hours=settings.PICKUP_REMINDER_HOURS_BEFORE_EXPIRY)
    sent = 0
    for task_id in _due(Status.READY, expires_before=now + before, reminded=False):
        with transaction.atomic():
            task = _locked(task_id)
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
    shelf by staff (a return-to-stock task), the customer told."""
    now = now or timezone.now()
    expired = 0
    for task_id in _due(Status.READY, expires_before=now):
        with transaction.atomic():
            task = _locked(task_id)
            if task.status != Status.READY:
                continue
            days = task.location.pickup_hold_days
            _move(
                task, Status.EXPIRED, SYSTEM, now, note=f"Not collected in {days} days."
            )
            orders.order_cancel(
                order_id=task.order_id,
                lines=None,
                reason=f"Not collected within {days} days.",
                who=orders.Who(actor=SYSTEM, source="store"),
            )
            notice_customer(task=task, kind=Notice.EXPIRED)
            expired += 1
    return expired


def pickup_problems_escalate(*, now: datetime | None = None) -> int:
    """Problems nobody decided on in time go to the manager's queue, once."""
    now = now or timezone.now()
    late = now - timedelta(minutes=settings.PICKUP_PROBLEM_ESCALATE_MINUTES)
    with transaction.atomic():
        ids = list(
            PickupProblem.objects.select_for_update(skip_locked=True)
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
    return len(ids)


# ------------------------------------------------------- following the order


def pickup_task_follow_order(*, order: Order, to_status: str, actor: str) -> None:
    """The order was cancelled (by the channel, the back-office, or a decision on
    this task): the task stops in the same transaction, and a transfer asked for it
    that has not left yet is called off."""
    if to_status != Order.Status.CANCELLED:
        return
    task = PickupTask.objects.select_for_update().filter(order=order).first()
    if task is None or task.status in FINAL:
        return
    _move(task, Status.CANCELLED, actor, timezone.now(), note="Order cancelled.")
    for problem in task.problems.filter(
        status=PickupProblem.Status.WAITING,
        transfer__status=TransferRequest.Status.REQUESTED,
    ):
        transfer_cancel(transfer_id=problem.transfer_id, actor=actor)


# ------------------------------------------------------------------ helpers


def _task(task_id: int, staff) -> PickupTask:
    task = _locked(task_id)
    access.ensure_may_act_at(
        user=staff, location_id=task.location_id, what=f"pickup task {task_id}"
    )
    return task


def _locked(task_id: int) -> PickupTask:
    # The picker is read after the lock, never joined into the locking query: a
    # claim waiting on a twin's lock would see the new claimed_by_id with the old
    # (empty) joined row.
    task = (
        PickupTask.objects.select_for_update(of=("self",))
        .select_related("order__channel", "location")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound(f"No pickup task {task_id}.")
    return task


def _claimer_only(task: PickupTask, staff) -> None:
    if task.claimed_by_id is not None and task.claimed_by_id != staff.pk:
        who = task.claimed_by.get_full_name() or task.claimed_by.get_username()
        raise TaskClaimedByAnother(
            f"{who} is picking this order.", claimed_by=task.claimed_by.get_username()
        )
    if task.claimed_by_id is None:
        raise _refusal(task, "picked", hint="Claim it first.")


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
    problem = (
        PickupProblem.objects.select_for_update(of=("self",))
        .select_related("line__sku")
        .filter(pk=problem_id)
        .first()
    )
    if problem is None:
        raise NotFound(f"No problem {problem_id}.")
    task = _task(problem.task_id, staff)
    if problem.status != PickupProblem.Status.OPEN:
        raise PickupTransitionRefused(
            "This problem is decided already; nothing was changed.",
            status=problem.status,
        )
    return problem, task


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
    problem.resolution = resolution
    problem.status = status
    problem.resolved_by = access.actor_of(staff)
    problem.resolved_at = timezone.now()
    problem.save()


def _settle(task: PickupTask, staff, now: datetime) -> bool:
    """Where the task stands after its order moved: cancelled with the order,
    waiting while a transfer is on its way, picked once every unit is, else picking.
    Returns whether the order is now cancelled."""
    order = Order.objects.get(pk=task.order_id)
    # The order may have stopped the task already (pickup_task_follow_order).
    task.refresh_from_db(fields=["status"])
    if order.status == Order.Status.CANCELLED:
        if task.status not in FINAL:
            _move(
                task,
                Status.CANCELLED,
                access.actor_of(staff),
                now,
                note="Nothing left to collect.",
            )
        return True
    lines = list(order.lines.all())
    waiting = task.problems.filter(status=PickupProblem.Status.WAITING).exists()
    if waiting:
        target = Status.ON_HOLD
    elif all(
        line.unpicked_quantity == 0 and line.short_quantity == 0 for line in lines
    ):
        target = Status.PICKED
    else:
        target = Status.PICKING
    if target != task.status:
        _move(task, target, access.actor_of(staff), now)
    return False


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


def _slot_note(slot: str) -> str:
    return f"On hold at {slot}." if slot else "On hold."


def _problem_context(problem: PickupProblem, **extra) -> dict:
    return {"quantity": problem.quantity, "sku": problem.line.sku, **extra}


def _due(status: str, *, expires_before: datetime, reminded: bool | None = None):
    tasks = PickupTask.objects.filter(status=status, expires_at__lte=expires_before)
    if reminded is False:
        tasks = tasks.filter(reminded_at__isnull=True)
    return list(tasks.order_by("expires_at").values_list("pk", flat=True))
