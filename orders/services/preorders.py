"""Pre-orders and back-orders on an order's lines: units promised against dated supply
(inventory.services.supply_promises) instead of committed from the shelf, and what
happens to them until the supply lands.

- ``lines_promised``: an order placed with ``allow_future`` lines; the units the shelf
  could not cover wait for supply (``awaiting_supply_quantity``, due
  ``supply_expected_at``), the line ``awaiting_supply``.
- ``hold_taken_over``: an order placed from a checkout hold takes over the hold's
  promises with its units.
- ``supply_landed`` (a receiver of inventory's signal): the supply came, the promised
  units are committed now (the ledger did that with the receipt); the lines move on,
  the timeline says so, and the channel is told (``order_supply_arrived``, the webhook
  ``order.supply_arrived``).
- ``promises_moved`` (a receiver): supply rescheduled or called off; each line's
  promise date as it now stands, on the timeline. Units no supply covers stay
  awaiting, undated; reconciliation opens the ``supply_delayed`` case for them.

The receivers run inside the transaction that moved the supply, which holds the
balances; they touch only the lines (each locked, after the balances), never the
order's row, so they keep the one lock order (inventory.locking). An order's own
moves read the lines' supply counts again once they hold the balances
(``moves.lines_move``)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from config.access import Actor
from inventory.models import SupplyPromise
from inventory.services.commitments import FuturePromise
from inventory.services.supply_promises import supply_promises_hand_over

from ..models import Order, OrderEvent, OrderLine
from ..signals import order_supply_arrived
from .moves import line_status
from .timeline import order_event

Kind = OrderEvent.Kind
LineStatus = OrderLine.Status
ORDER_LINE = SupplyPromise.Owner.ORDER_LINE


def lines_promised(
    *,
    order: Order,
    rows: Sequence[OrderLine],
    futures: dict[int, FuturePromise],
    actor: Actor,
    at: datetime,
) -> None:
    """The order's lines whose units wait for supply, as placed."""
    waiting = []
    for row in rows:
        future = futures.get(row.pk)
        if future is None:
            continue
        _waits(row, future.units, future.expected_at)
        waiting.append(row)
    _promised_event(order, waiting, actor=actor, at=at)


def hold_taken_over(
    *, order: Order, rows: Sequence[OrderLine], actor: Actor, at: datetime
) -> None:
    """An order from a checkout hold: its lines were made from the hold's; a hold
    line's promise against supply becomes the order line's of the same SKU and
    location, the plain one (a held line the hold's kits took units of is more than
    one order line there, but such a hold has no units to come)."""
    held = list(order.reservation.lines.order_by("id"))
    by_place: dict[tuple[int, int], list[OrderLine]] = defaultdict(list)
    for row in rows:
        by_place[(row.sku_id, row.location_id)].append(row)
    waiting = []
    for held_line in held:
        if not held_line.future_quantity:
            continue
        # A hold that took a kit promises nothing against supply (a kit sells
        # from the shelf): units to come are always one plain line's.
        (row,) = [
            row
            for row in by_place[(held_line.sku_id, held_line.location_id)]
            if row.kit_line_id is None
        ]
        supply_promises_hand_over(
            owner_kind=SupplyPromise.Owner.RESERVATION_LINE,
            owner_id=held_line.pk,
            to_kind=ORDER_LINE,
            to_id=row.pk,
            actor=actor,
        )
        _waits(row, held_line.future_quantity, held_line.supply_expected_at)
        waiting.append(row)
    _promised_event(order, waiting, actor=actor, at=at)


def _waits(row: OrderLine, units: int, due: datetime | None) -> None:
    row.awaiting_supply_quantity, row.supply_expected_at = units, due
    row.status = LineStatus.AWAITING_SUPPLY
    row.save(update_fields=["awaiting_supply_quantity", "supply_expected_at", "status"])


def _promised_event(
    order: Order, rows: list[OrderLine], *, actor: Actor, at: datetime
) -> None:
    if not rows:
        return
    order_event(
        order,
        kind=Kind.SUPPLY_PROMISED,
        actor=actor,
        action="order_place",
        at=at,
        note="; ".join(
            f"{row.awaiting_supply_quantity} × {row.sku.code} at "
            f"{row.location.code} promised from supply "
            + (
                f"due {row.supply_expected_at:%Y-%m-%d}"
                if row.supply_expected_at
                else "not dated yet: no supply left to come from"
            )
            for row in rows
        ),
        detail={
            "lines": [
                {
                    "line": row.pk,
                    "sku": row.sku.code,
                    "location": row.location.code,
                    "quantity": row.awaiting_supply_quantity,
                    "expected_at": _iso(row.supply_expected_at),
                    "supply": _supply_of(row),
                }
                for row in rows
            ]
        },
    )


