"""Placing an order: checked for what a serializer cannot see, answered as it stands
when the same order comes again, each line given the location that fulfils it (the
checkout's hold, the pickup store, the channel's choice, or routed on fresh
figures), then every unit committed or none, in one transaction, with the first
entries of its timeline (placed, routed, allocated)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Channel, Sku
from config.access import Actor
from config.errors import InvalidInput
from inventory.errors import InsufficientStock
from inventory.models import (
    Location,
    MovementType,
    RefusedDemand,
    Reservation,
    SupplyPromise,
)
from inventory.networks import not_in_network_message, outside_network
from inventory.selectors import pickup_ready_by
from inventory.services import demand_refused_record, reservation_transition
from inventory.services.commitments import (
    CommitmentLine,
    commitments_place,
    commitments_place_or_promise,
)

from .. import selectors
from ..models import COLLECTED_METHODS, Method, Order, OrderEvent, OrderLine
from ..routing import RoutingLine, Weights, nearest_that_can_fill, route
from ..signals import order_placed
from . import preorders
from .inputs import (
    Customer,
    Delivery,
    OrderLineInput,
    OrderReferenceClash,
    ReservationAlreadyOrdered,
)
from .timeline import digest_of, ledger_reference, order_event, order_status_record

Status = Order.Status
Kind = OrderEvent.Kind
ACTION = "order_place"
# A routed order whose chosen location sold out between the snapshot and the commit
# is routed again on fresh figures, this many times in all.
ROUTING_ATTEMPTS = 3
ROUTING_WEIGHTS = Weights()
ORDER_LINE = SupplyPromise.Owner.ORDER_LINE
# A pickup, or an order the channel gave no address for.
NOT_DELIVERED = Delivery()


@dataclass
class _Plan:
    """Where each line's units come from, and the decision to show for it."""

    lines: list[tuple[Sku, Location, int]]
    routing: dict
    walk_in_kept: set[int] = field(default_factory=set)  # location ids


def order_place(
    *,
    channel: Channel,
    reference: str,
    method: str,
    customer: Customer,
    actor: Actor,
    lines: Sequence[OrderLineInput] = (),
    reservation: Reservation | None = None,
    pickup_location: Location | None = None,
    delivery: Delivery = NOT_DELIVERED,
    promised_by: datetime | None = None,
) -> tuple[Order, bool]:
    """Place an order, committing every unit or none. Returns the order and whether
    it was placed now (False: the same order again, answered as it stands)."""
    digest = _order_digest(
        method=method,
        customer=customer,
        lines=lines,
        reservation=reservation,
        pickup_location=pickup_location,
        delivery=delivery,
        promised_by=promised_by,
    )
    existing = _existing(channel, reference, digest)
    if existing is not None:
        return existing, False
    _check_order(
        channel=channel,
        method=method,
        lines=lines,
        reservation=reservation,
        pickup_location=pickup_location,
    )
    routed = reservation is None and pickup_location is None
    routed = routed and any(line.location is None for line in lines)
    attempts = ROUTING_ATTEMPTS if routed else 1
    for attempt in range(1, attempts + 1):
        try:
            order = _place(
                channel=channel,
                reference=reference,
                method=method,
                customer=customer,
                actor=actor,
                lines=lines,
                reservation=reservation,
                pickup_location=pickup_location,
                delivery=delivery,
                promised_by=promised_by,
                digest=digest,
            )
            return order, True
        except _ReferenceTaken:
            # Placed by a twin request a moment ago: answer as for a resend.
            existing = _existing(channel, reference, digest)
            if existing is None:
                raise ReservationAlreadyOrdered(
                    "Another order took this reservation a moment ago."
                ) from None
            return existing, False
        except InsufficientStock as short:
            if attempt < attempts:
                continue
            if pickup_location is not None and reservation is None:
                short.extra["nearest_stores"] = _stores_that_can_fill(
                    channel, lines, pickup_location
                )
            # Nothing was committed; the demand turned away is kept for the dashboard.
            demand_refused_record(
                channel=channel,
                kind=RefusedDemand.Kind.ORDER,
                reference=reference,
                shortages=short.extra.get("shortages", []),
                actor=actor,
                known=[line.sku for line in lines]
                + [place for place in (pickup_location,) if place is not None],
            )
            raise
    raise AssertionError("unreachable")


class _ReferenceTaken(Exception):
    pass


