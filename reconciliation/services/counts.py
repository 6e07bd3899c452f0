"""Blind cycle counts, counted: by scan, compared with the system's on-hand as of the
count's moment, one recount beyond tolerance, and a manager's approval, which posts
a ``count`` through ``inventory.services``. A line's ``result`` (within or beyond
tolerance) is what Inventory Record Accuracy reads. Making the counts is
``count_tasks``' (re-exported here with the rest of the counts' writes).

Why a count within tolerance posts at once: it is a physical fact and small enough to
trust; only a variance beyond tolerance waits for a person.

A count's status moves through ``config.transitions`` (its timeline is
``CountTaskEvent``). People's work takes ``actor: config.access.Actor``; who may act
where is asked of ``actor.user``.
"""

from django.db import transaction
from django.utils import timezone

from catalog.selectors import skus_by_code_or_barcode
from config import access, transitions
from config.access import Actor
from config.errors import InvalidInput, NotFound, PermissionRefused
from inventory.models import StockMovement
from inventory.selectors import on_hand_as_of
from inventory.services import StaffCount, counts_post

from .. import tolerance
from ..models import CountLine, CountTask, ExceptionKind
from .count_tasks import (
    count_task_start,
    count_tasks_generate,
    nightly_sample,
)
from .exceptions import Raised, exception_raise, exception_settle

__all__ = [
    "CountTransitionRefused",
    "count_line_decide",
    "count_line_scan",
    "count_line_set",
    "count_task_cancel",
    "count_task_start",
    "count_task_submit",
    "count_tasks_generate",
    "nightly_sample",
    "within_tolerance",
]

MAX_UNITS = 100_000


Line = CountLine.Status
Task = CountTask.Status
# What comparing a line may change, written for every line in one statement.
COMPARED_FIELDS = [
    "counted",
    "counted_at",
    "counted_by",
    "first_count",
    "first_system_on_hand",
    "system_on_hand",
    "status",
    "result",
    "result_at",
    "posted",
]


class CountTransitionRefused(transitions.TransitionRefused):
    code = "count_transition_refused"


# ---------------------------------------------------------------- counting


@transaction.atomic
def count_line_scan(
    *,
    task_id: int,
    code: str,
    quantity: int = 1,
    actor: Actor,
) -> CountLine:
    """A barcode (or SKU code) scanned or typed: ``quantity`` more units of it."""
    task = _counting(task_id, actor)
    code = code.strip()
    if not code:
        raise InvalidInput({"code": ["Scan or type a barcode."]})
    _check_units(quantity, "quantity", allow_zero=False)
    sku = skus_by_code_or_barcode(codes={code}).get(code)
    line = (
        task.lines.select_for_update(no_key=True).filter(sku=sku).first()
        if sku
        else None
    )
    if line is None or line.status not in (Line.TO_COUNT, Line.TO_RECOUNT):
        raise InvalidInput({"code": [f"{code} is not on this count."]})
    if (line.counted or 0) + quantity > MAX_UNITS:
        raise InvalidInput({"quantity": [f"At most {MAX_UNITS} units."]})
    return _counted(line, (line.counted or 0) + quantity, actor)


@transaction.atomic
def count_line_set(
    *,
    task_id: int,
    line_id: int,
    quantity: int,
    actor: Actor,
) -> CountLine:
    """The units of one SKU typed outright (a miscount corrected, or none found)."""
    task = _counting(task_id, actor)
    _check_units(quantity, "quantity", allow_zero=True)
    line = task.lines.select_for_update(no_key=True).filter(pk=line_id).first()
    if line is None or line.status not in (Line.TO_COUNT, Line.TO_RECOUNT):
        raise InvalidInput({"line": ["That SKU is not waiting to be counted."]})
    return _counted(line, quantity, actor)


def _counted(line: CountLine, quantity: int, actor: Actor) -> CountLine:
    line.counted = quantity
    line.counted_at = timezone.now()
    line.counted_by = actor.name
    line.save(update_fields=["counted", "counted_at", "counted_by"])
    return line