def _supply_of(row: OrderLine) -> list[dict]:
    """The supply a line's units are promised against, as it stands."""
    promises = SupplyPromise.objects.filter(
        owner_kind=ORDER_LINE, owner_id=row.pk, status=SupplyPromise.Status.OPEN
    ).select_related("supply")
    return [
        {
            "reference": promise.supply.reference,
            "kind": promise.supply.kind,
            "expected_at": _iso(promise.supply.expected_at),
            "units": promise.units,
        }
        for promise in promises
    ]


def supply_landed(sender, *, landings, actor: Actor, **kwargs) -> None:
    """Units a pre-order waited for arrived and were committed with the receipt: the
    lines move on, and the channel is told."""
    units: dict[int, int] = defaultdict(int)
    supplies: dict[int, list] = defaultdict(list)
    for landed in landings:
        if landed.owner_kind == ORDER_LINE:
            units[landed.owner_id] += landed.units
            supplies[landed.owner_id].append(landed.supply)
    if not units:
        return
    now = timezone.now()
    dates = _promise_dates(units)
    by_order: dict[int, list[dict]] = defaultdict(list)
    lines = _locked_lines(units)
    for line in lines:
        was = line.status
        line.awaiting_supply_quantity -= min(
            units[line.pk], line.awaiting_supply_quantity
        )
        line.supply_expected_at = (
            dates.get(line.pk) if line.awaiting_supply_quantity else None
        )
        line.status = _status_after(line)
        line.save(
            update_fields=["awaiting_supply_quantity", "supply_expected_at", "status"]
        )
        by_order[line.order_id].append(
            {
                "line": line.pk,
                "sku": line.sku.code,
                "location": line.location.code,
                "quantity": units[line.pk],
                "from": was,
                "to": line.status,
                "supply": [
                    {
                        "reference": supply.reference,
                        "expected_at": _iso(supply.expected_at),
                    }
                    for supply in supplies[line.pk]
                ],
            }
        )
    orders = Order.objects.select_related("channel").in_bulk(by_order)
    for order_id, shown in by_order.items():
        order = orders[order_id]
        event = order_event(
            order,
            kind=Kind.SUPPLY_ARRIVED,
            actor=actor,
            action="supply_landed",
            at=now,
            note="; ".join(
                f"{line['quantity']} × {line['sku']} arrived at {line['location']} "
                "and committed to this order"
                for line in shown
            ),
            detail={
                "lines": shown,
                "supply": [
                    dict(arrived)
                    for arrived in {
                        tuple(sorted(supply.items()))
                        for line in shown
                        for supply in line["supply"]
                    }
                ],
            },
        )
        order_supply_arrived.send(sender=Order, order=order, event=event, actor=actor)


def promises_moved(sender, *, moves, actor: Actor, **kwargs) -> None:
    """The supply under some lines' promises moved: each line's promise date as it
    stands now, on its order's timeline."""
    # A line that gave its units up (cancelled) has nothing more to tell.
    moved = {
        move.owner_id: move
        for move in moves
        if move.owner_kind == ORDER_LINE and not move.released
    }
    if not moved:
        return
    now = timezone.now()
    for line in _locked_lines(moved):
        move = moved[line.pk]
        line.supply_expected_at = move.expected_at
        line.save(update_fields=["supply_expected_at"])
        if move.unsupplied:
            kind = Kind.SUPPLY_DELAYED
            note = (
                f"{move.unsupplied} × {line.sku.code} at {line.location.code} have no "
                f"supply left to come from: {move.why} Someone will contact the "
                "customer."
            )
        else:
            kind = Kind.PROMISE_DATE_CHANGED
            note = (
                f"{line.sku.code} at {line.location.code} now due "
                f"{move.expected_at:%Y-%m-%d}"
                + (
                    f" (was {move.was_expected_at:%Y-%m-%d})"
                    if move.was_expected_at
                    else ""
                )
                + f": {move.why}"
            )
        order_event(
            line.order,
            kind=kind,
            actor=actor,
            action="supply_moved",
            at=now,
            note=note,
            detail={
                "line": line.pk,
                "sku": line.sku.code,
                "location": line.location.code,
                "from": _iso(move.was_expected_at),
                "to": _iso(move.expected_at),
                "unsupplied": move.unsupplied,
            },
        )


def _locked_lines(ids) -> list[OrderLine]:
    return list(
        OrderLine.objects.select_for_update(no_key=True, of=("self",))
        .select_related("sku", "location", "order", "order__channel")
        .filter(pk__in=list(ids))
        .order_by("pk")
    )


def _promise_dates(line_ids) -> dict[int, datetime]:
    """Each line's promise date from the promises it still has open."""
    return dict(
        SupplyPromise.objects.filter(
            owner_kind=ORDER_LINE,
            owner_id__in=list(line_ids),
            status=SupplyPromise.Status.OPEN,
        )
        .values("owner_id")
        .annotate(due=Max("expected_at"))
        .values_list("owner_id", "due")
    )


def _status_after(line: OrderLine) -> str:
    """The line's status as its counts stand (moves.line_status), allowed or kept."""
    status = line_status(line)
    return status if status in OrderLine.TRANSITIONS[line.status] else line.status


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
