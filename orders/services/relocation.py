"""The order's part when a customer changes the store they collect at: each open unit
set aside at the new store if it has one to spare (walk-in units included: the
customer walks in there), and given up at the old one in the same transaction (units
still on the shelf released; units already picked put back through a return-to-stock
task); what the new store cannot cover comes from the old store, which holds those
units for the customer already, along a transfer lane (``TransferRoute``), and waits
on the line as short units until the transfer lands. Every line (a kit's components
and their kit line too) and the order's pickup store become the new store's, the
promise is dated again, and one ``pickup_location_changed`` entry tells the timeline
what became of each line's units.

Two steps under the order's lock, taken by the app that collects the order
(``pickup.services.relocation``), which sends the units and moves its own work
between them: ``order_pickup_location_plan`` refuses (nothing written) or says where
every unit comes from, on figures read with every balance involved locked (the lock
order, inventory.locking: the order and its documents first, then the balances at
once); ``order_pickup_location_change`` moves the units and records the change.
Imports no app above orders."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from config.access import Actor
from config.errors import Conflict, InvalidInput
from config.transitions import may_move
from inventory.errors import InsufficientStock
from inventory.models import Location, MovementType, TransferRoute
from inventory.networks import not_in_network_message, outside_network
from inventory.selectors import availability_rows, pickup_ready_by
from inventory.services import balances_lock
from inventory.services.commitments import (
    CommitmentLine,
    commitments_move,
    commitments_place,
)

from ..models import Order, OrderEvent, OrderKitLine, OrderLine, ReturnToStockTask
from .inputs import OrderLineInput, OrderTransitionRefused
from .moves import line_status
from .planning import stores_that_can_fill
from .timeline import ledger_reference, order_request_replayed, order_status_record

ACTION = "order_pickup_location_change"
Status = Order.Status
LineStatus = OrderLine.Status
# A customer changes store only before the order is in their hands: while it is set
# aside, being picked, or waiting on the hold shelf.
MAY_MOVE = (Status.ALLOCATED, Status.IN_PROGRESS, Status.READY)


class PickupLocationChangeRefused(Conflict):
    """Units of the order wait for something (a delivery, a decision, a transfer):
    settled first, then the store can change."""

    code = "pickup_location_change_refused"


@dataclass
class LineMove:
    """What becomes of one line with open units: set aside at the new store
    (``committed``), of them ``released`` from the old store's shelf and
    ``returned`` (picked there: a return-to-stock task puts them back); and those
    the new store cannot cover, sent from ``source`` (``sent_from_shelf`` committed
    there, ``sent_picked`` picked there)."""

    line: OrderLine
    source: Location
    committed: int = 0
    released: int = 0
    returned: int = 0
    sent_from_shelf: int = 0
    sent_picked: int = 0

    @property
    def sent(self) -> int:
        return self.sent_from_shelf + self.sent_picked


@dataclass
class PickupLocationChange:
    """A change planned under the order's lock: the order, the store it leaves and
    the one it goes to, what becomes of each line, the lanes the units it lacks
    travel along (by sending location), the new promise, and the request as the
    timeline keeps it for a resend."""

    order: Order
    was: Location
    to: Location
    moves: list[LineMove]
    lanes: dict[int, TransferRoute]
    promised_by: datetime
    request: dict

    @property
    def travelling(self) -> list[LineMove]:
        return [move for move in self.moves if move.sent]


def order_pickup_location_plan(
    *, order: Order, pickup_location: Location, actor: Actor
) -> PickupLocationChange | None:
    """The change asked for ``order`` (locked by the caller, who holds the lock to
    the end): None when it is the same request again (answer as things stand);
    refused when the order is not collected, is past changing, the store cannot take
    it, or units wait for something; 409 ``insufficient_stock`` (``shortages`` and
    the ``nearest_stores`` that could fill the order) when the new store lacks units
    and no lane leads there. Moves nothing; locks the balances it reads (an empty
    one made where none is yet, as every balance lock does)."""
    store = pickup_location
    request = {"action": ACTION, "pickup_location": store.code}
    if order_request_replayed(order, actor, request, words="moved"):
        return None
    _refuse_the_order(order)
    _refuse_the_store(order, store)
    lines = list(order.lines.select_related("sku", "location", "kit_line__sku"))
    _refuse_units_waiting(order, lines)
    open_lines = [line for line in lines if line.open_quantity]
    balances_lock(
        keys=[(line.sku_id, line.location_id) for line in open_lines]
        + [(line.sku_id, store.pk) for line in open_lines]
    )
    moves = _moves(order, lines, store)
    lanes = _lanes(order, store, moves)
    now = timezone.now()
    lead = max((lane.lead_time_hours for lane in lanes.values()), default=0)
    return PickupLocationChange(
        order=order,
        was=order.pickup_location,
        to=store,
        moves=moves,
        lanes=lanes,
        # The customer is told the new store's ready time; units on a transfer are
        # there after the lane's lead time, and the store prepares them after that.
        promised_by=pickup_ready_by(
            location=store, placed_at=now + timedelta(hours=lead)
        ),
        request=request,
    )


def order_pickup_location_change(
    *,
    change: PickupLocationChange,
    actor: Actor,
    send: Callable[[Sequence[LineMove]], Mapping[int, int]],
) -> Order:
    """Move the units as planned, in the caller's transaction under the order's lock:
    committed at the new store, released or put back at the old one; the units the
    new store lacks are handed to ``send`` once the old store no longer holds them
    for the order (its commitment released, its picked units back on the shelf),
    which sends them along the lane and answers each line's transfer id. Then the
    lines, the kit lines and the order move to the new store, and the change is
    recorded (``order_changed``: the apps that keep something for the order follow)."""
    order, store, now = change.order, change.to, timezone.now()
    sequence = order.events.count() + 1

    def units(movement: str, where, count) -> list[CommitmentLine]:
        return [
            CommitmentLine(
                reference=ledger_reference(order, move.line, movement, sequence),
                sku=move.line.sku,
                location=where(move),
                quantity=count(move),
            )
            for move in change.moves
            if count(move)
        ]

    if here := units(MovementType.COMMIT, lambda _: store, lambda m: m.committed):
        commitments_place(channel=order.channel, lines=here, actor=actor)
    # At the old store: what was on its shelf for the order is released, and what was
    # picked and is sent goes back on the shelf, both for the lane's transfer to
    # take (``send``).
    for movement, count in (
        (MovementType.COMMITMENT_RELEASE, lambda m: m.released + m.sent_from_shelf),
        (MovementType.PUT_AWAY, lambda m: m.sent_picked),
    ):
        if there := units(movement, lambda m: m.source, count):
            commitments_move(
                channel=order.channel, move=movement, lines=there, actor=actor
            )
    returned = _returned(change, actor, now)
    transfers = dict(send(change.travelling)) if change.travelling else {}
    shown = [
        _line_moved(move, change, transfers.get(move.line.pk)) for move in change.moves
    ]
    # Lines with nothing left to collect change place too: the order is the new
    # store's whole.
    OrderLine.objects.filter(order=order).exclude(
        pk__in=[move.line.pk for move in change.moves]
    ).update(location=store)
    OrderKitLine.objects.filter(order=order).update(location=store)
    was_promised = order.promised_by
    order.pickup_location, order.promised_by = store, change.promised_by
    order.save(update_fields=["pickup_location", "promised_by", "updated_at"])
    detail = {
        "from": change.was.code,
        "to": store.code,
        "lines": shown,
        "promised_by": {"from": _iso(was_promised), "to": _iso(change.promised_by)},
        "request_reference": actor.request_reference,
    }
    if returned:
        detail["return_to_stock"] = returned
    if change.lanes:
        detail["lead_time_hours"] = max(
            lane.lead_time_hours for lane in change.lanes.values()
        )
    order_status_record(
        order,
        # Picked units stay at the old store: the new store picks the order again.
        Status.IN_PROGRESS if order.status == Status.READY else order.status,
        actor=actor,
        kind=OrderEvent.Kind.PICKUP_LOCATION_CHANGED,
        action=ACTION,
        at=now,
        note=f"Pickup moved from {change.was.code} to {store.code}.",
        detail=detail,
        request=change.request,
        always=True,
    )
    return order


def _refuse_the_order(order: Order) -> None:
    if not order.is_collected_by_customer:
        raise OrderTransitionRefused(
            f"Order {order.reference!r} is not collected at a store "
            f"({order.get_fulfilment_method_display().lower()}): it has no pickup "
            "store to change; nothing was changed.",
            status=order.status,
        )
    if order.status not in MAY_MOVE:
        raise OrderTransitionRefused(
            f"Order {order.reference!r} is {order.get_status_display().lower()}: its "
            "pickup store can no longer change; nothing was changed.",
            status=order.status,
        )


def _refuse_units_waiting(order: Order, lines: list[OrderLine]) -> None:
    """Units short at picking wait for a decision or a transfer to this store, and
    pre-ordered units for a delivery to it: each is settled where it is first."""
    if any(line.short_quantity for line in lines):
        what = "missing at picking, or on their way from another store"
        settle = "decide about them on the pickup task, or let the transfer arrive"
    elif any(line.awaiting_supply_quantity for line in lines):
        what = "pre-ordered, waiting for a delivery"
        settle = "let it arrive, or cancel those units"
    else:
        return
    raise PickupLocationChangeRefused(
        f"Order {order.reference!r} has units {what}: {settle} first, then change "
        "its pickup store; nothing was changed.",
        status=order.status,
    )


def _refuse_the_store(order: Order, store: Location) -> None:
    """The new store: another one, handing over pickups, in the channel's network."""
    problem = ""
    if store.pk == order.pickup_location_id:
        problem = (
            f"The order is collected at {store.code} already: choose another store."
        )
    elif not (store.is_active and store.pickup_enabled):
        problem = f"{store.code} does not hand over pickups."
    elif outside_network(channel=order.channel, locations=[store]):
        problem = not_in_network_message(channel=order.channel, location=store)
    if problem:
        raise InvalidInput({"pickup_location": [problem]})


