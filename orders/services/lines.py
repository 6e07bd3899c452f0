"""Moving an order's lines on, one service per thing staff or a channel do: pick,
ship, collect, cancel (whole or in part), the units a picker could not find (short,
then committed again or cancelled), a line added, ready, close, and the
return-to-stock task confirmed when picked units are back on the shelf.

Each is one transaction under the order's lock (``timeline``); the moves of units
say here what they do to one line (a ``Step``) and go through ``moves.lines_move``.
Every call records its own ``action`` key on the timeline. A kit is cancelled whole
(``kit_moves``); its component lines otherwise move like any others."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from catalog.models import Sku
from config.access import Actor
from config.errors import InvalidInput, NotFound
from config.transitions import check, lock, refusal
from inventory.models import Location, MovementType
from inventory.networks import not_in_network_message, outside_network
from inventory.services.commitments import (
    SHORT_FACTS,
    CommitmentLine,
    commitments_move,
    commitments_place,
)

from ..models import Order, OrderEvent, OrderLine, ReturnToStockTask
from ..signals import order_changed
from .inputs import KitQuantity, LineQuantity, OrderTransitionRefused
from .kit_moves import kits_cancelled_whole, kits_kept_whole
from .moves import Move, Step, lines_move
from .timeline import (
    ledger_reference,
    order_event,
    order_locked_for_change,
    order_request_replayed,
    order_status_record,
)

Status = Order.Status
Kind = OrderEvent.Kind


def order_pick(
    *, order_id: int, lines: Sequence[LineQuantity] | None, actor: Actor
) -> Order:
    """Units picked off the shelf into the pickup-hold area: still the order's, no
    longer on the shelf."""

    def pick(order: Order, line: OrderLine, units: int) -> Step:
        return Step(ledger=((MovementType.PICK, units),), picked=units)

    return lines_move(
        order_id=order_id,
        lines=lines,
        actor=actor,
        move=Move(
            action="order_pick",
            kind=Kind.PICKED,
            words="picked",
            room=lambda line: line.unpicked_quantity,
            step=pick,
        ),
    )


def order_ship(
    *,
    order_id: int,
    lines: Sequence[LineQuantity] | None,
    actor: Actor,
    carrier: str = "",
    tracking_reference: str = "",
) -> Order:
    """Units that left with the carrier: from the pickup-hold area first, then from
    the shelf. A pickup order is collected, not shipped."""

    def ship(order: Order, line: OrderLine, units: int) -> Step:
        if order.is_collected_by_customer:
            raise OrderTransitionRefused(
                f"Order {order.reference!r} is collected by the customer, not shipped.",
                status=order.status,
            )
        from_hold = min(units, line.picked_quantity)
        return Step(
            ledger=(
                (MovementType.FULFIL_PICKED, from_hold),
                (MovementType.FULFIL, units - from_hold),
            ),
            picked=-from_hold,
            fulfilled=units,
        )

    detail = {
        k: v
        for k, v in (("carrier", carrier), ("tracking_reference", tracking_reference))
        if v
    }
    return lines_move(
        order_id=order_id,
        lines=lines,
        actor=actor,
        move=Move(
            action="order_ship",
            kind=Kind.SHIPPED,
            words="shipped",
            # Units waiting for supply are not here to ship.
            room=lambda line: line.open_quantity - line.awaiting_supply_quantity,
            step=ship,
        ),
        detail=detail,
    )


def order_cancel(
    *,
    order_id: int,
    lines: Sequence[LineQuantity | KitQuantity] | None,
    reason: str,
    actor: Actor,
) -> Order:
    """Cancel the whole order (``lines`` None) or some units of some lines, or some
    kits of a kit line (``KitQuantity``). Units still on the shelf are released at
    once; units already picked stay out of availability until staff confirm they are
    back on the shelf (a ReturnToStockTask). Part of a kit is refused
    (``kit_split_refused``) unless the channel splits kits."""
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the order is cancelled."]})

    def cancel(order: Order, line: OrderLine, units: int) -> Step:
        return _cancelled(line, units)

    return lines_move(
        order_id=order_id,
        lines=lines,
        actor=actor,
        move=Move(
            action="order_cancel",
            kind=Kind.CANCELLED,
            words="cancelled",
            room=lambda line: line.open_quantity,
            step=cancel,
            kits=kits_kept_whole,
        ),
        note=reason.strip(),
    )


def _cancelled(line: OrderLine, units: int, *, short_first: bool = False) -> Step:
    """Units of a line cancelled: those short at picking first when asked (they hold
    no stock: cancelling them moves nothing), then those waiting for supply (not
    here: their promise is given back to the next customer), then those on the
    shelf (released), then those picked (put back once staff confirm)."""
    short = min(units, line.short_quantity) if short_first else 0
    awaiting = min(units - short, line.awaiting_supply_quantity)
    on_shelf = min(units - short - awaiting, line.unpicked_quantity)
    if not short_first:
        short = min(units - awaiting - on_shelf, line.short_quantity)
    picked = units - awaiting - on_shelf - short
    return Step(
        ledger=((MovementType.COMMITMENT_RELEASE, on_shelf),),
        unpromised=awaiting,
        to_put_away=picked,
        picked=-picked,
        short=-short,
        cancelled=units,
    )


def order_report_short(
    *,
    order_id: int,
    line_id: int,
    quantity: int,
    condition: str,
    actor: Actor,
    note: str = "",
) -> Order:
    """Units the picker could not take off the shelf: not there (``not_found``) or
    damaged. Their commitment is released and the physical fact recorded at once, so
    no one is promised them again; the line holds them as short until someone
    decides (``order_refill_short`` or ``order_cancel_short``)."""
    if condition not in SHORT_FACTS:
        raise InvalidInput({"condition": [f"One of {sorted(SHORT_FACTS)}."]})

    def short(order: Order, line: OrderLine, units: int) -> Step:
        return Step(short_fact=(condition, units), short=units)

    return lines_move(
        order_id=order_id,
        lines=[LineQuantity(line_id=line_id, quantity=quantity)],
        actor=actor,
        move=Move(
            action="order_report_short",
            kind=Kind.SHORT,
            words="reported short",
            room=lambda line: line.unpicked_quantity,
            step=short,
        ),
        note=note.strip() or condition.replace("_", " ") + " when picking",
        detail={"condition": condition},
    )


def order_refill_short(
    *, order_id: int, line_id: int, quantity: int, actor: Actor, reason: str
) -> Order:
    """Short units found again here (a transfer arrived): committed again at the
    line's location, as they are (they came for this order: no buffer keeps them
    back), refused with ``insufficient_stock`` if they are not there."""

    def refill(order: Order, line: OrderLine, units: int) -> Step:
        return Step(recommitted=units, short=-units)

    return lines_move(
        order_id=order_id,
        lines=[LineQuantity(line_id=line_id, quantity=quantity)],
        actor=actor,
        move=Move(
            action="order_refill_short",
            kind=Kind.REFILLED,
            words="committed again",
            room=lambda line: line.short_quantity,
            step=refill,
        ),
        note=reason,
    )


def order_cancel_short(
    *,
    order_id: int,
    line_id: int,
    quantity: int,
    actor: Actor,
    reason: str,
    served_by: str = "",
) -> Order:
    """Short units that will not come from this store: cancelled on this order (the
    customer gets a substitute, a later shipment, or nothing). ``served_by`` says
    when the customer is served another way (``substitute``, ``later_delivery``):
    those units are no sale lost, and the timeline's detail keeps it for the
    managers' dashboard. A kit's component cancelled with nothing in its place
    cancels the rest of its kit (``kit_moves.kits_cancelled_whole``): the other
    components' units released, or put back if picked."""
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the units are cancelled."]})

    def cancel(order: Order, line: OrderLine, units: int) -> Step:
        return _cancelled(line, units, short_first=True)

    return lines_move(
        order_id=order_id,
        lines=[LineQuantity(line_id=line_id, quantity=quantity)],
        actor=actor,
        move=Move(
            action="order_cancel_short",
            kind=Kind.CANCELLED,
            words="cancelled",
            room=lambda line: line.short_quantity,
            step=cancel,
            kits=None if served_by else kits_cancelled_whole,
        ),
        note=reason.strip(),
        detail={"served_by": served_by} if served_by else None,
    )


