"""Writes to pickup work, one module per job: the steps of a task (``flow``), the
units a picker could not take and the decisions about them (``problems``), the jobs
beat runs (``jobs``), how a task follows its order (``following``), pickup's cases
on the exception queue (``cases``) and a customer's change of pickup store
(``relocation``); ``shared`` holds the task's lock, its refusals and its timeline
entries.

Each service is one transaction by an ``actor``. A step of a task takes the task's
lock (its order's first) for a member of staff at the task's location; opening a
task (for whoever placed the order), following the order and changing its pickup
store (under the order's lock: ``following``, ``relocation``), a transfer's dispatch
and receipt and a put-away lock what they change, and the jobs (``system:pickup``)
lock the problems or orders they sweep. Stock moves only through ``orders.services``
and ``inventory.services``; every change of status is allowed by
``PickupTask.TRANSITIONS`` and recorded on the task's timeline with a stable action
key (``config.transitions``)."""

from .flow import (
    Scanned,
    pickup_line_pick,
    pickup_scan,
    pickup_task_claim,
    pickup_task_close,
    pickup_task_hand_over,
    pickup_task_mark_ready,
    pickup_task_open,
    pickup_task_release,
    pickup_task_start,
    return_to_stock_put_away,
)
from .following import (
    BY_ORDER_STATUS,
    pickup_documents_lock,
    pickup_task_follow_order,
)
from .jobs import pickup_problems_escalate, pickup_reminders_send, pickup_tasks_expire
from .problems import (
    Address,
    pickup_line_short,
    pickup_problem_cancel,
    pickup_problem_ship_later,
    pickup_problem_source_elsewhere,
    pickup_problem_substitute,
    pickup_transfer_dispatch,
    pickup_transfer_receive,
)
from .relocation import pickup_location_change
from .shared import FINAL, PickupTransitionRefused, TaskClaimedByAnother

__all__ = [
    "BY_ORDER_STATUS",
    "FINAL",
    "Address",
    "PickupTransitionRefused",
    "Scanned",
    "TaskClaimedByAnother",
    "pickup_documents_lock",
    "pickup_line_pick",
    "pickup_line_short",
    "pickup_location_change",
    "pickup_problem_cancel",
    "pickup_problem_ship_later",
    "pickup_problem_source_elsewhere",
    "pickup_problem_substitute",
    "pickup_problems_escalate",
    "pickup_reminders_send",
    "pickup_scan",
    "pickup_task_claim",
    "pickup_task_close",
    "pickup_task_follow_order",
    "pickup_task_hand_over",
    "pickup_task_mark_ready",
    "pickup_task_open",
    "pickup_task_release",
    "pickup_task_start",
    "pickup_tasks_expire",
    "pickup_transfer_dispatch",
    "pickup_transfer_receive",
    "return_to_stock_put_away",
]