def _existing(channel: Channel, reference: str, digest: str) -> Order | None:
    found = Order.objects.filter(channel=channel, reference=reference).first()
    if found is not None and found.payload_digest != digest:
        raise OrderReferenceClash(order_id=found.pk)
    return found


def _check_order(
    *,
    channel: Channel,
    method: str,
    lines: Sequence[OrderLineInput],
    reservation: Reservation | None,
    pickup_location: Location | None,
) -> None:
    """The rules a serializer cannot see; 400 with field messages, nothing written."""
    errors: dict[str, list] = {}
    collected = method in (Method.PICKUP, Method.CURBSIDE)
    if collected and pickup_location is None:
        errors["pickup_location"] = ["Required for a pickup or curbside order."]
    if pickup_location is not None:
        if not collected:
            errors["pickup_location"] = ["Only a pickup or curbside order has one."]
        elif not (pickup_location.is_active and pickup_location.pickup_enabled):
            errors["pickup_location"] = [
                f"{pickup_location.code} does not hand over pickups."
            ]
    if not channel.is_active:
        errors["channel"] = [f"Channel {channel.code!r} is closed."]
    if reservation is not None:
        taken = Order.objects.filter(reservation=reservation).first()
        if taken is not None:
            raise ReservationAlreadyOrdered(
                f"Reservation {reservation.reference!r} already became order "
                f"{taken.reference!r}.",
                order_id=taken.pk,
            )
        if lines:
            errors["lines"] = ["Give either lines or a reservation, not both."]
        if reservation.channel_id != channel.pk:
            errors["reservation"] = ["That reservation belongs to another channel."]
        elif collected and pickup_location is not None:
            elsewhere = reservation.lines.exclude(location=pickup_location).exists()
            if elsewhere:
                errors["reservation"] = [
                    f"It holds units outside {pickup_location.code}, the pickup store."
                ]
    elif not lines:
        errors["lines"] = ["Give the lines, or the reservation they were held by."]
    # The channel sells only from its network: a line or a pickup elsewhere is
    # refused here, before anything is routed or committed.
    outside = outside_network(
        channel=channel,
        locations=[line.location for line in lines if line.location is not None]
        + [place for place in (pickup_location,) if place is not None],
    )
    if pickup_location in outside and "pickup_location" not in errors:
        errors["pickup_location"] = [
            not_in_network_message(channel=channel, location=pickup_location)
        ]
    line_errors = _line_errors(lines, collected, pickup_location)
    for line, problem in zip(lines, line_errors, strict=True):
        if line.location in outside and "location" not in problem:
            problem["location"] = [
                not_in_network_message(channel=channel, location=line.location)
            ]
    if any(line_errors):
        errors["lines"] = line_errors
    if errors:
        raise InvalidInput(errors)


def _line_errors(
    lines: Sequence[OrderLineInput], collected: bool, pickup: Location | None
) -> list[dict]:
    errors: list[dict] = []
    seen: set[tuple[int, int | None]] = set()
    for line in lines:
        problem: dict[str, list[str]] = {}
        key = (line.sku.pk, line.location.pk if line.location else None)
        if key in seen:
            problem["sku"] = ["The same SKU and location are on another line."]
        seen.add(key)
        if not line.sku.is_active:
            problem["sku"] = [f"{line.sku.code} is no longer sold."]
        if line.location is not None:
            if not line.location.is_active:
                problem["location"] = [f"{line.location.code} is closed."]
            elif collected and pickup is not None and line.location != pickup:
                problem["location"] = [
                    f"A pickup at {pickup.code} is fulfilled there; leave it out."
                ]
        errors.append(problem)
    return errors