def order_collect(*, order_id: int, actor: Actor) -> Order:
    """The customer collected every open unit from the pickup-hold area."""

    def collect(order: Order, line: OrderLine, units: int) -> Step:
        if order.status != Status.READY or not order.is_collected_by_customer:
            raise refusal(order, Status.COLLECTED, error=OrderTransitionRefused)
        return Step(
            ledger=((MovementType.FULFIL_PICKED, units),),
            picked=-units,
            fulfilled=units,
        )

    return lines_move(
        order_id=order_id,
        lines=None,
        actor=actor,
        move=Move(
            action="order_collect",
            kind=Kind.COLLECTED,
            words="collected",
            room=lambda line: line.picked_quantity,
            step=collect,
        ),
    )


def kept_for_walk_ins(location: Location) -> int:
    """The units a location keeps for walk-in customers when it sends units away to
    a customer elsewhere: a store's walk-in buffer; a warehouse keeps none."""
    return location.walk_in_buffer if location.kind == Location.Kind.STORE else 0


def order_add_line(
    *,
    order_id: int,
    sku: Sku,
    location: Location,
    quantity: int,
    actor: Actor,
    reason: str,
    walk_in_buffer: int = 0,
) -> tuple[Order, OrderLine]:
    """A line added to an order still being picked (a substitute the customer
    accepted, short units re-routed): committed at ``location`` keeping
    ``walk_in_buffer`` units there for walk-in customers (a store sending the units
    away keeps them; the customer's own store does not), or refused with
    ``insufficient_stock``; a location outside the order's channel's network is
    refused (400)."""
    if quantity < 1:
        raise InvalidInput({"quantity": ["Add at least one unit."]})
    with transaction.atomic():
        order = order_locked_for_change(order_id)
        if order.status not in (Status.ALLOCATED, Status.IN_PROGRESS):
            raise OrderTransitionRefused(
                f"Order {order.reference!r} is {order.status}: lines are added only "
                "while it is being picked; nothing was changed.",
                status=order.status,
            )
        if outside_network(channel=order.channel, locations=[location]):
            raise InvalidInput(
                {
                    "location": [
                        not_in_network_message(channel=order.channel, location=location)
                    ]
                }
            )
        line = OrderLine.objects.create(
            order=order, sku=sku, location=location, quantity=quantity
        )
        commitments_place(
            channel=order.channel,
            lines=[
                CommitmentLine(
                    reference=ledger_reference(order, line, MovementType.COMMIT),
                    sku=sku,
                    location=location,
                    quantity=quantity,
                    walk_in_buffer=walk_in_buffer,
                )
            ],
            actor=actor,
        )
        order_event(
            order,
            kind=Kind.LINE_ADDED,
            actor=actor,
            action="order_add_line",
            at=timezone.now(),
            note=reason,
            lines=[line],
        )
        order_changed.send(sender=Order, order=order, actor=actor)
    return order, line


