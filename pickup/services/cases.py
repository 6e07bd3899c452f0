"""Pickup's cases on the exception queue (``reconciliation``): raised when units
were not on the shelf the records said they were, when a problem waits too long for
a decision, when an order expires uncollected, and when a task cannot follow its
order; settled here when their cause goes away (the problem decided, the units put
back on the shelf)."""

from django.conf import settings

from config.access import Actor
from config.words import units
from reconciliation.models import ExceptionKind
from reconciliation.services import Raised, exception_raise, exception_settle

from ..models import PickupProblem, PickupTask
from .shared import SYSTEM, decision


# The keys of pickup's cases: one case per cause, found again by the same key to
# settle it, and by the order's story (support) to show it.
def not_found_key(problem_id: int) -> str:
    return f"pickup_problem:{problem_id}"


def undecided_key(problem_id: int) -> str:
    return f"pickup_undecided:{problem_id}"


def out_of_step_key(task_id: int) -> str:
    return f"pickup_out_of_step:task:{task_id}"


def expired_key(order_id: int) -> str:
    return f"pickup_expired:order:{order_id}"


def raise_not_found(problem: PickupProblem, task: PickupTask, actor: Actor) -> None:
    """The records said the units were on the shelf: someone should find out why."""
    sku = problem.line.sku
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.ITEM_NOT_FOUND,
            key=not_found_key(problem.pk),
            title=f"{sku.code} at {task.location.code}: {units(problem.quantity)} "
            f"not found for order {task.order.reference}",
            detail=f"Reported by {problem.reported_by}. {problem.note}".strip()
            + " The units were taken off on-hand; look for them, or recount.",
            sku=sku,
            location=task.location,
            link=f"/store/tasks/{task.pk}/",
            facts={"order": task.order.reference, "quantity": problem.quantity},
        ),
        actor=actor,
    )


def raise_undecided(problem: PickupProblem) -> None:
    task = problem.task
    minutes = settings.PICKUP_PROBLEM_ESCALATE_MINUTES
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.PICKUP_UNDECIDED,
            key=undecided_key(problem.pk),
            title=f"Order {task.order.reference}: {problem.quantity} × "
            f"{problem.line.sku.code} {problem.get_condition_display().lower()}, "
            f"undecided for {minutes} min",
            detail="The customer's order waits for a decision: source elsewhere, "
            "substitute, ship later or cancel these units.",
            sku=problem.line.sku,
            location=task.location,
            link=f"/store/tasks/{task.pk}/",
            facts={"order": task.order.reference},
        ),
        actor=SYSTEM,
    )


def settle_undecided(problem: PickupProblem, actor: Actor) -> None:
    exception_settle(
        key=undecided_key(problem.pk),
        note=f"Decided on the pickup task: {decision(problem)}.",
        actor=actor,
    )


def raise_expired(task: PickupTask, days: int) -> None:
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.PICKUP_EXPIRED,
            key=expired_key(task.order_id),
            title=f"Order {task.order.reference} not collected in {days} days",
            detail="Cancelled and the customer told. Put its units back on the "
            "shelf from the pickup-hold area; the case settles when they are.",
            location=task.location,
            link="/store/",
            facts={"order": task.order.reference, "hold_slot": task.hold_slot},
        ),
        actor=SYSTEM,
    )


def settle_expired(order_id: int, actor: Actor) -> None:
    exception_settle(
        key=expired_key(order_id),
        note="Every unit put back on the shelf.",
        actor=actor,
    )


def raise_out_of_step(task: PickupTask, order_status: str, why: str) -> None:
    """The order moved where its task cannot follow (a status pickup has no answer
    for, or a step the task's own table does not allow): the order's change stands,
    and a person puts the task right, as soon as an undecided problem is."""
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.PICKUP_OUT_OF_STEP,
            key=out_of_step_key(task.pk),
            title=f"Order {task.order.reference} is {order_status}: its pickup task "
            f"({task.status}) cannot follow",
            detail=f"{why} The order's change stands and the task was left as it "
            "is: look at both, and look after the customer.",
            location=task.location,
            link=f"/store/tasks/{task.pk}/",
            facts={
                "order": task.order.reference,
                "order_status": order_status,
                "task_status": task.status,
            },
        ),
        actor=SYSTEM,
    )
