"""Units a picker could not take (not on the shelf, or damaged) and what is decided
about them: another branch sends them (a transfer the task waits for), the customer
takes a substitute or declines it, they are delivered later on a follow-up order,
or they are cancelled and the customer told. Also the transfer's two ends, sent
from one store and received at the task's.

The stock fact is recorded when the units are reported (``orders``); the customer's
order waits for the decision, and the task follows the order after it."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from catalog.models import Sku
from config import access
from config.access import Actor
from config.errors import InvalidInput, NotFound
from config.transitions import check
from inventory.models import Location, TransferRequest
from inventory.services.transfers import (
    transfer_dispatch,
    transfer_receive,
    transfer_request,
)
from orders import services as orders
from orders.models import Method, Order, OrderLine

from ..models import PickupProblem, PickupTask
from ..notices import notice_customer
from .cases import raise_not_found, settle_undecided
from .following import follow
from .shared import (
    FINAL,
    Notice,
    PickupTransitionRefused,
    Status,
    at_store,
    claimer_only,
    decision,
    lock_task,
    noted,
    order_line,
    problem_refusal,
    task_refusal,
)


@dataclass(frozen=True)
class Address:
    """Where a later shipment goes."""

    address: str
    city: str
    postal_code: str
    country: str


@transaction.atomic
def pickup_line_short(
    *,
    task_id: int,
    line_id: int,
    actor: Actor,
    quantity: int,
    condition: str,
    note: str = "",
) -> PickupProblem:
    """The picker could not take ``quantity`` units: the stock fact is recorded now
    (``orders.order_report_short``) and the problem waits for a decision."""
    actor = at_store(actor)
    task = lock_task(task_id, actor)
    claimer_only(task, actor)
    if task.status != Status.PICKING:
        raise task_refusal(task, "reported short")
    if condition not in PickupProblem.Condition.values:
        raise InvalidInput({"condition": ["Say whether it is not found or damaged."]})
    line = order_line(task, line_id)
    orders.order_report_short(
        order_id=task.order_id,
        line_id=line.pk,
        quantity=quantity,
        condition=condition,
        actor=actor,
        note=note,
    )
    now = timezone.now()
    problem = PickupProblem.objects.create(
        task=task,
        line=line,
        quantity=quantity,
        condition=condition,
        note=note.strip()[:300],
        reported_by=actor.name,
        reported_at=now,
    )
    if condition == PickupProblem.Condition.NOT_FOUND:
        raise_not_found(problem, task, actor)
    label = PickupProblem.Condition(condition).label.lower()
    noted(
        task,
        actor=actor,
        action="pickup_short",
        note=f"{quantity} × {line.sku.code} {label}.",
        at=now,
    )
    return problem


@transaction.atomic
def pickup_problem_source_elsewhere(
    *, problem_id: int, actor: Actor, from_location: Location
) -> PickupProblem:
    """Ask another branch for the units: committed there now, on their way once it
    dispatches them; the task waits for them."""
    actor = at_store(actor)
    problem, task = _problem(problem_id, actor)
    problem.transfer = transfer_request(
        sku=problem.line.sku,
        quantity=problem.quantity,
        from_location=from_location,
        to_location=task.location,
        channel=task.order.channel,
        reason=f"Pickup order {task.order.reference}: "
        f"{problem.get_condition_display().lower()} at {task.location.code}",
        actor=actor,
    )
    _decide(
        problem,
        PickupProblem.Resolution.SOURCE_ELSEWHERE,
        actor,
        PickupProblem.Status.WAITING,
    )
    follow(task, actor)
    return problem


@transaction.atomic
def pickup_problem_substitute(
    *, problem_id: int, actor: Actor, substitute: Sku, customer_answer: str
) -> PickupProblem:
    """The customer was offered ``substitute``: accepted, it is added to the order
    from this store's shelf; declined, the units are cancelled."""
    actor = at_store(actor)
    problem, task = _problem(problem_id, actor)
    if customer_answer not in PickupProblem.Answer.values:
        raise InvalidInput({"customer_answer": ["Record the customer's answer."]})
    if substitute.pk == problem.line.sku_id:
        raise InvalidInput({"substitute": ["Choose another SKU than the one missing."]})
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
            actor=actor,
            reason=f"Substitute for {sku.code}, accepted by the customer.",
        )
    problem.substitute_sku = substitute
    problem.customer_answer = customer_answer
    _decide(problem, PickupProblem.Resolution.SUBSTITUTE, actor)
    verb = "replaced by" if accepted else "declined substitute"
    _cancel_short(
        problem,
        task,
        actor,
        reason=f"{sku.code} {verb} {substitute.code}",
        served_by="substitute" if accepted else "",
    )
    follow(task, actor)
    notice_customer(
        task=task,
        kind=Notice.SUBSTITUTE if accepted else Notice.UNITS_CANCELLED,
        context=_problem_context(problem, task, substitute=substitute),
    )
    return problem


