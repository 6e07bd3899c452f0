"""Units a packer of a shipped order (ship, ship from store, local delivery) could
not find on the shelf, or found damaged (``PackingProblem``), and what becomes of
them.

Reported (``packing_report_short``), in one transaction under the order's lock, in
the one lock order (inventory.locking: documents, then every balance at once, then
a case after its stock):

1. where the units would go, decided before any stock is locked: routed
   (``routing.route``) over a fresh snapshot of the channel's network
   (``selectors.routing_candidates``: the same rules and walk-in buffers as placing)
   without the location that was short;
2. the balances of the SKU at the short location and at the location chosen, locked
   together (``inventory.services.balances_lock``), so a transfer between the two,
   or a packer re-routing the other way, queues instead of deadlocking;
3. the stock fact (``lines.order_report_short``: the commitment released, on-hand
   or damaged corrected at the location) and the problem;
4. the units re-routed: if one location can fill them, a line is added there
   (committed), the decision is recorded again on the timeline (``rerouted``) and
   the short units are cancelled on the old line as served (``served_by``
   ``rerouted``: no sale lost). If none can, or the order cannot take a line now
   (part of it has left, or the line is a kit's part), or the location chosen sold
   them since the snapshot, the problem waits for a person; ``routing`` on the
   problem says why;
5. last, ``signals.order_short_reported`` (reconciliation opens an *item not found*
   case for units not found): a case after the stock it is about.

A person then decides (``packing_decisions``), as a picker's problem is decided
(``pickup.services.problems``). "Shipped" on the packing bench
(``packing_ship_here``) is refused while units of the order there wait for a
decision.

Every service takes the order's lock first (as every order service does), then the
problem's; stock moves only through the order services. A member of staff acts only
at the location the units were short at (a 404 elsewhere). The caller's
``request_reference`` is kept on the problem (the report's, the decision's): the
same key again answers with things as they stand and changes nothing."""

from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Sku
from config import access
from config.access import Actor
from config.errors import Conflict, InvalidInput, NotFound
from config.transitions import TransitionRefused, check
from config.words import units
from inventory.errors import InsufficientStock
from inventory.models import Location
from inventory.services import balances_lock

from .. import selectors
from ..models import COLLECTED_METHODS, Order, OrderEvent, OrderLine, PackingProblem
from ..routing import RoutingDecision, RoutingLine, route
from ..signals import order_short_reported
from .inputs import LineQuantity, RequestReferenceClash
from .lines import (
    kept_for_walk_ins,
    order_add_line,
    order_cancel_short,
    order_report_short,
    order_ship,
)
from .planning import ROUTING_WEIGHTS
from .timeline import order_event, order_locked_for_change

Condition = PackingProblem.Condition
Resolution = PackingProblem.Resolution

# An order still being packed takes a re-routed or substitute line; one that has
# partly left does not (``lines.order_add_line``).
TAKES_LINES = frozenset({Order.Status.ALLOCATED, Order.Status.IN_PROGRESS})
# Nothing is left to pack on these.
FINISHED = frozenset(
    {
        Order.Status.SHIPPED,
        Order.Status.COLLECTED,
        Order.Status.CLOSED,
        Order.Status.CANCELLED,
    }
)


class PackingRefused(Conflict):
    """Not a packer's to report: a pickup order (its task's screen reports it), or
    an order with nothing left to pack."""

    code = "packing_refused"


class PackingProblemsOpen(Conflict):
    """Units of the order short here still wait for a decision: it is not shipped
    from here yet."""

    code = "packing_problems_open"


class PackingProblemTransitionRefused(TransitionRefused):
    code = "packing_problem_transition_refused"


def packing_report_short(
    *,
    order_id: int,
    line_id: int,
    quantity: int,
    condition: str,
    actor: Actor,
    note: str = "",
) -> PackingProblem:
    """The packer could not take ``quantity`` units of the line off the shelf: the
    stock fact, the problem, the units re-routed when a location can fill them, and
    its case, in the module's steps and lock order. Refusals write nothing."""
    if condition not in Condition.values:
        raise InvalidInput(
            {"condition": ["Say whether the units are not_found or damaged."]}
        )
    note = note.strip()
    with transaction.atomic():
        order = order_locked_for_change(order_id)
        earlier = _reported_before(order, actor, line_id, quantity, condition, note)
        if earlier is not None:
            return earlier
        _packed_here(order)
        line = order.lines.select_related("sku", "location", "kit_line__sku")
        line = line.filter(pk=line_id).first()
        if line is None:
            raise InvalidInput({"line": [f"No line {line_id} on this order."]})
        may_act_at(actor, line.location_id, order)
        room = line.unpicked_quantity
        if quantity < 1 or quantity > room:
            raise InvalidInput(
                {
                    "quantity": [
                        f"{units(room)} of {line.sku.code} on the shelf to report "
                        f"short; asked {quantity}."
                    ]
                }
            )
        decision = _route_first(order, line, quantity)
        target = one_location(decision)
        # Every balance the report and its re-route move, at once, in the one order
        # (inventory.locking): taken one by one (the short's, then the target's at
        # the re-route) they would meet a transfer between the two locations, or a
        # packer re-routing the other way, in the opposite order.
        balances_lock(
            keys=[(line.sku_id, line.location_id)]
            + ([(line.sku_id, target.pk)] if target is not None else [])
        )
        words = Condition(condition).label.lower()
        # The caller's key goes on the stock fact's timeline entry; what follows is
        # part of the same request.
        order_report_short(
            order_id=order.pk,
            line_id=line.pk,
            quantity=quantity,
            condition=condition,
            actor=actor,
            note=note or f"{words} when packing",
        )
        problem = PackingProblem.objects.create(
            order=order,
            line=line,
            location=line.location,
            quantity=quantity,
            condition=condition,
            note=note[:300],
            reported_by=actor.name,
            reported_at=timezone.now(),
            request_reference=actor.request_reference,
        )
        inner = replace(actor, request_reference="")
        order.refresh_from_db(fields=["status"])
        _reroute(order, problem, decision, target, inner)
        # Last: the case is locked after the stock it is about (inventory.locking).
        order_short_reported.send(
            sender=PackingProblem, order=order, problem=problem, actor=inner
        )
    return problem


