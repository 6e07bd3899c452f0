"""Blind cycle counts: generating them (nightly, or ad hoc by a manager), counting by
scan, comparing with the system's on-hand as of the count's moment, one recount
beyond tolerance, and a manager's approval, which posts a ``count`` through
``inventory.services``. A line's ``result`` (within or beyond tolerance) is what
Inventory Record Accuracy reads.

Why a count within tolerance posts at once: it is a physical fact and small enough to
trust; only a variance beyond tolerance waits for a person.
"""

import math
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from catalog.selectors import skus_by_code_or_barcode
from config.errors import Conflict, InvalidInput, NotFound, PermissionRefused
from inventory import access
from inventory.models import Location, StockBalance, StockMovement
from inventory.movements import SOLD
from inventory.selectors import on_hand_as_of
from inventory.services import StaffCount, counts_post

from .. import tolerance
from ..models import (
    CountLine,
    CountTask,
    CountTaskEvent,
    ExceptionCase,
    ExceptionKind,
)
from .exceptions import SYSTEM, Raised, exception_raise, exception_settle

MAX_LINES = 300
MAX_UNITS = 100_000
# How far back fast movers and recent exceptions are looked for.
LOOKBACK_DAYS = 30
# A SKU with an exception in the lookback weighs as much as this many units sold.
EXCEPTION_WEIGHT = 5

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
OPEN_TASKS = (*CountTask.COUNTING, CountTask.Status.AWAITING_APPROVAL)


class CountTransitionRefused(Conflict):
    code = "count_transition_refused"


# ------------------------------------------------------------ making count tasks


@transaction.atomic
def count_task_start(
    *, location: Location, sku_codes: list[str], note: str = "", staff
) -> CountTask:
    """An ad-hoc count a manager asks for: these SKUs (codes or barcodes), today."""
    if not access.sees_every_location(staff):
        raise PermissionRefused("Only a manager may start a count.")
    codes = list(dict.fromkeys(code.strip() for code in sku_codes if code.strip()))
    errors: dict[str, list[str]] = {}
    if not codes:
        errors["sku_codes"] = ["Name at least one SKU to count."]
    if len(codes) > MAX_LINES:
        errors["sku_codes"] = [f"At most {MAX_LINES} SKUs on one count."]
    skus = skus_by_code_or_barcode(codes=set(codes))
    unknown = [code for code in codes if code not in skus]
    if unknown:
        errors["sku_codes"] = [f"No SKU {', '.join(unknown[:5])}."]
    if len(note) > 300:
        errors["note"] = ["Keep the note under 300 characters."]
    busy = list(
        _on_open_counts(location)
        .filter(sku_id__in=[sku.pk for sku in skus.values()])
        .values_list("sku__code", "task_id")
    )
    if busy and not errors:
        errors["sku_codes"] = [
            "Already on an open count here: "
            + ", ".join(f"{code} (#{task})" for code, task in busy[:5])
            + "."
        ]
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    task = _create_task(
        location=location,
        origin=CountTask.Origin.AD_HOC,
        for_date=timezone.localdate(now),
        note=note.strip(),
        actor=access.actor_of(staff),
        now=now,
    )
    chosen = list(dict.fromkeys(skus[code].pk for code in codes))
    CountLine.objects.bulk_create(CountLine(task=task, sku_id=pk) for pk in chosen)
    return task


def count_tasks_generate(*, day: date | None = None) -> int:
    """Tonight's cycle counts, one per active location holding stock; run twice for
    the same day, the second run adds nothing. Returns how many were made."""
    now = timezone.now()
    day = day or timezone.localdate(now)
    made = 0
    for location in Location.objects.filter(is_active=True).order_by("pk"):
        chosen = nightly_sample(location=location, day=day)
        if not chosen:
            continue
        try:
            with transaction.atomic():
                task = _create_task(
                    location=location,
                    origin=CountTask.Origin.NIGHTLY,
                    for_date=day,
                    note="",
                    actor=SYSTEM,
                    now=now,
                )
                CountLine.objects.bulk_create(
                    CountLine(task=task, sku_id=pk) for pk in chosen
                )
        except IntegrityError:
            continue  # tonight's count for this location exists already
        made += 1
    return made