@transaction.atomic
def pickup_problem_ship_later(
    *, problem_id: int, actor: Actor, address: Address
) -> PickupProblem:
    """The units are delivered to the customer instead, on a follow-up order routed
    to the location that can ship them; refused if none can."""
    actor = at_store(actor)
    problem, task = _problem(problem_id, actor)
    # Each message names its field: a screen shows them together, too.
    missing = {
        name: [f"Enter the {words} to deliver to."]
        for name, words, value in (
            ("address", "address", address.address),
            ("city", "city", address.city),
            ("postal_code", "postcode", address.postal_code),
            ("country", "country code", address.country),
        )
        if not value.strip()
    }
    if missing:
        raise InvalidInput(missing)
    order = task.order
    follow_up, _ = orders.order_place(
        channel=order.channel,
        reference=f"{order.reference}-D{problem.pk}",
        method=Method.SHIP,
        customer=orders.Customer(
            name=order.customer_name,
            email=order.customer_email,
            phone=order.customer_phone,
        ),
        actor=actor,
        lines=[orders.OrderLineInput(sku=problem.line.sku, quantity=problem.quantity)],
        delivery=orders.Delivery(
            address=address.address.strip(),
            city=address.city.strip(),
            postal_code=address.postal_code.strip(),
            country=address.country.strip().upper()[:2],
        ),
    )
    problem.follow_up_order = follow_up
    _decide(problem, PickupProblem.Resolution.SHIP_LATER, actor)
    _cancel_short(
        problem,
        task,
        actor,
        reason=f"Delivered later on order {follow_up.reference}.",
        served_by="later_delivery",
    )
    follow(task, actor)
    notice_customer(
        task=task,
        kind=Notice.SHIP_LATER,
        context=_problem_context(problem, task, follow_up=follow_up),
    )
    return problem


@transaction.atomic
def pickup_problem_cancel(*, problem_id: int, actor: Actor) -> PickupProblem:
    """Cancel the units at once and tell the customer before they travel."""
    actor = at_store(actor)
    problem, task = _problem(problem_id, actor)
    _decide(problem, PickupProblem.Resolution.CANCEL, actor)
    _cancel_short(
        problem,
        task,
        actor,
        reason=f"{problem.get_condition_display()} at {task.location.code}; "
        "customer told.",
    )
    follow(task, actor)
    notice_customer(
        task=task,
        kind=Notice.UNITS_CANCELLED,
        context=_problem_context(problem, task),
    )
    return problem


@transaction.atomic
def pickup_transfer_dispatch(*, transfer_id: int, actor: Actor) -> TransferRequest:
    """The sending branch's staff confirm the units left."""
    actor = at_store(actor)
    transfer = _transfer(transfer_id)
    access.ensure_may_act_at(
        user=actor.person,
        location_id=transfer.from_location_id,
        what=f"transfer {transfer_id}",
    )
    return transfer_dispatch(transfer_id=transfer_id, actor=actor)