def packing_ship_here(
    *, order_id: int, location: Location, actor: Actor
) -> tuple[Order, int]:
    """The bench's "Shipped": every unit of the order packed at ``location`` that
    is in hand left with the carrier (units short wait for a decision, units
    pre-ordered are not here yet). Refused (409 ``packing_problems_open``) while
    units of the order there wait for a decision: once part of the order has left
    it takes no re-routed or substitute line. Checked under the order's lock, which
    a report takes too. Answers the order and the units shipped."""
    with transaction.atomic():
        order = order_locked_for_change(order_id)
        here = list(order.lines.filter(location=location))
        if order.fulfilment_method in COLLECTED_METHODS or not here:
            raise NotFound(f"No order {order_id} to pack at {location.code}.")
        may_act_at(actor, location.pk, order)
        waiting = selectors.packing_problems_waiting(location=location)
        waiting = list(waiting.filter(order=order))
        if waiting:
            short = sum(problem.quantity for problem in waiting)
            raise PackingProblemsOpen(
                f"Order {order.reference}: {units(short)} short at {location.code} "
                "still waiting for a decision. Decide about them first; nothing was "
                "shipped.",
                problems=[problem.pk for problem in waiting],
            )
        lines = [
            LineQuantity(line.pk, line.unpicked_quantity + line.picked_quantity)
            for line in here
            if line.unpicked_quantity + line.picked_quantity
        ]
        if not lines:
            raise InvalidInput({"ship": ["Nothing of this order is here to ship."]})
        order = order_ship(order_id=order.pk, lines=lines, actor=actor)
    return order, sum(line.quantity for line in lines)


# ------------------------------------------------------------------ re-routing


def _route_first(
    order: Order, line: OrderLine, quantity: int
) -> RoutingDecision | None:
    """Where the units would go (module step 1), decided over the snapshot before any
    balance is locked; None when they could not be re-routed whatever the stock: a
    kit's part, or an order partly gone (its shipped units never come back)."""
    if line.kit_line_id is not None or order.status == Order.Status.PARTIALLY_SHIPPED:
        return None
    return route_units(order, line.sku, quantity, without=line.location_id)


def one_location(decision: RoutingDecision | None) -> Location | None:
    """The one location that can send them all, if there is one."""
    if decision is None or decision.shortages or len(decision.allocations) != 1:
        return None
    return Location.objects.get(pk=decision.allocations[0].location_id)


def _reroute(
    order: Order,
    problem: PackingProblem,
    decision: RoutingDecision | None,
    target: Location | None,
    actor: Actor,
) -> None:
    """Re-route the problem's units where ``decision`` sent them, the balances
    there locked already (module step 4); else keep on the problem why not, for the
    person who decides."""
    line = problem.line
    why_not = _not_reroutable(order, problem)
    if why_not or decision is None:
        _kept(problem, {"rerouted": False, "reason": why_not})
        return
    if target is None:
        reason = (
            f"No other location has {units(problem.quantity)} of {line.sku.code} "
            "to send alone"
            if decision.is_split
            else f"No other location has {units(problem.quantity)} of "
            f"{line.sku.code} to send"
        )
        _kept(problem, {**decision.as_json(), "rerouted": False, "reason": reason})
        return
    shown = {**decision.as_json(), "rerouted": True}
    sku, quantity, short_at = line.sku, problem.quantity, problem.location.code
    words = problem.get_condition_display().lower()
    try:
        # A savepoint: should the chosen location no longer have the units when
        # they are committed (sold since the snapshot), the report stands and the
        # problem waits for a person.
        with transaction.atomic():
            now = timezone.now()
            event = order_event(
                order,
                kind=OrderEvent.Kind.REROUTED,
                actor=actor,
                action="packing_reroute",
                at=now,
                note=f"{quantity} × {sku.code} {words} at {short_at}: re-routed to "
                f"{target.code}. {decision.reason}",
                detail={
                    **decision.as_json(),
                    "problem": problem.pk,
                    "sku": sku.code,
                    "quantity": quantity,
                    "from_line": line.pk,
                    "from_location": short_at,
                    "to_location": target.code,
                },
            )
            _, added = order_add_line(
                order_id=order.pk,
                sku=sku,
                location=target,
                walk_in_buffer=kept_for_walk_ins(target),
                quantity=quantity,
                actor=actor,
                reason=f"Re-routed from {short_at}: {words} there when packing.",
            )
            order_cancel_short(
                order_id=order.pk,
                line_id=line.pk,
                quantity=quantity,
                actor=actor,
                reason=f"Re-routed to {target.code} (line {added.pk}).",
                served_by="rerouted",
            )
            event.detail["to_line"] = added.pk
            event.save(update_fields=["detail"])
            problem.rerouted_line = added
            problem.routing = shown
            resolve(problem, Resolution.REROUTED, actor, at=now)
    except InsufficientStock as gone:
        _kept(
            problem,
            {
                **shown,
                "rerouted": False,
                "reason": f"{target.code} could no longer commit them: {gone.message}",
            },
        )


