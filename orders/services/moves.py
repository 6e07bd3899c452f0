"""The one way an order's lines move on. A service names its ``Move``: how many units
of a line it can take (``room``) and, for the units asked, one ``Step`` (what they
do in the ledger and to the line's counts). ``lines_move`` does the rest, the same
for every move: lock the order, answer a resent request, check what is asked
against each line's room, post every ledger move, derive each line's status and
the order's (``Order.TRANSITIONS`` must allow it), open return-to-stock tasks, and
record one timeline event. A request may name kits of a kit line as well as lines;
a move with kit rules (``Move.kits``, ``kit_moves``) applies them to the units asked
before anything moves."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone

from config import words
from config.access import Actor
from config.errors import InvalidInput
from config.transitions import may_move
from inventory.models import MovementType, SupplyPromise
from inventory.services import balances_lock
from inventory.services.commitments import (
    CommitmentLine,
    commitments_move,
    commitments_place,
    commitments_short,
)
from inventory.services.supply_promises import supply_promises_release

from ..models import Order, OrderLine, ReturnToStockTask
from .inputs import KitQuantity, LineQuantity, OrderTransitionRefused
from .kit_moves import kit_units
from .timeline import (
    ledger_reference,
    order_locked_for_change,
    order_request_replayed,
    order_status_record,
)

Status = Order.Status
LineStatus = OrderLine.Status


@dataclass(frozen=True)
class Step:
    """What the units asked of one line do: the ledger moves of committed or picked
    units, in order (``ledger``: movement type and units), the units found missing
    or damaged when picking (``short_fact``: condition and units), short units
    committed again (``recommitted``), picked units that go back to the shelf once
    staff confirm (``to_put_away``), and how each of the line's counts changes."""

    ledger: tuple[tuple[str, int], ...] = ()
    short_fact: tuple[str, int] | None = None
    # Units waiting for supply that no longer want it (cancelled): their promises
    # are given back.
    unpromised: int = 0
    recommitted: int = 0
    to_put_away: int = 0
    picked: int = 0
    short: int = 0
    cancelled: int = 0
    fulfilled: int = 0


@dataclass(frozen=True)
class Move:
    """One kind of move: its ``action`` key and timeline ``kind``, the ``words`` a
    refusal uses ("… can be picked"), how many units of a line it can take, and the
    step the units asked of a line take."""

    action: str
    kind: str
    words: str
    room: Callable[[OrderLine], int]
    step: Callable[[Order, OrderLine, int], Step]
    # What the move does to kits: the units asked, checked or widened to whole kits
    # (given the order, its lines by id and the units asked of each); None: kits'
    # component lines move like any others.
    kits: Callable[[Order, dict, list], list] | None = None


@dataclass
class _Posting:
    """Everything one request posts, gathered over its lines so each kind of ledger
    move is one batch."""

    moved: dict[str, list[tuple[OrderLine, int]]]
    short: list[tuple[OrderLine, int, str]]
    recommitted: list[tuple[OrderLine, int]]
    to_put_away: list[tuple[OrderLine, int]]
    unpromised: list[tuple[OrderLine, int]]

    @classmethod
    def of(cls, steps: list[tuple[OrderLine, Step]]) -> "_Posting":
        posting = cls(moved={}, short=[], recommitted=[], to_put_away=[], unpromised=[])
        for line, step in steps:
            for movement, units in step.ledger:
                if units:
                    posting.moved.setdefault(movement, []).append((line, units))
            if step.short_fact is not None:
                condition, units = step.short_fact
                posting.short.append((line, units, condition))
            if step.recommitted:
                posting.recommitted.append((line, step.recommitted))
            if step.to_put_away:
                posting.to_put_away.append((line, step.to_put_away))
            if step.unpromised:
                posting.unpromised.append((line, step.unpromised))
        return posting

    def balances(self) -> list[tuple[int, int]]:
        lines = [
            *(line for moved in self.moved.values() for line, _ in moved),
            *(line for line, *_ in self.short),
            *(line for line, _ in self.recommitted),
            *(line for line, _ in self.unpromised),
        ]
        return [(line.sku_id, line.location_id) for line in lines if line.location_id]