def _moves(order: Order, lines: list[OrderLine], store: Location) -> list[LineMove]:
    """Where each line's open units come from: the new store's own first, as far as
    its figures go (read under the balances' lock, for the order's channel, walk-in
    units included), covering the units still on the old store's shelf before those
    already picked there; the rest is sent. A SKU on several lines (a kit's component
    and the SKU alone) shares the new store's units, line by line."""
    skus = {line.sku_id: line.sku for line in lines if line.open_quantity}
    rows = availability_rows(
        pairs=[(sku, store) for sku in skus.values()], channel=order.channel
    )
    spare = {row.sku.pk: max(0, row.available_to_promise) for row in rows}
    moves = []
    for line in lines:
        if not line.open_quantity:
            continue
        move = LineMove(line=line, source=line.location)
        moves.append(move)
        on_shelf, picked = line.unpicked_quantity, line.picked_quantity
        move.committed = min(on_shelf + picked, spare.get(line.sku_id, 0))
        spare[line.sku_id] = spare.get(line.sku_id, 0) - move.committed
        move.released = min(move.committed, on_shelf)
        move.returned = move.committed - move.released
        move.sent_from_shelf = on_shelf - move.released
        move.sent_picked = picked - move.returned
    return moves


def _lanes(
    order: Order, store: Location, moves: list[LineMove]
) -> dict[int, TransferRoute]:
    """The lane from each store units are sent from; 409 ``insufficient_stock`` when
    one is missing, naming what the new store lacks and the stores nearest to it
    that could fill every open unit (the store left aside: the order is there)."""
    sources = {move.source.pk: move.source for move in moves if move.sent}
    lanes = {
        lane.from_location_id: lane
        for lane in TransferRoute.objects.filter(
            from_location_id__in=list(sources), to_location=store
        )
    }
    if set(lanes) == set(sources):
        return lanes
    left = order.pickup_location.code if order.pickup_location else ""
    needed: dict[int, OrderLineInput] = {}
    for move in moves:
        line, had = move.line, needed.get(move.line.sku_id)
        units = line.open_quantity + (had.quantity if had else 0)
        needed[line.sku_id] = OrderLineInput(sku=line.sku, quantity=units)
    nearest = [
        found
        for found in stores_that_can_fill(
            order.channel, list(needed.values()), {}, store
        )
        if found["location"] != left
    ]
    raise InsufficientStock(
        f"{store.code} cannot fill the order from its own shelves and no transfer "
        f"lane leads there from {', '.join(sorted(s.code for s in sources.values()))}"
        "; nothing was changed.",
        shortages=_shortages(order, store, moves),
        nearest_stores=nearest,
    )