@transaction.atomic
def _place(
    *,
    channel: Channel,
    reference: str,
    method: str,
    customer: Customer,
    actor: Actor,
    lines: Sequence[OrderLineInput],
    reservation: Reservation | None,
    pickup_location: Location | None,
    delivery: Delivery,
    promised_by: datetime | None,
    digest: str,
) -> Order:
    now = timezone.now()
    order = Order(
        channel=channel,
        reference=reference,
        status=Status.PLACED,
        fulfilment_method=method,
        customer_name=customer.name,
        customer_email=customer.email,
        customer_phone=customer.phone,
        pickup_location=pickup_location,
        delivery_address=delivery.address,
        delivery_city=delivery.city,
        delivery_postal_code=delivery.postal_code,
        delivery_country=delivery.country,
        delivery_latitude=_decimal(delivery.latitude),
        delivery_longitude=_decimal(delivery.longitude),
        promised_by=promised_by,
        reservation=reservation,
        payload_digest=digest,
        placed_by=actor.name,
        placed_at=now,
    )
    plan = _plan(order, lines, delivery, now)
    order.routing = plan.routing
    if method in COLLECTED_METHODS and promised_by is None:
        # The customer is told when to come: the store's cut-off and preparation
        # time decide it, unless the channel already promised a time.
        order.promised_by = pickup_ready_by(
            location=pickup_location or plan.lines[0][1], placed_at=now
        )
    try:
        # The unique index makes a twin request wait here until this one commits.
        with transaction.atomic():
            order.save()
    except IntegrityError as taken:
        raise _ReferenceTaken from taken
    rows = OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, sku=sku, location=location, quantity=quantity)
            for sku, location, quantity in plan.lines
        ]
    )
    order_event(
        order,
        kind=Kind.PLACED,
        actor=actor,
        action=ACTION,
        at=now,
        to_status=Status.PLACED,
        lines=rows,
    )
    order_event(
        order,
        kind=Kind.ROUTED,
        actor=actor,
        action=ACTION,
        at=now,
        note=plan.routing["reason"],
        detail=plan.routing,
    )
    if reservation is not None:
        reservation_transition(
            reservation_id=reservation.pk,
            to_status=Reservation.Status.ORDERED,
            actor=actor,
        )
        why = f"Took over checkout hold {reservation.reference!r}: its units are this order's."
        preorders.hold_taken_over(order=order, rows=rows, actor=actor, at=now)
    else:
        allowed = _future_allowed(channel, lines, plan)
        commitments = [
            CommitmentLine(
                reference=ledger_reference(order, row, MovementType.COMMIT),
                sku=row.sku,
                location=row.location,
                quantity=row.quantity,
                walk_in_buffer=(
                    row.location.walk_in_buffer
                    if row.location_id in plan.walk_in_kept
                    else 0
                ),
                future_owner=(ORDER_LINE, row.pk) if future else None,
            )
            for row, future in zip(rows, allowed, strict=True)
        ]
        if any(allowed):
            futures = commitments_place_or_promise(
                channel=channel, lines=commitments, actor=actor
            )
            preorders.lines_promised(
                order=order,
                rows=rows,
                futures={
                    row.pk: futures[line.reference]
                    for row, line in zip(rows, commitments, strict=True)
                    if line.reference in futures
                },
                actor=actor,
                at=now,
            )
        else:
            commitments_place(channel=channel, lines=commitments, actor=actor)
        why = "Every unit committed at the location that fulfils it."
        if any(row.awaiting_supply_quantity for row in rows):
            why = "Committed what the shelf holds; the rest waits for supply."
    if method in COLLECTED_METHODS and promised_by is None:
        _ready_after_supply(order, rows)
    order_status_record(
        order,
        Status.ALLOCATED,
        actor=actor,
        kind=Kind.STATUS,
        action=ACTION,
        at=now,
        note=why,
    )
    order_placed.send(sender=Order, order=order, actor=actor)
    return order


def _ready_after_supply(order: Order, rows: Sequence[OrderLine]) -> None:
    """A pre-order collected at the store is ready once its supply is there: the
    customer is told the store's ready-by from the latest promise date."""
    due = [
        row.supply_expected_at
        for row in rows
        if row.awaiting_supply_quantity and row.supply_expected_at
    ]
    if due:
        order.promised_by = pickup_ready_by(
            location=rows[0].location, placed_at=max(due)
        )
        order.save(update_fields=["promised_by"])


def _future_allowed(
    channel: Channel, lines: Sequence[OrderLineInput], plan: _Plan
) -> list[bool]:
    """Per planned line, whether what the shelf cannot cover may be promised against
    dated supply: the line's ``allow_future``, else the channel's default. A routed
    order is planned on the shelf only (its lines are the routing's, not the
    channel's)."""
    if plan.routing.get("strategy") not in ("pickup", "chosen_by_channel"):
        return [False] * len(plan.lines)
    return [
        channel.allow_future_by_default
        if line.allow_future is None
        else line.allow_future
        for line in lines
    ]