def route_units(
    order: Order, sku: Sku, quantity: int, *, without: int | None = None
) -> RoutingDecision:
    """Where ``quantity`` units of ``sku`` would go for this order now: routed as
    placing routes it (the order's method and the customer's address, walk-in units
    kept back), over the channel's network but the location ``without``."""
    candidates = selectors.routing_candidates(
        channel=order.channel, skus=[sku], method=order.fulfilment_method,
        now=timezone.now(),
    )  # fmt: skip
    return route(
        lines=[RoutingLine(sku_id=sku.pk, sku_code=sku.code, quantity=quantity)],
        candidates=[c for c in candidates if c.location_id != without],
        destination=_destination(order),
        weights=ROUTING_WEIGHTS,
    )


def _not_reroutable(order: Order, problem: PackingProblem) -> str:
    line = problem.line
    if order.status not in TAKES_LINES:
        return (
            f"The order is {order.get_status_display().lower()}: a line is added "
            "only before any of it leaves"
        )
    if line.kit_line_id is not None:
        return (
            f"Part of kit {line.kit_line.sku.code}: a kit is not split across "
            "locations by itself"
        )
    return ""


def _kept(problem: PackingProblem, routing: dict) -> None:
    problem.routing = routing
    problem.save(update_fields=["routing"])


# ------------------------------------------------------------ checks and keys


def _packed_here(order: Order) -> None:
    if order.fulfilment_method in COLLECTED_METHODS:
        raise PackingRefused(
            f"Order {order.reference!r} is collected by the customer: units short "
            "at picking are reported on its pickup task's screen; nothing was "
            "changed.",
            status=order.status,
        )
    if order.status in FINISHED:
        raise PackingRefused(
            f"Order {order.reference!r} is {order.status}: nothing is left to pack; "
            "nothing was changed.",
            status=order.status,
        )


def may_act_at(actor: Actor, location_id: int, order: Order) -> None:
    """A member of staff packs at the locations they work at; an integration's
    token acts for its channel (the API has checked it)."""
    if actor.user is not None:
        access.ensure_may_act_at(
            user=actor.user, location_id=location_id, what=f"order {order.pk}"
        )


def _reported_before(
    order: Order,
    actor: Actor,
    line_id: int,
    quantity: int,
    condition: str,
    note: str,
) -> PackingProblem | None:
    """The report sent again under the same key: the problem as it stands. The key
    used for anything else on this order: 409 ``request_reference_clash``."""
    key = actor.request_reference
    if not key:
        return None
    earlier = order.packing_problems.filter(request_reference=key).first()
    if earlier is not None:
        asked = (line_id, quantity, condition, note[:300])
        if (
            earlier.line_id,
            earlier.quantity,
            earlier.condition,
            earlier.note,
        ) != asked:
            raise RequestReferenceClash()
        return earlier
    key_unused(order, key)
    return None


def key_unused(order: Order, key: str) -> None:
    used = order.events.filter(request_reference=key).exists()
    used = (
        used
        or order.packing_problems.filter(
            Q(request_reference=key) | Q(decision_reference=key)
        ).exists()
    )
    if used:
        raise RequestReferenceClash()


def resolve(
    problem: PackingProblem,
    resolution: str,
    actor: Actor,
    at: datetime | None = None,
) -> None:
    check(
        problem,
        PackingProblem.Status.RESOLVED,
        error=PackingProblemTransitionRefused,
        message=f"This problem is {problem.status}; nothing was changed.",
    )
    problem.status = PackingProblem.Status.RESOLVED
    problem.resolution = resolution
    problem.resolved_by = actor.name
    problem.resolved_at = at or timezone.now()
    problem.decision_reference = actor.request_reference
    problem.save()


def _destination(order: Order) -> tuple[float, float] | None:
    if order.delivery_latitude is None or order.delivery_longitude is None:
        return None
    return (float(order.delivery_latitude), float(order.delivery_longitude))