def lines_move(
    *,
    order_id: int,
    lines: Sequence[LineQuantity | KitQuantity] | None,
    actor: Actor,
    move: Move,
    note: str = "",
    detail: dict | None = None,
) -> Order:
    """Move the units asked (``lines`` None: every unit each line has room for), in
    one transaction under the order's lock; nothing moves if any of it is refused."""
    asked = None if lines is None else [_asked(line) for line in lines]
    request = {"action": move.action, "lines": asked, "reason": note, **(detail or {})}
    with transaction.atomic():
        order = order_locked_for_change(order_id)
        if order_request_replayed(order, actor, request, words=move.words):
            return order
        rows = {
            row.pk: row
            for row in order.lines.select_related("sku", "location", "kit_line__sku")
        }
        _supply_counts_fresh(rows)
        wanted = _wanted(order, rows, lines, move)
        if move.kits is not None and lines is not None:
            wanted = move.kits(order, rows, wanted)
        was = {row.pk: row.status for row in rows.values()}
        steps = [(row, move.step(order, row, units)) for row, units in wanted]
        for row, step in steps:
            _count(row, step)
        posting = _Posting.of(steps)
        # Every balance the request moves, at once, in the one order
        # (inventory.locking): it posts a batch per kind of move, and taking their
        # balances batch by batch would meet a till batch's in the opposite order.
        balances_lock(keys=posting.balances())
        now = timezone.now()
        _post(order, posting, actor, sequence=order.events.count() + 1)
        changed = [
            _line_status_record(order, row, units, was[row.pk]) for row, units in wanted
        ]
        for row, units in posting.to_put_away:
            ReturnToStockTask.objects.create(
                order=order,
                line=row,
                sku=row.sku,
                location=row.location,
                quantity=units,
                reason=note or f"{move.words} after picking",
                created_by=actor.name,
                created_at=now,
            )
        shown = {"lines": changed, **(detail or {})}
        if posting.to_put_away:
            shown["return_to_stock"] = [
                {"line": row.pk, "quantity": units}
                for row, units in posting.to_put_away
            ]
        order_status_record(
            order,
            _order_status(order, list(rows.values())),
            actor=actor,
            kind=move.kind,
            action=move.action,
            at=now,
            note=note,
            detail=shown,
            request=request,
            always=True,
        )
    return order


def _supply_counts_fresh(rows: dict[int, OrderLine]) -> None:
    """Units waiting for supply land with a receipt, which holds the balances, not
    the order (inventory.services.supply): an order with such units locks every
    line's balance first (all at once, the one lock order) and reads its counts
    again, so it moves them as they stand."""
    if not any(row.awaiting_supply_quantity for row in rows.values()):
        return
    balances_lock(keys=[(row.sku_id, row.location_id) for row in rows.values()])
    fresh = OrderLine.objects.filter(pk__in=list(rows)).values_list(
        "pk", "awaiting_supply_quantity", "supply_expected_at", "status"
    )
    for pk, awaiting, due, status in fresh:
        row = rows[pk]
        row.awaiting_supply_quantity, row.supply_expected_at, row.status = (
            awaiting,
            due,
            status,
        )


def _asked(line: LineQuantity | KitQuantity) -> tuple:
    """A request's line as its digest keeps it: a line's id (as it always was), or
    a kit line's."""
    if isinstance(line, KitQuantity):
        return ("kit_line", line.kit_line_id, line.quantity)
    return (line.line_id, line.quantity)


def _wanted(
    order: Order,
    rows: dict[int, OrderLine],
    lines: Sequence[LineQuantity | KitQuantity] | None,
    move: Move,
) -> list[tuple[OrderLine, int]]:
    room = move.room
    if lines is None:
        wanted = [(row, room(row)) for row in rows.values() if room(row) > 0]
        if not wanted:
            raise OrderTransitionRefused(
                f"Nothing on order {order.reference!r} can be {move.words}: it is "
                f"{order.status}; nothing was changed.",
                status=order.status,
            )
        return wanted
    errors: list[dict] = []
    wanted = []
    seen: set[int] = set()
    for line in lines:
        if isinstance(line, KitQuantity):
            units, problem = kit_units(line, rows, room, move.words)
            twice = [row.pk for row, _ in units if row.pk in seen]
            if twice and not problem:
                problem = {"kit_line": [f"Its line {twice[0]} is named twice."]}
            seen.update(row.pk for row, _ in units)
            wanted += units
            errors.append(problem)
            continue
        row = rows.get(line.line_id)
        problem = {}
        if row is None:
            problem["line"] = [f"No line {line.line_id} on this order."]
        elif line.line_id in seen:
            problem["line"] = ["This line is named twice."]
        else:
            quantity = room(row) if line.quantity is None else line.quantity
            if quantity < 1 or quantity > room(row):
                problem["quantity"] = [
                    f"{words.units(room(row))} of this line can be {move.words}; "
                    f"asked {quantity}."
                ]
            else:
                wanted.append((row, quantity))
        seen.add(line.line_id)
        errors.append(problem)
    if any(errors):
        raise InvalidInput({"lines": errors})
    return wanted


