"""What becomes of units a packer could not find or found damaged when no other
location could take them (``packing``): a person decides, as a picker's problem is
decided (``pickup.services.problems``). Ship later (a follow-up order to the same
address, routed), a substitute (the customer's answer: accepted, a line of it
added; declined, the units cancelled), or cancel.

Each is one transaction: the order locked first, then the problem; the units are
moved by the order services. A member of staff decides only at the location the
units were short at (a 404 elsewhere); the decision's ``request_reference`` is kept
on the problem: the same key again answers with the problem as decided."""

from dataclasses import replace

from django.db import transaction

from catalog.models import Sku
from config.access import Actor
from config.errors import InvalidInput, NotFound
from config.transitions import lock, refusal
from inventory.errors import InsufficientStock
from inventory.models import Location

from ..models import Method, Order, PackingProblem
from .inputs import Customer, Delivery, OrderLineInput, RequestReferenceClash
from .lines import (
    kept_for_walk_ins,
    order_add_line,
    order_cancel_short,
)
from .packing import (
    PackingProblemTransitionRefused,
    key_unused,
    may_act_at,
    one_location,
    resolve,
    route_units,
)
from .placing import order_place
from .timeline import order_locked_for_change

Resolution = PackingProblem.Resolution
Answer = PackingProblem.Answer


def packing_problem_ship_later(*, problem_id: int, actor: Actor) -> PackingProblem:
    """The units go to the customer later, on a follow-up order to the same address,
    routed over the whole network (any location that ships, the one that was short
    included: it may have found more since); refused (409 ``insufficient_stock``) if
    none can fill them."""
    with transaction.atomic():
        order, problem, replayed = _problem(problem_id, actor, Resolution.SHIP_LATER)
        if replayed:
            return problem
        inner = replace(actor, request_reference="")
        sku = problem.line.sku
        try:
            follow_up, _ = order_place(
                channel=order.channel,
                reference=f"{order.reference[:90]}-L{problem.pk}",
                method=Method.SHIP,
                customer=Customer(
                    name=order.customer_name,
                    email=order.customer_email,
                    phone=order.customer_phone,
                ),
                actor=inner,
                lines=[OrderLineInput(sku=sku, quantity=problem.still_short)],
                delivery=Delivery(
                    address=order.delivery_address,
                    city=order.delivery_city,
                    postal_code=order.delivery_postal_code,
                    country=order.delivery_country,
                    latitude=_float(order.delivery_latitude),
                    longitude=_float(order.delivery_longitude),
                ),
            )
        except InsufficientStock as short:
            raise InsufficientStock(
                f"No location can ship {problem.still_short} × {sku.code} to the "
                "customer now: offer a substitute or cancel them; nothing was "
                "changed.",
                shortages=short.extra.get("shortages", []),
            ) from None
        problem.follow_up_order = follow_up
        resolve(problem, Resolution.SHIP_LATER, actor)
        order_cancel_short(
            order_id=order.pk,
            line_id=problem.line_id,
            quantity=problem.still_short,
            actor=inner,
            reason=f"Shipped later on order {follow_up.reference}.",
            served_by="later_delivery",
        )
    return problem


def packing_problem_substitute(
    *,
    problem_id: int,
    actor: Actor,
    substitute: Sku,
    customer_answer: str,
    location: Location | None = None,
) -> PackingProblem:
    """The customer was offered ``substitute``. Accepted: a line of it is added
    (committed) at ``location``, or, when none is named, at the location routing
    chooses as it would for the order (one that can send them all), and the missing
    units are cancelled as served; declined: they are cancelled."""
    if customer_answer not in Answer.values:
        raise InvalidInput(
            {"customer_answer": ["Record the customer's answer: accepted or declined."]}
        )
    with transaction.atomic():
        order, problem, replayed = _problem(
            problem_id,
            actor,
            Resolution.SUBSTITUTE,
            same=lambda p: (
                (p.substitute_sku_id, p.customer_answer)
                == (substitute.pk, customer_answer)
            ),
        )
        if replayed:
            return problem
        missing = problem.line.sku
        if substitute.pk == missing.pk:
            raise InvalidInput(
                {"substitute": ["Choose another item than the one missing."]}
            )
        if substitute.is_kit:
            raise InvalidInput(
                {"substitute": ["A kit cannot stand in for an item: choose an item."]}
            )
        inner = replace(actor, request_reference="")
        accepted = customer_answer == Answer.ACCEPTED
        # The substitute is added before the missing units go, so the order is never
        # left with nothing on it (which would cancel it).
        if accepted:
            source, why = _substitute_source(order, problem, substitute, location)
            order_add_line(
                order_id=order.pk,
                sku=substitute,
                location=source,
                walk_in_buffer=kept_for_walk_ins(source),
                quantity=problem.still_short,
                actor=inner,
                reason=f"Substitute for {missing.code}, accepted by the customer. "
                + why,
            )
        problem.substitute_sku = substitute
        problem.customer_answer = customer_answer
        resolve(problem, Resolution.SUBSTITUTE, actor)
        verb = "replaced by" if accepted else "declined substitute"
        order_cancel_short(
            order_id=order.pk,
            line_id=problem.line_id,
            quantity=problem.still_short,
            actor=inner,
            reason=f"{missing.code} {verb} {substitute.code}.",
            served_by="substitute" if accepted else "",
        )
    return problem


