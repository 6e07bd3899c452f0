"""Reads for the store screens: a store's queue grouped by state, one task with its
lines, problems and timeline, the work beside the queue (transfers to send and
to receive, units to put back on the shelf, problems waiting for a decision), and
what a picker may offer instead of a missing item (the same product's other
variants this store can spare, then any item found by a search) or where else to
ask for it (stores nearest first, the warehouses last)."""

from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Sku
from config.access import staff_locations
from inventory.availability import AVAILABILITY_SIGN
from inventory.models import Location, StockBalance, TransferRequest
from orders.models import ReturnToStockTask
from orders.routing import km_between

from .models import PickupProblem, PickupTask

Status = PickupTask.Status
# The counts at the top of the queue: one word each, to fit a tablet's width.
SHORT_LABELS = {
    Status.NEW: "New",
    Status.CLAIMED: "Claimed",
    Status.PICKING: "Picking",
    Status.ON_HOLD: "Waiting",
    Status.PICKED: "Picked",
    Status.READY: "Ready",
}


def task_queryset() -> QuerySet[PickupTask]:
    return PickupTask.objects.select_related("order", "location", "claimed_by")


def store_queue(*, location: Location, search: str = "") -> dict:
    """The open tasks at ``location`` by state, due time first, with counts, and
    today's collections. ``search`` finds an order by number, customer name or
    collection code, whatever its state."""
    tasks = task_queryset().filter(location=location)
    if search.strip():
        term = search.strip()
        found = tasks.filter(
            Q(order__reference__icontains=term)
            | Q(order__customer_name__icontains=term)
            | Q(collection_code=term)
        ).order_by("-created_at")[:20]
        return {"search": term, "found": list(found), "groups": [], "counts": {}}
    open_tasks = list(tasks.filter(status__in=PickupTask.OPEN_STATUSES))
    now = timezone.now()
    for task in open_tasks:
        task.is_late = task.status != Status.READY and task.due_at < now
    groups = [
        {
            "status": status,
            "label": PickupTask.Status(status).label,
            "short_label": SHORT_LABELS[status],
            "tasks": [task for task in open_tasks if task.status == status],
        }
        for status in PickupTask.OPEN_STATUSES
    ]
    start_of_day = timezone.localtime(
        now, ZoneInfo(location.time_zone or "UTC")
    ).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "search": "",
        "found": [],
        "groups": groups,
        "counts": {group["status"]: len(group["tasks"]) for group in groups},
        "overdue": sum(1 for task in open_tasks if task.is_late),
        "collected_today": tasks.filter(
            status__in=(Status.COLLECTED, Status.CLOSED),
            collected_at__gte=start_of_day,
        ).count(),
        "open_problems": PickupProblem.objects.filter(
            task__location=location, status=PickupProblem.Status.OPEN
        ).count(),
    }


def store_side_work(*, location: Location) -> dict:
    return {
        "to_send": list(
            TransferRequest.objects.filter(
                from_location=location, status=TransferRequest.Status.REQUESTED
            ).select_related("sku", "to_location")
        ),
        "arriving": list(
            TransferRequest.objects.filter(
                to_location=location, status=TransferRequest.Status.DISPATCHED
            ).select_related("sku", "from_location")
        ),
        "put_back": list(
            ReturnToStockTask.objects.filter(
                location=location, status=ReturnToStockTask.Status.OPEN
            ).select_related("sku", "order")
        ),
    }


def task_for_staff(*, user, task_id: int) -> PickupTask | None:
    """The task, if ``user`` may see it: None reads as not found."""
    return (
        task_queryset()
        .filter(pk=task_id, location__in=staff_locations(user=user))
        .first()
    )


def task_lines(*, task: PickupTask) -> list:
    """The order's lines to pick, each with the kit it is a part of, if any, and its
    short units told apart: ``coming``, on their way from the store the customer
    left (a changed pickup store), and ``missing``, the rest."""
    lines = list(task.order.lines.select_related("sku", "kit_line__sku").order_by("id"))
    coming: dict[int, int] = {}
    for line_id, units in PickupProblem.objects.filter(
        task=task,
        condition=PickupProblem.Condition.ON_THE_WAY,
        status=PickupProblem.Status.WAITING,
    ).values_list("line_id", "quantity"):
        coming[line_id] = coming.get(line_id, 0) + units
    for line in lines:
        line.coming = min(coming.get(line.pk, 0), line.short_quantity)
        line.missing = line.short_quantity - line.coming
    return lines


