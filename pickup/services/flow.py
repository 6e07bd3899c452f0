"""The steps of a pickup task at the store: opened for every click-and-collect
order, claimed (and released for someone else), started, picked one unit per scan
through the task's one scan field (or a line at a time, for other callers), marked
ready on the hold shelf, handed over on the collection code and closed; and
the units of an expired order put back on the shelf.

Each step a person takes is one transaction under the task's lock (its order's
first), by a member of staff who works at the task's location; opening a task is
the order's placing, by whoever placed it. The steps that move stock ask
``orders.services``; the order's change brings the task with it (``following``)."""

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config import access
from config.access import Actor
from config.errors import InvalidInput
from config.transitions import move, record_event
from orders import services as orders
from orders.models import Order, OrderLine, ReturnToStockTask

from ..models import PickupTask
from .cases import settle_expired
from .shared import (
    STEP_ACTIONS,
    PickupTransitionRefused,
    Status,
    at_store,
    claimer_only,
    lock_task,
    noted,
    order_line,
    refused_words,
    taken,
    task_refusal,
)

# A picker who let the task go mid-pick leaves it where it stands, for another.
MID_PICK = (Status.PICKING, Status.ON_HOLD, Status.PICKED)


def pickup_task_open(*, order: Order, actor: Actor) -> PickupTask | None:
    """A task at the store for a click-and-collect order (called as the order is
    placed, in its transaction), recorded as done by whoever placed it. Other orders
    get none."""
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
    record_event(
        task,
        actor=actor,
        action=STEP_ACTIONS[Status.NEW],
        at=now,
        to_status=Status.NEW,
        note="Order placed.",
    )
    return task


@transaction.atomic
def pickup_task_claim(*, task_id: int, actor: Actor) -> PickupTask:
    """Take the task: one picker per task. Claimed by someone else already: 409 that
    names them. Claimed by this picker already: nothing changes. A task someone
    released mid-pick is taken over where it stands."""
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    picker = actor.person
    if task.claimed_by_id == picker.pk:
        return task
    if task.claimed_by_id is not None:
        raise taken(task, "{who} claimed this order at {at}.")
    now = timezone.now()
    task.claimed_by, task.claimed_at = picker, now
    if task.status == Status.NEW:
        move(
            task,
            to=Status.CLAIMED,
            actor=actor,
            action=STEP_ACTIONS[Status.CLAIMED],
            at=now,
            also=("claimed_by", "claimed_at"),
            error=PickupTransitionRefused,
            refused=refused_words(task, "claimed"),
        )
    elif task.status in MID_PICK:
        task.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        noted(
            task, actor=actor, action="pickup_take_over", note="Took it over.", at=now
        )
    else:
        raise task_refusal(task, "claimed")
    return task


@transaction.atomic
def pickup_task_release(*, task_id: int, actor: Actor) -> PickupTask:
    """Let the task go, for someone else to claim: by its picker, or by a manager
    when the picker has gone. Before picking it goes back to new; during picking it
    stays where it is, unclaimed."""
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    staff = actor.person
    if task.claimed_by_id is None:
        raise task_refusal(task, "released", hint="Nobody has it.")
    if task.claimed_by_id != staff.pk and not access.sees_every_location(staff):
        raise taken(
            task, "{who} has this order: only they or a manager can release it."
        )
    now = timezone.now()
    task.claimed_by, task.claimed_at = None, None
    note = "Released for someone else."
    if task.status == Status.CLAIMED:
        move(
            task,
            to=Status.NEW,
            actor=actor,
            action="pickup_release",
            at=now,
            note=note,
            also=("claimed_by", "claimed_at"),
            error=PickupTransitionRefused,
            refused=refused_words(task, "released"),
        )
    elif task.status in MID_PICK:
        task.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        noted(task, actor=actor, action="pickup_release", note=note, at=now)
    else:
        raise task_refusal(task, "released")
    return task


@transaction.atomic
def pickup_task_start(*, task_id: int, actor: Actor) -> PickupTask:
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    claimer_only(task, actor)
    move(
        task,
        to=Status.PICKING,
        actor=actor,
        action=STEP_ACTIONS[Status.PICKING],
        error=PickupTransitionRefused,
        refused=refused_words(task, Status.PICKING.label.lower()),
    )
    return task


@transaction.atomic
def pickup_line_pick(
    *,
    task_id: int,
    line_id: int,
    actor: Actor,
    scanned: str = "",
    quantity: int | None = None,
) -> PickupTask:
    """Units of a line taken off the shelf into the pickup-hold area. ``scanned`` is
    what the scanner read (the SKU code or its barcode); empty means the picker
    confirmed the SKU by eye. A scan of anything else is refused."""
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    claimer_only(task, actor)
    if task.status != Status.PICKING:
        raise task_refusal(task, "picked")
    line = order_line(task, line_id)
    code = scanned.strip()
    if code and code not in (line.sku.code, line.sku.barcode):
        raise InvalidInput(
            {"scanned": [f"{code!r} is not {line.sku.code}: check the item."]}
        )
    orders.order_pick(
        order_id=task.order_id,
        lines=[orders.LineQuantity(line_id=line.pk, quantity=quantity)],
        actor=actor,
    )
    task.refresh_from_db()
    return task