@transaction.atomic
def pickup_transfer_receive(*, transfer_id: int, actor: Actor) -> TransferRequest:
    """The units arrived at this store. They are on hand whatever became of the
    order (a physical fact); if the order still waits for them they are committed to
    it again and the task goes back to picking. The same confirmation twice changes
    nothing."""
    actor = at_store(actor)
    transfer = _transfer(transfer_id)
    access.ensure_may_act_at(
        user=actor.person,
        location_id=transfer.to_location_id,
        what=f"transfer {transfer_id}",
    )
    waiting = PickupProblem.objects.filter(transfer_id=transfer_id).first()
    task = lock_task(waiting.task_id, actor) if waiting is not None else None
    # The documents first (the order and its task, then the problem), the transfer
    # and its stock after them: the lock order, inventory.locking.
    problem = (
        PickupProblem.objects.select_for_update(no_key=True).get(pk=waiting.pk)
        if task is not None
        else None
    )
    transfer = transfer_receive(transfer_id=transfer_id, actor=actor)
    if problem is None:
        return transfer
    if problem.status != PickupProblem.Status.WAITING:
        return transfer
    line = OrderLine.objects.get(pk=problem.line_id)
    # The channel may have cancelled some of those units meanwhile.
    still_short = min(problem.quantity, line.short_quantity)
    if still_short:
        orders.order_refill_short(
            order_id=task.order_id,
            line_id=line.pk,
            quantity=still_short,
            actor=actor,
            reason=f"Transfer {transfer.pk} from {transfer.from_location.code} "
            "received.",
        )
    # Units on their way since the customer changed store were never missing: they
    # arrived, and nothing was decided about them.
    arrived = problem.condition == PickupProblem.Condition.ON_THE_WAY
    _decide(
        problem,
        problem.resolution,
        actor,
        action="pickup_transfer_arrived" if arrived else "pickup_decide",
    )
    follow(task, actor)
    return transfer


def _problem(problem_id: int, actor: Actor) -> tuple[PickupProblem, PickupTask]:
    task_id = (
        PickupProblem.objects.filter(pk=problem_id)
        .values_list("task_id", flat=True)
        .first()
    )
    if task_id is None:
        raise NotFound(f"No problem {problem_id}.")
    task = lock_task(task_id, actor)
    problem = (
        PickupProblem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("line__sku")
        .get(pk=problem_id)
    )
    if task.status in FINAL:
        raise task_refusal(task, "changed", hint="Nothing is left to decide.")
    if problem.status != PickupProblem.Status.OPEN:
        raise problem_refusal(
            problem, "This problem is decided already; nothing was changed."
        )
    return problem, task


def _decide(
    problem: PickupProblem,
    resolution: str,
    actor: Actor,
    status: str = PickupProblem.Status.RESOLVED,
    action: str = "pickup_decide",
) -> None:
    check(
        problem,
        status,
        error=PickupTransitionRefused,
        message=f"This problem is {problem.status}; nothing was changed.",
    )
    now = timezone.now()
    problem.resolution = resolution
    problem.status = status
    problem.resolved_by = actor.name
    problem.resolved_at = now
    problem.save()
    settle_undecided(problem, actor)
    noted(
        problem.task,
        actor=actor,
        action=action,
        note=f"{problem.quantity} × {problem.line.sku.code}: {decision(problem)}.",
        at=now,
    )


def _cancel_short(
    problem: PickupProblem,
    task: PickupTask,
    actor: Actor,
    reason: str,
    served_by: str = "",
) -> None:
    orders.order_cancel_short(
        order_id=task.order_id,
        line_id=problem.line_id,
        quantity=problem.quantity,
        actor=actor,
        reason=reason,
        served_by=served_by,
    )


def _transfer(transfer_id: int) -> TransferRequest:
    transfer = TransferRequest.objects.filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id}.")
    return transfer


def _problem_context(problem: PickupProblem, task: PickupTask, **extra) -> dict:
    cancelled = Order.objects.filter(
        pk=task.order_id, status=Order.Status.CANCELLED
    ).exists()
    return {
        "quantity": problem.quantity,
        "sku": problem.line.sku,
        "order_cancelled": cancelled,
        **extra,
    }