def order_mark_ready(*, order_id: int, actor: Actor) -> Order:
    """Every open unit is picked: ready to hand over or to ship."""
    request = {"action": "order_mark_ready"}
    with transaction.atomic():
        order = order_locked_for_change(order_id)
        if order_request_replayed(order, actor, request, words="ready"):
            return order
        rows = list(order.lines.all())
        # Units waiting for supply are not here: never ready without them.
        if order.status != Status.IN_PROGRESS or any(
            r.unpicked_quantity or r.short_quantity or r.awaiting_supply_quantity
            for r in rows
        ):
            raise refusal(order, Status.READY, error=OrderTransitionRefused)
        order_status_record(
            order,
            Status.READY,
            actor=actor,
            kind=Kind.STATUS,
            action="order_mark_ready",
            at=timezone.now(),
            request=request,
        )
    return order


def order_close(*, order_id: int, actor: Actor, reason: str = "") -> Order:
    """Nothing more will happen to a shipped or collected order."""
    request = {"action": "order_close"}
    with transaction.atomic():
        order = order_locked_for_change(order_id)
        if order_request_replayed(order, actor, request, words="close"):
            return order
        check(order, Status.CLOSED, error=OrderTransitionRefused)
        order_status_record(
            order,
            Status.CLOSED,
            actor=actor,
            kind=Kind.STATUS,
            action="order_close",
            at=timezone.now(),
            note=reason,
            request=request,
        )
    return order


def return_to_stock_confirm(*, task_id: int, actor: Actor) -> ReturnToStockTask:
    """Staff confirm the units are back on the shelf: only now are they available.
    The order is locked first, then its task (the lock order, inventory.locking)."""
    missing = f"No return-to-stock task {task_id}."
    with transaction.atomic():
        order_id = (
            ReturnToStockTask.objects.filter(pk=task_id)
            .values_list("order_id", flat=True)
            .first()
        )
        if order_id is None:
            raise NotFound(missing)
        # Only the order's row: a put-away moves picked units back to the shelf,
        # nothing another app keeps for the order.
        lock(Order, order_id)
        task = lock(
            ReturnToStockTask,
            task_id,
            related=("order__channel", "line", "sku", "location"),
            missing=missing,
        )
        if task.status == ReturnToStockTask.Status.PUT_AWAY:
            return task  # confirmed already: the same confirmation changes nothing
        now = timezone.now()
        commitments_move(
            channel=task.order.channel,
            move=MovementType.PUT_AWAY,
            lines=[
                CommitmentLine(
                    reference=f"#order/{task.order_id}/{task.line_id}/put_away/"
                    f"task{task.pk}",
                    sku=task.sku,
                    location=task.location,
                    quantity=task.quantity,
                )
            ],
            actor=actor,
        )
        task.status = ReturnToStockTask.Status.PUT_AWAY
        task.put_away_by = actor.name
        task.put_away_at = now
        task.save(update_fields=["status", "put_away_by", "put_away_at"])
        order_event(
            task.order,
            kind=Kind.PUT_AWAY,
            actor=actor,
            action="return_to_stock_confirm",
            at=now,
            note=f"{task.quantity} × {task.sku.code} back on the shelf at "
            f"{task.location.code}.",
            detail={"task": task.pk},
        )
    return task
