"""Reconciliation's answers to what inventory announces (inventory.signals), connected
in ``ReconciliationConfig.ready``: every oversell conflict the ledger records opens
(or adds to) the case for its SKU at its location; pre-ordered units left without
supply (rescheduled or called off) open a ``supply_delayed`` case per order line;
units a packer of a shipped order could not find (``orders.signals``) open an *item
not found* case per packing problem."""

from config.access import Actor
from config.words import units
from inventory.models import SupplyPromise
from inventory.signals import conflicts_recorded, supply_promises_moved
from orders.models import OrderLine, PackingProblem
from orders.signals import order_short_reported

from .models import ExceptionKind
from .services import Raised, exception_raise, exception_settle


def raise_oversell_conflicts(sender, *, conflicts, **kwargs) -> None:
    for conflict in conflicts:
        entry = conflict.movement
        sku, location = entry.sku, entry.location
        exception_raise(
            raised=Raised(
                kind=ExceptionKind.OVERSELL_CONFLICT,
                key=f"oversell:{sku.pk}@{location.pk}",
                title=f"{sku.code} at {location.code}: "
                f"{units(conflict.shortfall, 'promised unit')} not on hand",
                detail=f"A {entry.get_type_display().lower()} ({entry.reference}, "
                f"{units(entry.quantity)}) left {conflict.on_hand} on hand against "
                f"{conflict.promised} promised. Find the units, or correct the stock "
                f"and tell the customers who cannot be served.",
                sku=sku,
                location=location,
                stock_conflict=conflict,
                facts={
                    "shortfall": conflict.shortfall,
                    "promised": conflict.promised,
                    "on_hand": conflict.on_hand,
                    "movement_reference": entry.reference,
                },
            ),
            actor=Actor.recorded(entry.actor or "ledger"),
        )


def raise_supply_delayed(sender, *, moves, actor, **kwargs) -> None:
    """A pre-order's units with no supply left to come from: someone must tell the
    customer, find other stock or cancel. One case per order line."""
    of_lines = [m for m in moves if m.owner_kind == SupplyPromise.Owner.ORDER_LINE]
    for move in of_lines:
        if not move.unsupplied:
            # Supply covers them again, or the customer gave them up.
            exception_settle(
                key=f"supply_delayed:order_line:{move.owner_id}",
                note=move.why,
                actor=actor,
            )
    unsupplied = {move.owner_id: move for move in of_lines if move.unsupplied}
    lines = OrderLine.objects.select_related("order", "order__channel").in_bulk(
        list(unsupplied)
    )
    for line_id, move in unsupplied.items():
        line = lines[line_id]
        order = line.order
        exception_raise(
            raised=Raised(
                kind=ExceptionKind.SUPPLY_DELAYED,
                key=f"supply_delayed:order_line:{line_id}",
                title=f"Order {order.reference}: {units(move.unsupplied)} of "
                f"{move.sku.code} pre-ordered with no supply to come from",
                detail=f"{move.why} {units(move.unsupplied)} of {move.sku.code} at "
                f"{move.location.code} were promised to {order.channel.code} order "
                f"{order.reference} and no supply on its way covers them. Tell the "
                "customer, find the units elsewhere, or cancel them.",
                sku=move.sku,
                location=move.location,
                link=f"/store/support/orders/{order.pk}/",
                facts={
                    "order": order.reference,
                    "line": line_id,
                    "unsupplied": move.unsupplied,
                    "was_expected_at": (
                        move.was_expected_at.isoformat()
                        if move.was_expected_at
                        else None
                    ),
                },
            ),
            actor=actor,
        )


def packing_problem_key(problem_id: int) -> str:
    """The case of a packing problem's units not found: found again by its key (the
    order's story, customer service)."""
    return f"packing_problem:{problem_id}"


def raise_packing_not_found(sender, *, order, problem, actor, **kwargs) -> None:
    """The records said the units were on the shelf and the packer could not find
    them: someone should find out why, whatever became of the order (re-routed or
    not). Damaged units are a known fact: no case."""
    if problem.condition != PackingProblem.Condition.NOT_FOUND:
        return
    sku, location = problem.line.sku, problem.location
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.ITEM_NOT_FOUND,
            key=packing_problem_key(problem.pk),
            title=f"{sku.code} at {location.code}: {units(problem.quantity)} not "
            f"found for order {order.reference}",
            detail=f"Reported when packing by {problem.reported_by}. "
            f"{problem.note}".strip()
            + " The units were taken off on-hand; look for them, or recount.",
            sku=sku,
            location=location,
            link=f"/store/packing/?location={location.code}",
            facts={
                "order": order.reference,
                "quantity": problem.quantity,
                "packing_problem": problem.pk,
            },
        ),
        actor=actor,
    )


def connect() -> None:
    conflicts_recorded.connect(
        raise_oversell_conflicts, dispatch_uid="reconciliation.oversell_conflicts"
    )
    supply_promises_moved.connect(
        raise_supply_delayed, dispatch_uid="reconciliation.supply_delayed"
    )
    order_short_reported.connect(
        raise_packing_not_found, dispatch_uid="reconciliation.packing_not_found"
    )