def _plan(
    order: Order, lines: Sequence[OrderLineInput], delivery: Delivery, now: datetime
) -> _Plan:
    """Which location fulfils each line, and the decision shown on the timeline."""
    if order.reservation is not None:
        held = list(order.reservation.lines.select_related("sku", "location"))
        places = sorted({row.location.code for row in held})
        return _Plan(
            lines=[(row.sku, row.location, row.quantity) for row in held],
            routing={
                "strategy": "reservation",
                "reason": f"The checkout held these units at {', '.join(places)}; "
                "the order is fulfilled from there.",
            },
        )
    if order.pickup_location is not None:
        store = order.pickup_location
        return _Plan(
            lines=[(line.sku, store, line.quantity) for line in lines],
            routing={
                "strategy": "pickup",
                "reason": f"The customer collects at {store.code}, so it fulfils "
                "the order.",
            },
        )
    shipped_from_stores = {
        line.location.pk
        for line in lines
        if line.location is not None and line.location.kind == Location.Kind.STORE
    }
    if all(line.location is not None for line in lines):
        places = sorted({line.location.code for line in lines})
        return _Plan(
            lines=[(line.sku, line.location, line.quantity) for line in lines],
            routing={
                "strategy": "chosen_by_channel",
                "reason": f"The channel named the location: {', '.join(places)}.",
            },
            walk_in_kept=shipped_from_stores,
        )
    return _routed(order, lines, delivery, now)


def _routed(
    order: Order, lines: Sequence[OrderLineInput], delivery: Delivery, now: datetime
) -> _Plan:
    if any(line.location is not None for line in lines):
        raise InvalidInput(
            {"lines": ["Name a location on every line, or on none to have it routed."]}
        )
    skus = {line.sku.pk: line.sku for line in lines}
    candidates = selectors.routing_candidates(
        channel=order.channel,
        skus=list(skus.values()),
        method=order.fulfilment_method,
        now=now,
    )
    decision = route(
        lines=[
            RoutingLine(line.sku.pk, line.sku.code, line.quantity) for line in lines
        ],
        candidates=candidates,
        destination=delivery.point,
        weights=ROUTING_WEIGHTS,
    )
    if decision.shortages:
        raise InsufficientStock(
            "No location, alone or with others, can fill every line; nothing was "
            "committed.",
            shortages=[
                {
                    "sku": short["sku"],
                    "location": None,
                    "requested": short["requested"],
                    "available_to_promise": short["requested"] - short["short"],
                }
                for short in decision.shortages
            ],
        )
    locations = Location.objects.in_bulk([a.location_id for a in decision.allocations])
    planned = [
        (skus[sku_id], locations[allocation.location_id], units)
        for allocation in decision.allocations
        for sku_id, units in allocation.units.items()
    ]
    return _Plan(
        lines=planned,
        routing=decision.as_json(),
        walk_in_kept={
            location.pk
            for location in locations.values()
            if location.kind == Location.Kind.STORE
        },
    )


def _stores_that_can_fill(
    channel: Channel, lines: Sequence[OrderLineInput], store: Location
) -> list[dict]:
    candidates = selectors.routing_candidates(
        channel=channel,
        skus=list({line.sku.pk: line.sku for line in lines}.values()),
        method=Method.PICKUP,
        now=timezone.now(),
    )
    origin = None
    if store.latitude is not None and store.longitude is not None:
        origin = (float(store.latitude), float(store.longitude))
    return nearest_that_can_fill(
        lines=[
            RoutingLine(line.sku.pk, line.sku.code, line.quantity) for line in lines
        ],
        candidates=[c for c in candidates if c.location_id != store.pk],
        origin=origin,
    )


def _order_digest(
    *,
    method: str,
    customer: Customer,
    lines: Sequence[OrderLineInput],
    reservation: Reservation | None,
    pickup_location: Location | None,
    delivery: Delivery,
    promised_by: datetime | None,
) -> str:
    return digest_of(
        {
            "method": method,
            "customer": [customer.name, customer.email, customer.phone],
            "lines": sorted(
                [
                    line.sku.code,
                    line.location.code if line.location else None,
                    line.quantity,
                ]
                for line in lines
            ),
            "reservation": reservation.pk if reservation else None,
            "pickup": pickup_location.code if pickup_location else None,
            "delivery": [
                delivery.address,
                delivery.city,
                delivery.postal_code,
                delivery.country,
                delivery.latitude,
                delivery.longitude,
            ],
            "promised_by": promised_by.isoformat() if promised_by else None,
        }
    )


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 6)))