def _shortages(order: Order, store: Location, moves: list[LineMove]) -> list[dict]:
    """What the new store lacks, one entry per SKU (every unit the order asks of it,
    checked as one), naming the kits that need it when the order has kits."""
    by_sku: dict[int, dict] = {}
    for move in moves:
        line = move.line
        entry = by_sku.setdefault(
            line.sku_id,
            {
                "sku": line.sku.code,
                "location": store.code,
                "requested": 0,
                "available_to_promise": 0,
                "short": 0,
                "kits": [],
            },
        )
        entry["requested"] += line.open_quantity
        entry["available_to_promise"] += move.committed
        entry["short"] += move.sent
        if line.kit_line_id and line.kit_line.sku.code not in entry["kits"]:
            entry["kits"].append(line.kit_line.sku.code)
    has_kits = any(move.line.kit_line_id for move in moves)
    shortages = []
    for entry in by_sku.values():
        if not entry.pop("short"):
            continue
        kits = entry.pop("kits")
        if has_kits:
            entry.update(kit=kits[0] if kits else None, kits=kits)
        shortages.append(entry)
    return shortages


def _returned(change: PickupLocationChange, actor: Actor, now: datetime) -> list:
    """Units picked at the old store that the new store sets aside its own of: a
    return-to-stock task each, as for a cancellation after picking; they count
    again there once staff put them back."""
    shown = []
    for move in change.moves:
        if not move.returned:
            continue
        line = move.line
        task = ReturnToStockTask.objects.create(
            order=change.order,
            line=line,
            sku=line.sku,
            location=move.source,
            quantity=move.returned,
            reason=f"Pickup moved to {change.to.code}: the customer collects there.",
            created_by=actor.name,
            created_at=now,
        )
        shown.append({"line": line.pk, "quantity": move.returned, "task": task.pk})
    return shown


def _line_moved(
    move: LineMove, change: PickupLocationChange, transfer: int | None
) -> dict:
    """The line at the new store, its status as its counts now say (its picked units
    stay behind; those on their way are short until they land), saved; what the
    timeline shows of it."""
    line = move.line
    was = line.status
    line.picked_quantity -= move.returned + move.sent_picked
    line.short_quantity += move.sent
    line.location = store = change.to
    status = line_status(line)
    if status != was and not may_move(line, status):
        raise OrderTransitionRefused(
            f"Line {line.pk} cannot go from {was} to {status}.",
            status=change.order.status,
        )
    line.status = status
    line.save()
    shown = {
        "line": line.pk,
        "sku": line.sku.code,
        "location": store.code,
        "from_location": move.source.code,
        "quantity": line.open_quantity,
        "from": was,
        "to": status,
        "committed": move.committed,
        "released": move.released,
        "return_to_stock": move.returned,
        "on_transfer": move.sent,
    }
    if transfer is not None:
        shown["transfer"] = transfer
    return shown


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