def nightly_sample(*, location: Location, day: date) -> list[int]:
    """The SKUs (ids) to count at ``location`` on ``day``: the rotation (the SKUs
    counted longest ago, enough of them that every SKU comes round within
    COUNT_CYCLE_DAYS) and a sample of the rest weighted towards fast movers and SKUs
    with recent exceptions. SKUs already on an open count are left out."""
    on_open_counts = _on_open_counts(location).values_list("sku_id", flat=True)
    held = list(
        StockBalance.objects.filter(location=location, sku__is_active=True)
        .exclude(sku_id__in=on_open_counts)
        .values_list("sku_id", "last_count_at")
    )
    if not held:
        return []
    total = StockBalance.objects.filter(location=location).count()
    rotation = math.ceil(total / max(settings.COUNT_CYCLE_DAYS, 1))
    never = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    held.sort(key=lambda row: (row[1] or never, row[0]))
    chosen = [sku_id for sku_id, _ in held[:rotation]]
    rest = [sku_id for sku_id, _ in held[rotation:]]
    weights = _weights(location, rest, day)
    # Weighted sampling without replacement (Efraimidis and Spirakis), seeded by the
    # location and day so a rerun of the same night picks the same SKUs.
    draw = random.Random(f"{location.pk}:{day.isoformat()}")
    keyed = sorted(rest, key=lambda pk: -(draw.random() ** (1 / weights[pk])))
    return chosen + keyed[: settings.COUNT_NIGHTLY_SAMPLE]


def _on_open_counts(location: Location):
    """Lines of counts still counting or waiting for a manager: a SKU on one is not
    put on another, or a later count would overtake an approval still to come."""
    return CountLine.objects.filter(
        task__location=location, task__status__in=OPEN_TASKS
    )


def _weights(location: Location, sku_ids: list[int], day: date) -> dict[int, float]:
    since = timezone.make_aware(
        datetime.combine(day - timedelta(days=LOOKBACK_DAYS), datetime.min.time())
    )
    sold = dict(
        StockMovement.objects.filter(
            location=location,
            type__in=SOLD,
            occurred_at__gte=since,
            sku_id__in=sku_ids,
        )
        .values_list("sku_id")
        .annotate(units=Sum("quantity"))
        .values_list("sku_id", "units")
    )
    troubled = dict(
        ExceptionCase.objects.filter(
            location=location, sku_id__in=sku_ids, last_raised_at__gte=since
        )
        .values_list("sku_id")
        .annotate(cases=Count("id"))
        .values_list("sku_id", "cases")
    )
    return {
        pk: 1.0 + max(sold.get(pk, 0), 0) + EXCEPTION_WEIGHT * troubled.get(pk, 0)
        for pk in sku_ids
    }


def _create_task(*, location, origin, for_date, note, actor, now) -> CountTask:
    task = CountTask.objects.create(
        location=location,
        origin=origin,
        for_date=for_date,
        tolerance_units=settings.COUNT_TOLERANCE_UNITS,
        tolerance_percent=Decimal(str(settings.COUNT_TOLERANCE_PERCENT)),
        note=note,
        created_by=actor,
        created_at=now,
    )
    CountTaskEvent.objects.create(
        task=task, to_status=task.status, actor=actor, at=now, note="Created."
    )
    return task


# ---------------------------------------------------------------- counting


@transaction.atomic
def count_line_scan(*, task_id: int, code: str, quantity: int = 1, staff) -> CountLine:
    """A barcode (or SKU code) scanned or typed: ``quantity`` more units of it."""
    task = _counting(task_id, staff)
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
    return _counted(line, (line.counted or 0) + quantity, staff)


@transaction.atomic
def count_line_set(*, task_id: int, line_id: int, quantity: int, staff) -> CountLine:
    """The units of one SKU typed outright (a miscount corrected, or none found)."""
    task = _counting(task_id, staff)
    _check_units(quantity, "quantity", allow_zero=True)
    line = task.lines.select_for_update(no_key=True).filter(pk=line_id).first()
    if line is None or line.status not in (Line.TO_COUNT, Line.TO_RECOUNT):
        raise InvalidInput({"line": ["That SKU is not waiting to be counted."]})
    return _counted(line, quantity, staff)


def _counted(line: CountLine, quantity: int, staff) -> CountLine:
    line.counted = quantity
    line.counted_at = timezone.now()
    line.counted_by = access.actor_of(staff)
    line.save(update_fields=["counted", "counted_at", "counted_by"])
    return line