def _count(line: OrderLine, step: Step) -> None:
    line.awaiting_supply_quantity -= step.unpromised
    line.picked_quantity += step.picked
    line.short_quantity += step.short
    line.cancelled_quantity += step.cancelled
    line.fulfilled_quantity += step.fulfilled


def _post(order: Order, posting: _Posting, actor: Actor, *, sequence: int) -> None:
    """The request's ledger entries, each referenced by the order's timeline entry
    it belongs to (``sequence``)."""

    def commitment(line: OrderLine, units: int, movement: str) -> CommitmentLine:
        return CommitmentLine(
            reference=ledger_reference(order, line, movement, sequence),
            sku=line.sku,
            location=line.location,
            quantity=units,
        )

    for movement, moved in posting.moved.items():
        commitments_move(
            channel=order.channel,
            move=movement,
            lines=[commitment(line, units, movement) for line, units in moved],
            actor=actor,
        )
    for line, units in posting.unpromised:
        supply_promises_release(
            owner_kind=SupplyPromise.Owner.ORDER_LINE,
            owner_id=line.pk,
            units=units,
            now=timezone.now(),
            actor=actor,
        )
        if not line.awaiting_supply_quantity:
            line.supply_expected_at = None
    for line, units, condition in posting.short:
        commitments_short(
            channel=order.channel,
            line=commitment(line, units, "short"),
            condition=condition,
            reason=f"{condition.replace('_', ' ')} when picking order "
            f"{order.reference}",
            actor=actor,
        )
    if posting.recommitted:
        # Units that came here for this order (a transfer received) are the
        # order's: handed over as they are, no buffer or protection keeping them
        # back; the ledger's floor still refuses units that are not here.
        commitments_place(
            channel=order.channel,
            lines=[
                replace(
                    commitment(line, units, MovementType.COMMIT),
                    held_for_customer=True,
                )
                for line, units in posting.recommitted
            ],
            actor=actor,
        )


def _line_status_record(order: Order, line: OrderLine, units: int, was: str) -> dict:
    """The line's status as its counts now stand, saved; what the timeline shows."""
    status = line_status(line)
    if status != line.status and not may_move(line, status):
        raise OrderTransitionRefused(
            f"Line {line.pk} cannot go from {line.status} to {status}.",
            status=order.status,
        )
    line.status = status
    line.save()
    return {
        "line": line.pk,
        "sku": line.sku.code,
        "location": line.location.code,
        "quantity": units,
        "from": was,
        "to": status,
    }


def line_status(line: OrderLine) -> str:
    """The status a line's counts say it is at."""
    open_units = line.open_quantity
    if open_units == 0:
        return LineStatus.FULFILLED if line.fulfilled_quantity else LineStatus.CANCELLED
    if line.fulfilled_quantity:
        return LineStatus.PARTIALLY_FULFILLED
    if line.short_quantity:
        return LineStatus.SHORT
    if line.awaiting_supply_quantity:
        return LineStatus.AWAITING_SUPPLY
    if line.picked_quantity == open_units:
        return LineStatus.PICKED
    if line.picked_quantity:
        return LineStatus.PICKING
    return LineStatus.ALLOCATED


def _order_status(order: Order, rows: list[OrderLine]) -> str:
    """What the lines add up to. Ready stays ready while every open unit is picked;
    work once started stays in progress."""
    open_units = sum(row.open_quantity for row in rows)
    fulfilled = sum(row.fulfilled_quantity for row in rows)
    if open_units == 0:
        if not fulfilled:
            return Status.CANCELLED
        return Status.COLLECTED if order.is_collected_by_customer else Status.SHIPPED
    if fulfilled:
        return Status.PARTIALLY_SHIPPED
    # Units waiting for supply are not here to be picked: never ready without them.
    all_picked = all(
        row.unpicked_quantity == 0 and not row.awaiting_supply_quantity for row in rows
    )
    if order.status == Status.READY and all_picked:
        return Status.READY
    if order.status in (Status.IN_PROGRESS, Status.READY) or any(
        row.picked_quantity for row in rows
    ):
        return Status.IN_PROGRESS
    return Status.ALLOCATED