def packing_problem_cancel(*, problem_id: int, actor: Actor) -> PackingProblem:
    """The units are cancelled; the order's timeline says so for whoever tells the
    customer (the channel, customer service). A kit's part cancelled with nothing in
    its place cancels its kit whole, as ``order_cancel_short`` does."""
    with transaction.atomic():
        order, problem, replayed = _problem(problem_id, actor, Resolution.CANCEL)
        if replayed:
            return problem
        resolve(problem, Resolution.CANCEL, actor)
        order_cancel_short(
            order_id=order.pk,
            line_id=problem.line_id,
            quantity=problem.still_short,
            actor=replace(actor, request_reference=""),
            reason=f"{problem.get_condition_display()} at {problem.location.code} "
            "when packing; customer to be told.",
        )
    return problem


def _substitute_source(
    order: Order, problem: PackingProblem, substitute: Sku, named: Location | None
) -> tuple[Location, str]:
    """Where the accepted substitute comes from, and why, in words."""
    if named is not None:
        return named, f"From {named.code}, as chosen."
    decision = route_units(order, substitute, problem.still_short)
    chosen = one_location(decision)
    if chosen is None:
        raise InsufficientStock(
            f"No location can send {problem.still_short} × {substitute.code} alone: "
            "choose another item, or name the location; nothing was changed.",
            shortages=decision.shortages,
        )
    return chosen, decision.reason


def _problem(
    problem_id: int, actor: Actor, resolution: str, same=lambda problem: True
) -> tuple[Order, PackingProblem, bool]:
    """The order locked, then the problem, for a decision; True when this is the
    same decision sent again under its key (nothing to do)."""
    missing = f"No packing problem {problem_id}."
    order_id = (
        PackingProblem.objects.filter(pk=problem_id)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        raise NotFound(missing)
    order = order_locked_for_change(order_id)
    problem = lock(
        PackingProblem,
        problem_id,
        related=("line__sku", "line__kit_line__sku", "location"),
        missing=missing,
    )
    may_act_at(actor, problem.location_id, order)
    key = actor.request_reference
    if key and problem.decision_reference == key:
        if problem.resolution != resolution or not same(problem):
            raise RequestReferenceClash()
        return order, problem, True
    if problem.status != PackingProblem.Status.OPEN:
        raise refusal(
            problem,
            PackingProblem.Status.RESOLVED,
            error=PackingProblemTransitionRefused,
            message="These units are decided already "
            f"({problem.get_resolution_display().lower()}); nothing was changed.",
        )
    if key:
        key_unused(order, key)
    # The channel may have cancelled some of them meanwhile (a cancel takes short
    # units before picked ones): what is left is decided.
    short_now = problem.line.short_quantity
    problem.still_short = min(problem.quantity, short_now)
    if not problem.still_short:
        raise refusal(
            problem,
            PackingProblem.Status.RESOLVED,
            error=PackingProblemTransitionRefused,
            message=f"Order {order.reference!r} no longer waits for these units "
            f"(it is {order.status}); nothing was changed.",
        )
    return order, problem, False


def decision_words(problem: PackingProblem) -> str:
    """The decision on a problem, in the words the screens show."""
    if problem.status == PackingProblem.Status.OPEN:
        return "waiting for a decision"
    if problem.resolution == Resolution.REROUTED:
        return f"re-routed to {problem.rerouted_line.location.code}"
    if problem.resolution == Resolution.SUBSTITUTE:
        answer = problem.get_customer_answer_display().lower()
        return f"substitute {problem.substitute_sku.code} offered, {answer}"
    if problem.resolution == Resolution.SHIP_LATER:
        return f"shipped later on order {problem.follow_up_order.reference}"
    return "cancelled"


def _float(value) -> float | None:
    return None if value is None else float(value)