@transaction.atomic
def count_task_submit(
    *,
    task_id: int,
    actor: Actor,
    shown_status: str | None = None,
) -> CountTask:
    """The counter is done: anything not scanned counts as none. Each line is
    compared with the on-hand as of its own count; beyond tolerance on a first
    count, it goes back for a recount; beyond it again, to a manager.

    ``shown_status`` is the status the counter's screen showed: a second press of
    Finish (or one from a stale page) must not send an untouched recount as zeros."""
    task = _counting(task_id, actor)
    if shown_status is not None and shown_status != task.status:
        raise transitions.refusal(
            task,
            shown_status,
            error=CountTransitionRefused,
            message=f"This count is already {task.get_status_display().lower()}: "
            "nothing was sent twice.",
        )
    now = timezone.now()
    waiting = list(
        task.lines.select_for_update(no_key=True)
        .filter(status__in=(Line.TO_COUNT, Line.TO_RECOUNT))
        .select_related("sku")
    )
    for line in waiting:
        if line.counted is None:
            line.counted, line.counted_at, line.counted_by = 0, now, actor.name
    system = on_hand_as_of(
        location=task.location,
        moments={line.sku_id: line.counted_at for line in waiting},
    )
    accurate = [
        line for line in waiting if _compare(task, line, system[line.sku_id], now)
    ]
    for line, entry in zip(
        accurate, _post(task, accurate, actor, "within tolerance"), strict=True
    ):
        line.posted = entry
    CountLine.objects.bulk_update(waiting, COMPARED_FIELDS)
    task.submitted_at = now
    _move(task, _status_after_counting(task), actor, now, action="count_task_submit")
    return task


def _compare(task: CountTask, line: CountLine, system: int, now) -> bool:
    """Judge one line against the records (unsaved); True when it is accurate and
    its count is to be posted."""
    line.system_on_hand = system
    if within_tolerance(task=task, counted=line.counted, system=system):
        line.status, line.result, line.result_at = Line.ACCURATE, "within", now
        return True
    if line.status == Line.TO_COUNT:
        # Counted again blind: the first figure is kept, not shown.
        line.first_count, line.first_system_on_hand = line.counted, system
        line.status = Line.TO_RECOUNT
        line.counted = line.counted_at = None
        line.counted_by = ""
    else:
        line.status, line.result, line.result_at = (
            Line.AWAITING_APPROVAL,
            "beyond",
            now,
        )
        _raise_variance(task, line)
    return False


def within_tolerance(*, task: CountTask, counted: int, system: int) -> bool:
    return tolerance.within_tolerance(
        theirs=counted,
        ours=system,
        units=task.tolerance_units,
        percent=task.tolerance_percent,
    )


def _status_after_counting(task: CountTask) -> str:
    statuses = set(task.lines.values_list("status", flat=True))
    if Line.TO_RECOUNT in statuses:
        return Task.RECOUNT
    if Line.AWAITING_APPROVAL in statuses:
        return Task.AWAITING_APPROVAL
    return Task.DONE


def _raise_variance(task: CountTask, line: CountLine) -> None:
    variance = line.counted - line.system_on_hand
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.COUNT_VARIANCE,
            key=f"count_line:{line.pk}",
            title=f"{line.sku.code} at {task.location.code}: counted {line.counted}, "
            f"records {line.system_on_hand} ({variance:+d})",
            detail=f"Counted twice beyond tolerance (first {line.first_count}, then "
            f"{line.counted}). Approve to post the count, or reject to keep the "
            f"records.",
            sku=line.sku,
            location=task.location,
            link=f"/store/counts/{task.pk}/review/",
            facts={
                "count_task": task.pk,
                "counted": line.counted,
                "first_count": line.first_count,
                "system_on_hand": line.system_on_hand,
                "variance": variance,
            },
        )
    )


# ------------------------------------------------------------- the decision


