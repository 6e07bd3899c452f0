"""Pickup's jobs, run by beat (``pickup.tasks``), each as ``system:pickup``: the
customer reminded once before their order expires, an order nobody collected
expired (cancelled, its units to be put back on the shelf, the customer told), and
a problem nobody decided on sent to the manager. Each is idempotent: run twice, the
second run changes nothing."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from config.transitions import move
from orders import services as orders

from ..models import PickupProblem, PickupTask
from ..notices import notice_customer
from .cases import raise_expired, raise_undecided
from .shared import (
    STEP_ACTIONS,
    SYSTEM,
    Notice,
    PickupTransitionRefused,
    Status,
    at_store,
    lock_task,
    noted,
    refused_words,
)

log = logging.getLogger(__name__)


def pickup_reminders_send(*, now: datetime | None = None) -> int:
    """Remind each customer once, a while before their order expires."""
    now = now or timezone.now()
    before = timedelta(hours=settings.PICKUP_REMINDER_HOURS_BEFORE_EXPIRY)
    sent = 0
    for task_id in _ready_expiring(before=now + before, after=now, reminded=False):
        with transaction.atomic():
            task = lock_task(task_id)
            if task.status != Status.READY or task.reminded_at is not None:
                continue
            task.reminded_at = now
            task.save(update_fields=["reminded_at", "updated_at"])
            noted(
                task,
                actor=SYSTEM,
                action="pickup_remind",
                note="Reminder sent.",
                at=now,
            )
            notice_customer(task=task, kind=Notice.REMINDER)
            sent += 1
    return sent


def pickup_tasks_expire(*, now: datetime | None = None) -> int:
    """Orders not collected in time: cancelled, their units to be put back on the
    shelf by staff (a return-to-stock task), the customer told. One task that cannot
    be expired is logged and skipped; the others still are."""
    now = now or timezone.now()
    expired = 0
    for task_id in _ready_expiring(before=now):
        try:
            with transaction.atomic():
                task = lock_task(task_id)
                if task.status != Status.READY or task.expires_at > now:
                    continue
                days = task.location.pickup_hold_days
                # Expired first: the order's cancellation then finds the task final.
                move(
                    task,
                    to=Status.EXPIRED,
                    actor=SYSTEM,
                    action=STEP_ACTIONS[Status.EXPIRED],
                    at=now,
                    note=f"Not collected in {days} days.",
                    error=PickupTransitionRefused,
                    refused=refused_words(task, Status.EXPIRED.label.lower()),
                )
                orders.order_cancel(
                    order_id=task.order_id,
                    lines=None,
                    reason=f"Not collected within {days} days.",
                    actor=at_store(SYSTEM),
                )
                notice_customer(task=task, kind=Notice.EXPIRED)
                raise_expired(task, days)
                expired += 1
        except DomainError as refused:
            log.error("Pickup task %s not expired: %s", task_id, refused.message)
    return expired


def pickup_problems_escalate(*, now: datetime | None = None) -> int:
    """Problems nobody decided on in time go to the manager's queue, once."""
    now = now or timezone.now()
    minutes = settings.PICKUP_PROBLEM_ESCALATE_MINUTES
    late = now - timedelta(minutes=minutes)
    with transaction.atomic():
        ids = list(
            PickupProblem.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(
                status=PickupProblem.Status.OPEN,
                escalated_at__isnull=True,
                reported_at__lte=late,
            )
            .values_list("pk", flat=True)
        )
        PickupProblem.objects.filter(pk__in=ids).update(escalated_at=now)
        for problem in PickupProblem.objects.filter(pk__in=ids).select_related(
            "line__sku", "task"
        ):
            noted(
                problem.task,
                actor=SYSTEM,
                action="pickup_escalate",
                note=f"{problem.quantity} × {problem.line.sku.code} undecided for "
                f"{minutes} min: sent to the manager.",
                at=now,
            )
            raise_undecided(problem)
    return len(ids)


def _ready_expiring(
    *, before: datetime, after: datetime | None = None, reminded: bool | None = None
) -> list[int]:
    tasks = PickupTask.objects.filter(status=Status.READY, expires_at__lte=before)
    if after is not None:
        tasks = tasks.filter(expires_at__gt=after)
    if reminded is False:
        tasks = tasks.filter(reminded_at__isnull=True)
    return list(tasks.order_by("expires_at").values_list("pk", flat=True))