def problems_for(*, user, escalated_only: bool = False) -> QuerySet[PickupProblem]:
    """Problems at picking in the stores ``user`` works at, oldest first."""
    problems = (
        PickupProblem.objects.filter(
            task__location__in=staff_locations(user=user),
            status=PickupProblem.Status.OPEN,
        )
        .select_related("task__order", "task__location", "line__sku")
        .order_by("reported_at")
    )
    if escalated_only:
        problems = problems.filter(escalated_at__isnull=False)
    return problems


def branches_with_stock(*, task: PickupTask, problem: PickupProblem) -> list[dict]:
    """Other locations that could send the missing units: stores first, nearest
    first (most available when the distance is unknown), the warehouses and
    distribution centres after them."""
    rows = (
        StockBalance.objects.filter(sku_id=problem.line.sku_id)
        .exclude(location_id=task.location_id)
        .filter(location__is_active=True)
        .select_related("location")
    )
    here = task.location
    options = []
    for row in rows:
        if row.available - row.location.walk_in_buffer < problem.quantity:
            continue
        distance = km_between(here, row.location)
        options.append(
            {"location": row.location, "available": row.available, "km": distance}
        )
    return sorted(
        options,
        key=lambda option: (
            option["location"].kind != Location.Kind.STORE,
            option["km"] is None,
            option["km"] or 0.0,
            -option["available"],
            option["location"].code,
        ),
    )


# How many items a substitute search shows: enough to choose from on a phone.
SEARCH_LIMIT = 8


def substitutes_suggested(*, problem: PickupProblem, location: Location) -> list[dict]:
    """The same product's other variants this store can give for ``problem``: at
    least its quantity available beyond the walk-in buffer (as ``branches_with_stock``
    counts it), most available first; what a picker offers before searching."""
    missing = problem.line.sku
    if missing.product_id is None:
        return []
    skus = (
        _with_availability(
            Sku.objects.filter(product_id=missing.product_id, is_active=True),
            location,
        )
        .exclude(pk=missing.pk)
        .filter(available_here__gte=problem.quantity + location.walk_in_buffer)
        .order_by("-available_here", "code")
    )
    return _options(skus)


def substitutes_found(
    *, problem: PickupProblem, location: Location, search: str
) -> list[dict]:
    """Items whose name, code or barcode holds ``search``: first those this store
    can give for ``problem`` (as ``substitutes_suggested`` counts it), then the
    rest, most available first. Ordered in the database before the cut, so an item
    in stock is never lost behind codes that come earlier in the alphabet."""
    term = search.strip()
    if len(term) < 2:
        return []
    # Every word somewhere in the name or the code ("beanie black" finds "Beanie,
    # black, one size"), or the whole of it a barcode.
    each_word = Q()
    for word in term.split():
        each_word &= Q(name__icontains=word) | Q(code__icontains=word)
    skus = (
        _with_availability(Sku.objects.filter(is_active=True), location)
        .filter(each_word | Q(barcode=term))
        .exclude(pk=problem.line.sku_id)
        .annotate(
            can_give=Case(
                When(
                    available_here__gte=problem.quantity + location.walk_in_buffer,
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-can_give", "-available_here", "code")[:SEARCH_LIMIT]
    )
    return _options(skus)


def _with_availability(skus: QuerySet[Sku], location: Location) -> QuerySet[Sku]:
    """``available_here``: the SKU's available units at ``location`` (0 with no
    balance there), computed in the query from the one definition of availability."""
    available = Value(0)
    for bucket, sign in AVAILABILITY_SIGN.items():
        available = available + F(bucket) if sign > 0 else available - F(bucket)
    balance = (
        StockBalance.objects.filter(sku_id=OuterRef("pk"), location=location)
        .annotate(units=ExpressionWrapper(available, output_field=BigIntegerField()))
        .values("units")[:1]
    )
    return skus.annotate(
        available_here=Coalesce(
            Subquery(balance, output_field=BigIntegerField()), Value(0)
        )
    )


def _options(skus) -> list[dict]:
    return [{"sku": sku, "available": max(sku.available_here, 0)} for sku in skus]


def location_counts(*, locations) -> dict[int, int]:
    """Open tasks per location, for the store switcher."""
    rows = (
        PickupTask.objects.filter(
            location__in=locations, status__in=PickupTask.OPEN_STATUSES
        )
        .values("location_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["location_id"]: row["n"] for row in rows}