@transaction.atomic
def count_line_decide(
    *,
    task_id: int,
    line_id: int,
    approve: bool,
    note: str = "",
    actor: Actor,
) -> CountLine:
    """A manager's word on a variance: approved posts the count as of when it was
    counted; rejected keeps the records (say why)."""
    if not access.sees_every_location(actor.person):
        raise PermissionRefused("Only a manager may approve a count variance.")
    task = _task(task_id, actor)
    line = (
        task.lines.select_for_update(no_key=True)
        .select_related("sku")
        .filter(pk=line_id)
        .first()
    )
    if line is None:
        raise NotFound("No such line on this count.")
    target = Line.APPROVED if approve else Line.REJECTED
    transitions.check(
        line,
        target,
        error=CountTransitionRefused,
        message=f"{line.sku.code} is {line.get_status_display().lower()}: "
        "nothing to decide.",
    )
    note = note.strip()
    if not approve and not note:
        raise InvalidInput({"note": ["Say why the records are right."]})
    if len(note) > 300:
        raise InvalidInput({"note": ["Keep the note under 300 characters."]})
    now = timezone.now()
    if approve:
        (line.posted,) = _post(task, [line], actor, "variance approved")
    line.status = target
    line.decided_by, line.decided_at, line.decision_note = actor.name, now, note
    line.save()
    verdict = "rejected: records kept"
    if approve:
        verdict = "approved: count posted"
        if line.posted.status != StockMovement.Status.APPLIED:
            verdict = "approved, but a later count already stands: nothing changed"
    exception_settle(
        key=f"count_line:{line.pk}", note=f"Variance {verdict}. {note}", actor=actor
    )
    if not task.lines.filter(status=Line.AWAITING_APPROVAL).exists():
        _move(task, Task.DONE, actor, now, action="count_line_decide")
    return line


@transaction.atomic
def count_task_cancel(*, task_id: int, note: str, actor: Actor) -> CountTask:
    if not access.sees_every_location(actor.person):
        raise PermissionRefused("Only a manager may cancel a count.")
    task = _task(task_id, actor)
    transitions.check(
        task,
        Task.CANCELLED,
        error=CountTransitionRefused,
        message=f"A count that is {task.get_status_display().lower()} cannot be "
        "cancelled.",
    )
    _move(
        task,
        Task.CANCELLED,
        actor,
        timezone.now(),
        action="count_task_cancel",
        note=note[:300],
    )
    return task


def _post(task: CountTask, lines, actor: Actor, why: str) -> list[StockMovement]:
    return counts_post(
        location=task.location,
        counts=[
            StaffCount(
                sku=line.sku,
                counted=line.counted,
                occurred_at=line.counted_at,
                reference=f"count/{task.pk}/{line.pk}",
            )
            for line in lines
        ],
        reason=f"{task.get_origin_display()} #{task.pk}, {why}",
        actor=actor,
    )


def _move(
    task: CountTask, target: str, actor: Actor, now, *, action: str, note: str = ""
) -> None:
    """The count's new status on its timeline; a recount asked for again keeps its
    status and saves what the caller changed."""
    if target == task.status:
        task.save()
        return
    refused = (
        f"A count that is {task.get_status_display().lower()} cannot become "
        f"{Task(target).label.lower()}."
    )
    if target in (Task.DONE, Task.CANCELLED):
        task.closed_at = now
    transitions.move(
        task,
        to=target,
        actor=actor,
        action=action,
        at=now,
        note=note,
        error=CountTransitionRefused,
        refused=refused,
        also=["submitted_at", "closed_at"],
    )


def _task(task_id: int, actor: Actor) -> CountTask:
    """The count, locked, if the member of staff works where it is counted."""
    task = transitions.lock(
        CountTask, task_id, related=("location",), missing="No such count."
    )
    access.ensure_may_act_at(
        user=actor.person, location_id=task.location_id, what="count"
    )
    return task


def _counting(task_id: int, actor: Actor) -> CountTask:
    task = _task(task_id, actor)
    if task.status not in CountTask.COUNTING:
        raise CountTransitionRefused(
            f"This count is {task.get_status_display().lower()}: nothing to count.",
            status=task.status,
            allowed=transitions.allowed_from(task),
        )
    return task


def _check_units(quantity, name: str, *, allow_zero: bool) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput({name: ["Enter a whole number."]})
    if quantity < (0 if allow_zero else 1) or quantity > MAX_UNITS:
        low = 0 if allow_zero else 1
        raise InvalidInput({name: [f"Enter a number from {low} to {MAX_UNITS}."]})
