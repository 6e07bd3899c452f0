"""What every pickup service stands on: the task locked (its order first) for a
member of staff who works at its location, the refusals a task and a problem give,
one entry on the task's timeline, the stable action key of each step, and the
acting person or job as an ``Actor`` made at the store."""

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from config import access
from config.access import Actor
from config.errors import Conflict, InvalidInput, NotFound
from config.transitions import TransitionRefused, lock, record_event, refusal
from orders.models import Order, OrderLine

from ..models import PickupNotice, PickupProblem, PickupTask

Status = PickupTask.Status
Notice = PickupNotice.Kind
SYSTEM = Actor.system("pickup")
FINAL = frozenset({Status.CLOSED, Status.CANCELLED, Status.EXPIRED})

# The stable key recorded for each step a task takes, whoever takes it (a picker
# on the screen or the order moved on elsewhere).
STEP_ACTIONS = {
    Status.NEW: "pickup_open",
    Status.CLAIMED: "pickup_claim",
    Status.PICKING: "pickup_start",
    Status.ON_HOLD: "pickup_hold",
    Status.PICKED: "pickup_picked",
    Status.READY: "pickup_ready",
    Status.COLLECTED: "pickup_collect",
    Status.CLOSED: "pickup_close",
    Status.CANCELLED: "pickup_cancel",
    Status.EXPIRED: "pickup_expire",
}


class PickupTransitionRefused(TransitionRefused):
    code = "pickup_transition_refused"


class TaskClaimedByAnother(Conflict):
    code = "task_claimed_by_another"


def at_store(actor: Actor) -> Actor:
    """Pickup's work is done at the store: its steps, and what it asks of orders,
    come from there, as the order's timeline has always said."""
    return replace(actor, source="store")


def lock_task(task_id: int, actor: Actor | None = None) -> PickupTask:
    """Lock the task's order, then the task: every order service locks the order
    first too, so the two never wait on each other in opposite order. With
    ``actor``, the member of staff must work at the task's location (a 404
    otherwise)."""
    row = (
        PickupTask.objects.filter(pk=task_id).values("order_id", "location_id").first()
    )
    if actor is not None:
        access.ensure_may_act_at(
            user=actor.person,
            location_id=row["location_id"] if row else 0,
            what=f"pickup task {task_id}",
        )
    if row is None:
        raise NotFound(f"No pickup task {task_id}.")
    list(
        Order.objects.select_for_update(no_key=True)
        .filter(pk=row["order_id"])
        .values_list("pk")
    )
    # The picker is read after the lock, never joined into the locking query: a
    # claim waiting on a twin's lock would see the new claimed_by_id with the old
    # (empty) joined row.
    return lock(
        PickupTask,
        task_id,
        related=("order__channel", "location"),
        missing=f"No pickup task {task_id}.",
    )


def task_refusal(
    task: PickupTask, doing: str, hint: str = ""
) -> PickupTransitionRefused:
    return refusal(
        task,
        doing,
        error=PickupTransitionRefused,
        message=refused_words(task, doing, hint),
    )


def refused_words(task: PickupTask, doing: str, hint: str = "") -> str:
    label = PickupTask.Status(task.status).label.lower()
    return (
        f"This order is {label}: it cannot be {doing} now; nothing was changed. "
        f"{hint}".strip()
    )


def problem_refusal(problem: PickupProblem, message: str) -> PickupTransitionRefused:
    return refusal(
        problem,
        PickupProblem.Status.RESOLVED,
        error=PickupTransitionRefused,
        message=message,
    )


def taken(task: PickupTask, template: str) -> TaskClaimedByAnother:
    """Someone else has the task: say who, and since when in the store's time."""
    picker = task.claimed_by
    zone = ZoneInfo(task.location.time_zone or "UTC")
    return TaskClaimedByAnother(
        template.format(
            who=picker.get_full_name() or picker.get_username(),
            at=f"{timezone.localtime(task.claimed_at, zone):%H:%M}",
        ),
        claimed_by=picker.get_username(),
    )


def claimer_only(task: PickupTask, actor: Actor) -> None:
    if task.claimed_by_id is None:
        raise task_refusal(task, "picked", hint="Claim it first.")
    if task.claimed_by_id != actor.person.pk:
        raise taken(task, "{who} is picking this order.")


def order_line(task: PickupTask, line_id: int) -> OrderLine:
    line = (
        OrderLine.objects.select_related("sku")
        .filter(pk=line_id, order=task.order_id)
        .first()
    )
    if line is None:
        raise InvalidInput({"line": [f"No line {line_id} on this order."]})
    return line


def noted(
    task: PickupTask, *, actor: Actor, action: str, note: str, at: datetime
) -> None:
    """A step on the task's timeline that changes no status."""
    record_event(task, actor=actor, action=action, at=at, note=note)


def decision(problem: PickupProblem) -> str:
    """The decision on a problem, in the words the timeline shows."""
    if problem.status == PickupProblem.Status.WAITING:
        sender = problem.transfer.from_location.name
        if problem.condition == PickupProblem.Condition.ON_THE_WAY:
            return f"on their way from {sender}, the store the customer left"
        return f"transfer asked from {sender}"
    if problem.resolution == PickupProblem.Resolution.SOURCE_ELSEWHERE:
        return f"transfer from {problem.transfer.from_location.name} received"
    if problem.resolution == PickupProblem.Resolution.SUBSTITUTE:
        answer = problem.get_customer_answer_display().lower()
        return f"substitute {problem.substitute_sku.code} offered, {answer}"
    if problem.resolution == PickupProblem.Resolution.SHIP_LATER:
        return f"delivered later on order {problem.follow_up_order.reference}"
    return "cancelled, customer told"