@transaction.atomic
def count_task_submit(
    *, task_id: int, staff, shown_status: str | None = None
) -> CountTask:
    """The counter is done: anything not scanned counts as none. Each line is
    compared with the on-hand as of its own count; beyond tolerance on a first
    count, it goes back for a recount; beyond it again, to a manager.

    ``shown_status`` is the status the counter's screen showed: a second press of
    Finish (or one from a stale page) must not send an untouched recount as zeros."""
    task = _counting(task_id, staff)
    if shown_status is not None and shown_status != task.status:
        raise CountTransitionRefused(
            f"This count is already {task.get_status_display().lower()}: "
            "nothing was sent twice."
        )
    now = timezone.now()
    actor = access.actor_of(staff)
    waiting = list(
        task.lines.select_for_update(no_key=True)
        .filter(status__in=(Line.TO_COUNT, Line.TO_RECOUNT))
        .select_related("sku")
    )
    for line in waiting:
        if line.counted is None:
            line.counted, line.counted_at, line.counted_by = 0, now, actor
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
    _move(task, _status_after_counting(task), actor, now)
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
    *, task_id: int, line_id: int, approve: bool, note: str = "", staff
) -> CountLine:
    """A manager's word on a variance: approved posts the count as of when it was
    counted; rejected keeps the records (say why)."""
    if not access.sees_every_location(staff):
        raise PermissionRefused("Only a manager may approve a count variance.")
    task = _task(task_id, staff, lock=True)
    line = (
        task.lines.select_for_update(no_key=True)
        .select_related("sku")
        .filter(pk=line_id)
        .first()
    )
    if line is None:
        raise NotFound("No such line on this count.")
    target = Line.APPROVED if approve else Line.REJECTED
    if target not in CountLine.TRANSITIONS[line.status]:
        raise CountTransitionRefused(
            f"{line.sku.code} is {line.get_status_display().lower()}: nothing to decide."
        )
    note = note.strip()
    if not approve and not note:
        raise InvalidInput({"note": ["Say why the records are right."]})
    if len(note) > 300:
        raise InvalidInput({"note": ["Keep the note under 300 characters."]})
    actor = access.actor_of(staff)
    now = timezone.now()
    if approve:
        (line.posted,) = _post(task, [line], actor, "variance approved")
    line.status = target
    line.decided_by, line.decided_at, line.decision_note = actor, now, note
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
        _move(task, Task.DONE, actor, now)
    return line


@transaction.atomic
def count_task_cancel(*, task_id: int, note: str, staff) -> CountTask:
    if not access.sees_every_location(staff):
        raise PermissionRefused("Only a manager may cancel a count.")
    task = _task(task_id, staff, lock=True)
    if Task.CANCELLED not in CountTask.TRANSITIONS[task.status]:
        raise CountTransitionRefused(
            f"A count that is {task.get_status_display().lower()} cannot be cancelled."
        )
    _move(task, Task.CANCELLED, access.actor_of(staff), timezone.now(), note[:300])
    return task


def _post(task: CountTask, lines, actor: str, why: str) -> list[StockMovement]:
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


def _move(task: CountTask, target: str, actor: str, now, note: str = "") -> None:
    if target == task.status:
        task.save()
        return
    if target not in CountTask.TRANSITIONS[task.status]:
        raise CountTransitionRefused(
            f"A count that is {task.get_status_display().lower()} cannot become "
            f"{Task(target).label.lower()}."
        )
    CountTaskEvent.objects.create(
        task=task,
        from_status=task.status,
        to_status=target,
        actor=actor,
        note=note,
        at=now,
    )
    task.status = target
    if target in (Task.DONE, Task.CANCELLED):
        task.closed_at = now
    task.save()


def _task(task_id: int, staff, *, lock: bool = False) -> CountTask:
    tasks = CountTask.objects.select_related("location")
    if lock:
        tasks = tasks.select_for_update(no_key=True, of=("self",))
    task = tasks.filter(pk=task_id).first()
    if task is None:
        raise NotFound("No such count.")
    access.ensure_may_act_at(user=staff, location_id=task.location_id, what="count")
    return task


def _counting(task_id: int, staff) -> CountTask:
    task = _task(task_id, staff, lock=True)
    if task.status not in CountTask.COUNTING:
        raise CountTransitionRefused(
            f"This count is {task.get_status_display().lower()}: nothing to count."
        )
    return task


def _check_units(quantity, name: str, *, allow_zero: bool) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput({name: ["Enter a whole number."]})
    if quantity < (0 if allow_zero else 1) or quantity > MAX_UNITS:
        low = 0 if allow_zero else 1
        raise InvalidInput({name: [f"Enter a number from {low} to {MAX_UNITS}."]})
