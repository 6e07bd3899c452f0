"""A customer changes the store they collect at (``pickup_location_change``), through
the API or at customer service: the order's units move as ``orders`` plans them
(``orders.services.relocation``: set aside at the new store, given up at the old
one), the units the new store lacks travel from the old store along the lane, each
line's as a transfer its task waits for (a ``PickupProblem`` ``on_the_way``,
waiting, sourced elsewhere: receipt commits them, a cancelled order calls the
transfer off, as for any transfer), the task moves to the new store and starts again
(new, or on hold for the transfer), and the customer is told where and when.

One transaction under the order's lock, which locks the task, its problems and their
transfers with it (``order_locked``), then the balances at both stores at once; the
same request reference again answers with the order as it stands."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from config.access import Actor
from config.transitions import move
from config.words import units
from inventory.models import Location
from inventory.services.transfers import transfer_request
from orders.models import Order
from orders.services.relocation import (
    LineMove,
    PickupLocationChange,
    PickupLocationChangeRefused,
    order_pickup_location_change,
    order_pickup_location_plan,
)
from orders.services.timeline import order_locked_for_change

from ..models import PickupProblem, PickupTask
from ..notices import notice_customer
from .shared import Notice, PickupTransitionRefused, Status, noted

ACTION = "pickup_location_change"
# What a task that moved starts again with: the claim, the shelf it waited on, its
# ready time and expiry, and the reminder sent about them were the old store's.
CLEARED = ("claimed_by", "claimed_at", "hold_slot", "ready_at", "expires_at")


@transaction.atomic
def pickup_location_change(
    *, order_id: int, pickup_location: Location, actor: Actor
) -> Order:
    """Move the click-and-collect order ``order_id`` to ``pickup_location``, all of
    it or nothing. Refused (nothing written): an order not collected, collected or
    past changing (409), the same store, a store that hands over no pickups or is
    outside the channel's network (400), units waiting for a delivery or a decision
    (409 ``pickup_location_change_refused``), and a new store that lacks units with
    no lane to it from the old one (409 ``insufficient_stock`` with ``shortages``
    and ``nearest_stores``)."""
    order = order_locked_for_change(order_id)
    change = order_pickup_location_plan(
        order=order, pickup_location=pickup_location, actor=actor
    )
    if change is None:
        return order  # the same request again: as it stands
    task = PickupTask.objects.filter(order=order).select_related("location").first()
    if task is None:
        raise PickupLocationChangeRefused(
            f"Order {order.reference!r} has no pickup task to move; nothing was "
            "changed.",
            status=order.status,
        )
    _refuse_undecided(task)
    now = timezone.now()
    # The task moves first: the order's change, once recorded, finds it where its
    # units now say it is, and has nothing to walk.
    _task_moved(task, change, actor, now)
    order_pickup_location_change(
        change=change,
        actor=actor,
        send=lambda travelling: _sent(task, change, travelling, actor, now),
    )
    notice_customer(
        task=task,
        kind=Notice.LOCATION_CHANGED,
        context={"was": change.was, "coming": bool(change.travelling)},
    )
    return order


def _refuse_undecided(task: PickupTask) -> None:
    """A problem still open or waiting is the old store's to settle: its units are
    missing there, or on their way there."""
    if task.problems.exclude(status=PickupProblem.Status.RESOLVED).exists():
        raise PickupLocationChangeRefused(
            f"Order {task.order.reference!r} has items missing at picking or on "
            "their way: settle them on its pickup task first, then change its pickup "
            "store; nothing was changed.",
            status=task.order.status,
        )


def _task_moved(
    task: PickupTask, change: PickupLocationChange, actor: Actor, now
) -> None:
    """The task at the new store, due when the customer is now told, unclaimed and
    off any hold shelf: new, or on hold while units are on their way. A task that
    can no longer move (collected, closed) is refused by its table."""
    waiting = sum(each.sent for each in change.travelling)
    note = (
        f"Moved from {change.was.name} to {change.to.name}: the customer collects "
        "here now."
    )
    if waiting:
        note += f" Waiting for {units(waiting)} from {change.was.name}."
    task.location, task.due_at = change.to, change.promised_by
    task.claimed_by = task.claimed_at = task.ready_at = task.expires_at = None
    task.reminded_at, task.hold_slot = None, ""
    fields = ("location", "due_at", "reminded_at", *CLEARED)
    target = Status.ON_HOLD if waiting else Status.NEW
    if task.status == target:
        task.save(update_fields=[*fields, "updated_at"])
        noted(task, actor=actor, action=ACTION, note=note, at=now)
        return
    move(
        task,
        to=target,
        actor=actor,
        action=ACTION,
        at=now,
        note=note,
        error=PickupTransitionRefused,
        also=fields,
    )


def _sent(
    task: PickupTask,
    change: PickupLocationChange,
    travelling: Sequence[LineMove],
    actor: Actor,
    now,
) -> dict[int, int]:
    """Each line's units the new store lacks, asked of the store the customer left
    along the lane, and the task's wait for them; each line's transfer id. The units
    are the customer's already (just released from the order): handed over to the
    transfer as they are, nothing kept back of them for walk-ins, buffers or other
    channels."""
    order, sent = change.order, {}
    for each in travelling:
        line = each.line
        transfer = transfer_request(
            sku=line.sku,
            quantity=each.sent,
            from_location=each.source,
            to_location=change.to,
            channel=order.channel,
            reason=f"Pickup order {order.reference}: the customer now collects at "
            f"{change.to.code}",
            actor=actor,
            held_for_customer=True,
        )
        PickupProblem.objects.create(
            task=task,
            line=line,
            quantity=each.sent,
            condition=PickupProblem.Condition.ON_THE_WAY,
            note=f"Sent from {each.source.code}: the customer changed pickup store.",
            status=PickupProblem.Status.WAITING,
            resolution=PickupProblem.Resolution.SOURCE_ELSEWHERE,
            transfer=transfer,
            reported_by=actor.name,
            reported_at=now,
            resolved_by=actor.name,
            resolved_at=now,
        )
        sent[line.pk] = transfer.pk
    return sent
