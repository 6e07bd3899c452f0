"""Making blind cycle counts: tonight's, one per location (the rotation that brings
every SKU round within ``COUNT_CYCLE_DAYS`` and a sample weighted towards fast
movers and recent exceptions), or a manager's ad-hoc count of named SKUs. Counting
them and deciding their variances is ``counts``'.

A count's timeline (``CountTaskEvent``) starts here, through ``config.transitions``.
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
from config import access, transitions
from config.access import Actor
from config.errors import InvalidInput, PermissionRefused
from inventory.models import Location, StockBalance, StockMovement
from inventory.movements import SOLD

from ..models import CountLine, CountTask, ExceptionCase
from .exceptions import SYSTEM

MAX_LINES = 300
# How far back fast movers and recent exceptions are looked for.
LOOKBACK_DAYS = 30
# A SKU with an exception in the lookback weighs as much as this many units sold.
EXCEPTION_WEIGHT = 5
OPEN_TASKS = (*CountTask.COUNTING, CountTask.Status.AWAITING_APPROVAL)
# The timeline's key for a count made, by who made it.
CREATED_BY = {
    CountTask.Origin.NIGHTLY: "count_tasks_generate",
    CountTask.Origin.AD_HOC: "count_task_start",
}


@transaction.atomic
def count_task_start(
    *,
    location: Location,
    sku_codes: list[str],
    note: str = "",
    actor: Actor,
) -> CountTask:
    """An ad-hoc count a manager asks for: these SKUs (codes or barcodes), today."""
    if not access.sees_every_location(actor.person):
        raise PermissionRefused("Only a manager may start a count.")
    codes = list(dict.fromkeys(code.strip() for code in sku_codes if code.strip()))
    errors: dict[str, list[str]] = {}
    if not codes:
        errors["sku_codes"] = ["Name at least one SKU to count."]
    if len(codes) > MAX_LINES:
        errors["sku_codes"] = [f"At most {MAX_LINES} SKUs on one count."]
    skus = skus_by_code_or_barcode(codes=set(codes))
    unknown = [code for code in codes if code not in skus]
    kits = [code for code in codes if code in skus and skus[code].is_kit]
    if unknown:
        errors["sku_codes"] = [f"No SKU {', '.join(unknown[:5])}."]
    elif kits:
        # A kit holds no stock of its own: the shelves hold its components.
        errors["sku_codes"] = [
            f"{', '.join(kits[:5])}: a kit is counted as its components."
        ]
    if len(note) > 300:
        errors["note"] = ["Keep the note under 300 characters."]
    busy = list(
        on_open_counts(location)
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
        actor=actor,
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
    already = on_open_counts(location).values_list("sku_id", flat=True)
    held = list(
        StockBalance.objects.filter(location=location, sku__is_active=True)
        .exclude(sku_id__in=already)
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


def on_open_counts(location: Location):
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


def _create_task(*, location, origin, for_date, note, actor: Actor, now) -> CountTask:
    task = CountTask.objects.create(
        location=location,
        origin=origin,
        for_date=for_date,
        tolerance_units=settings.COUNT_TOLERANCE_UNITS,
        tolerance_percent=Decimal(str(settings.COUNT_TOLERANCE_PERCENT)),
        note=note,
        created_by=actor.name,
        created_at=now,
    )
    transitions.record_event(
        task,
        actor=actor,
        action=CREATED_BY[origin],
        at=now,
        to_status=task.status,
        note="Created.",
    )
    return task