# A scan echoed in a message is cut here: a code scanned into the wrong box can be long.
ECHO_LIMIT = 40


@dataclass(frozen=True)
class Scanned:
    """One unit picked by a scan: the task after it, and the line it matched."""

    task: PickupTask
    line: OrderLine

    @property
    def words(self) -> str:
        """What the picker reads under the field: "Tee black M: 2 of 3 picked"."""
        line = self.line
        to_pick = line.picked_quantity + line.unpicked_quantity
        return f"{line.sku.name}: {line.picked_quantity} of {to_pick} picked"


@transaction.atomic
def pickup_scan(*, task_id: int, actor: Actor, scanned: str) -> Scanned:
    """One scan in the task's one field picks ONE unit of the order's first line
    whose SKU code or barcode it is and which still has units on the shelf. An
    empty scan (a scanner's stray Enter) picks nothing: nobody checked an item. A
    code that is not on the order, or whose lines are all picked, is refused."""
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    claimer_only(task, actor)
    if task.status != Status.PICKING:
        raise task_refusal(task, "picked")
    code = scanned.strip()
    if not code:
        raise InvalidInput({"scanned": ["Scan an item first: nothing was picked."]})
    echo = code if len(code) <= ECHO_LIMIT else f"{code[:ECHO_LIMIT]}…"
    matching = [
        line
        for line in OrderLine.objects.select_related("sku")
        .filter(order=task.order_id)
        .order_by("id")
        if code in (line.sku.code, line.sku.barcode)
    ]
    if not matching:
        raise InvalidInput(
            {"scanned": [f"{echo} is not on this order: check the item."]}
        )
    line = next((line for line in matching if line.unpicked_quantity > 0), None)
    if line is None:
        name = matching[0].sku.name
        raise InvalidInput(
            {"scanned": [f"{name}: nothing left to pick on this order."]}
        )
    orders.order_pick(
        order_id=task.order_id,
        lines=[orders.LineQuantity(line_id=line.pk, quantity=1)],
        actor=actor,
    )
    task.refresh_from_db()
    line.refresh_from_db()
    return Scanned(task=task, line=line)


@transaction.atomic
def pickup_task_mark_ready(
    *, task_id: int, actor: Actor, hold_slot: str = ""
) -> PickupTask:
    """Every unit is in the pickup-hold area: the customer is told to come (the
    order's move to ready brings the task with it, see ``following``)."""
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    if task.status != Status.PICKED:
        raise task_refusal(task, "marked ready")
    task.hold_slot = hold_slot.strip()[:40]
    task.save(update_fields=["hold_slot", "updated_at"])
    orders.order_mark_ready(order_id=task.order_id, actor=actor)
    task.refresh_from_db()
    return task


@transaction.atomic
def pickup_task_hand_over(
    *,
    task_id: int,
    actor: Actor,
    collection_code: str = "",
    order_reference: str = "",
    customer_name: str = "",
) -> PickupTask:
    """The customer takes the order, once they have shown its collection code, or
    named the order number and the name on it."""
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    if task.status != Status.READY:
        raise task_refusal(task, "handed over")
    _verify_customer(task, collection_code, order_reference, customer_name)
    how = "collection code" if collection_code.strip() else "order number and name"
    noted(
        task,
        actor=actor,
        action="pickup_verify_customer",
        note=f"Verified by {how}.",
        at=timezone.now(),
    )
    orders.order_collect(order_id=task.order_id, actor=actor)
    task.refresh_from_db()
    return task


@transaction.atomic
def pickup_task_close(*, task_id: int, actor: Actor) -> PickupTask:
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    if task.status != Status.COLLECTED:
        raise task_refusal(task, "closed")
    orders.order_close(order_id=task.order_id, actor=actor)
    task.refresh_from_db()
    return task


@transaction.atomic
def return_to_stock_put_away(*, task_id: int, actor: Actor) -> ReturnToStockTask:
    """Staff at the store confirm the units are back on the shelf."""
    actor = at_store(actor)
    task = ReturnToStockTask.objects.filter(pk=task_id).only("location_id").first()
    access.ensure_may_act_at(
        user=actor.person,
        location_id=task.location_id if task else 0,
        what=f"return-to-stock task {task_id}",
    )
    # Two units put back at once: the order's lock, taken by the confirmation before
    # anything else, makes the second see the first.
    put_away = orders.return_to_stock_confirm(task_id=task_id, actor=actor)
    still_out = ReturnToStockTask.objects.filter(
        order_id=put_away.order_id, status=ReturnToStockTask.Status.OPEN
    )
    if not still_out.exists():
        settle_expired(put_away.order_id, actor)
    return put_away


def _verify_customer(task: PickupTask, code: str, reference: str, name: str) -> None:
    if code.strip():
        if not secrets.compare_digest(code.strip(), task.collection_code):
            raise InvalidInput(
                {"collection_code": ["This code does not match the order's."]}
            )
        return
    # Half of the other way is named as such: the field still empty is the one to
    # fill in (a scanner's Enter after the order number sends it at once).
    if reference.strip() and not name.strip():
        raise InvalidInput({"customer_name": ["Enter the name on the order too."]})
    if name.strip() and not reference.strip():
        raise InvalidInput({"order_reference": ["Enter the order number too."]})
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
