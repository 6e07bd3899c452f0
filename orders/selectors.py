"""Reads for orders: the order as staff, support and the API see it, the snapshot
of locations and stock that routing decides over, and the packing bench (the
shipped orders with units to pack at a location, and the units waiting for a
decision there)."""

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Prefetch, QuerySet

from catalog.models import Channel, Sku
from inventory.models import Location
from inventory.networks import network_locations
from inventory.selectors import availability_rows

from .models import (
    COLLECTED_METHODS,
    Method,
    Order,
    OrderEvent,
    OrderKitLine,
    OrderLine,
    PackingProblem,
    ReturnToStockTask,
)
from .routing import Candidate


def order_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("channel", "pickup_location").prefetch_related(
        Prefetch("lines", OrderLine.objects.select_related("sku", "location")),
        Prefetch("kit_lines", OrderKitLine.objects.select_related("sku", "location")),
        Prefetch("events", OrderEvent.objects.order_by("at", "id")),
        Prefetch(
            "return_to_stock_tasks",
            ReturnToStockTask.objects.select_related("sku", "location"),
        ),
        Prefetch("packing_problems", packing_problem_queryset()),
    )


def packing_problem_queryset() -> QuerySet[PackingProblem]:
    return PackingProblem.objects.select_related(
        "line__sku",
        "location",
        "rerouted_line__location",
        "substitute_sku",
        "follow_up_order",
    )


# Orders with units still to leave: what a packer may still report short or ship.
BEING_PACKED = (
    Order.Status.ALLOCATED,
    Order.Status.IN_PROGRESS,
    Order.Status.READY,
    Order.Status.PARTIALLY_SHIPPED,
)
BENCH_SIZE = 50


def packing_bench(*, location: Location) -> list[Order]:
    """The shipped orders (not collected by the customer) with units still to pack
    at ``location``, due first then oldest first (at most ``BENCH_SIZE``); each
    with ``here``, its lines at the location with units still to leave, and
    ``open_problems``, its units there waiting for a decision."""
    orders = _being_packed(location).order_by(
        F("promised_by").asc(nulls_last=True), "placed_at", "id"
    )
    return _with_lines_here(orders[:BENCH_SIZE])


def packing_orders_by_reference(
    *, location: Location, reference: str, order_id: int | None = None
) -> list[Order]:
    """The orders being packed at ``location`` (as on its bench, however long the
    bench) whose reference is ``reference`` in any case: more than one when two
    channels use the same reference; ``order_id`` (the bench's link names it) picks
    one of them. Each with ``here`` and ``open_problems`` as on the bench."""
    orders = _being_packed(location).filter(reference__iexact=reference)
    if order_id is not None:
        orders = orders.filter(pk=order_id)
    return _with_lines_here(orders.order_by("id")[:10])


def _being_packed(location: Location) -> QuerySet[Order]:
    return (
        Order.objects.filter(
            status__in=BEING_PACKED,
            lines__location=location,
            lines__status__in=_TO_PACK,
        )
        .exclude(fulfilment_method__in=COLLECTED_METHODS)
        .select_related("channel")
        .prefetch_related(
            Prefetch(
                "lines",
                OrderLine.objects.filter(location=location).select_related(
                    "sku", "kit_line__sku"
                ),
                to_attr="here",
            ),
            Prefetch(
                "packing_problems",
                packing_problems_waiting(location=location),
                to_attr="open_problems",
            ),
        )
        .distinct()
    )


def _with_lines_here(orders: QuerySet[Order]) -> list[Order]:
    found = []
    for order in orders:
        order.here = [line for line in order.here if line.open_quantity]
        found.append(order)
    return found


# Line statuses with units still to leave.
_TO_PACK = (
    OrderLine.Status.ALLOCATED,
    OrderLine.Status.PICKING,
    OrderLine.Status.PICKED,
    OrderLine.Status.SHORT,
    OrderLine.Status.AWAITING_SUPPLY,
    OrderLine.Status.PARTIALLY_FULFILLED,
)


def packing_problems_waiting(*, location: Location) -> QuerySet[PackingProblem]:
    """Units short at ``location`` still waiting for a decision: open, and the order
    still waits for them (a problem whose units were cancelled meanwhile has nothing
    left to decide). An order with one is not shipped from there (the bench's
    "Shipped", ``services.packing.packing_ship_here``)."""
    return packing_problem_queryset().filter(
        location=location,
        status=PackingProblem.Status.OPEN,
        line__short_quantity__gt=0,
    )


def packing_problems_open(*, location: Location) -> list[PackingProblem]:
    """Units short at ``location`` still waiting for a decision, oldest first, on
    orders still being packed; with the order's channel (whether it splits kits,
    shown on a kit's part) in the same query."""
    return list(
        packing_problems_waiting(location=location)
        .select_related("order__channel", "line__kit_line__sku")
        .filter(order__status__in=BEING_PACKED)
    )


def return_to_stock_queryset() -> QuerySet[ReturnToStockTask]:
    return ReturnToStockTask.objects.select_related(
        "order", "order__channel", "sku", "location"
    )


def ships_for(location: Location, method: str) -> bool:
    """Whether ``location`` may fulfil an order of this fulfilment method."""
    is_store = location.kind == Location.Kind.STORE
    if method in COLLECTED_METHODS:
        return is_store and location.pickup_enabled
    if method == Method.SHIP:
        return not is_store or location.ship_from_store_enabled
    # Ship from store and local delivery leave from a store's own shelves.
    return is_store and location.ship_from_store_enabled


def routing_candidates(
    *, channel: Channel, skus: Sequence[Sku], method: str, now: datetime
) -> list[Candidate]:
    """Every open location of the channel's network (``inventory.networks``: none
    named, every open location) as routing sees it for ``channel``: what it may
    promise of each SKU, what it weighs, and how many orders it has taken today (its
    own day). A location outside the network is no candidate at all."""
    locations = network_locations(channel=channel)
    rows = availability_rows(
        pairs=[(sku, location) for location in locations for sku in skus],
        channel=channel,
    )
    promisable: dict[int, dict[int, int]] = {}
    for row in rows:
        promisable.setdefault(row.location.pk, {})[row.sku.pk] = (
            row.available_to_promise
        )
    taken = orders_today(locations=locations, now=now)
    return [
        Candidate(
            location_id=location.pk,
            code=location.code,
            is_store=location.kind == Location.Kind.STORE,
            ships=ships_for(location, method),
            latitude=_float(location.latitude),
            longitude=_float(location.longitude),
            shipping_cost=float(location.shipping_cost),
            orders_today=taken.get(location.pk, 0),
            daily_capacity=location.daily_order_capacity,
            walk_in_buffer=location.walk_in_buffer,
            service_radius_km=location.service_radius_km,
            available_to_promise=promisable.get(location.pk, {}),
        )
        for location in locations
    ]


def orders_today(*, locations: Sequence[Location], now: datetime) -> dict[int, int]:
    """Orders (not cancelled) each location fulfils that were placed since midnight
    in its own time zone: what its daily capacity is counted against."""
    counts: dict[int, int] = {}
    by_zone: dict[str, list[int]] = {}
    for location in locations:
        by_zone.setdefault(location.time_zone or "UTC", []).append(location.pk)
    for zone, ids in by_zone.items():
        local = now.astimezone(ZoneInfo(zone))
        midnight = datetime.combine(local.date(), time(), tzinfo=ZoneInfo(zone))
        rows = (
            OrderLine.objects.filter(
                location_id__in=ids, order__placed_at__gte=midnight
            )
            .exclude(order__status=Order.Status.CANCELLED)
            .values("location_id")
            .annotate(orders=Count("order_id", distinct=True))
            .order_by()
        )
        counts.update({row["location_id"]: row["orders"] for row in rows})
    return counts


def _float(value) -> float | None:
    return None if value is None else float(value)
