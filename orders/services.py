"""Writes to orders: placing an order (from a checkout's hold, or reserved and
committed in one step, routed to the location that fulfils it), and moving its lines
on: pick, ready, ship, collect, cancel (whole or in part), close, putting a
cancelled pick back on the shelf, and the units a picker could not find (short,
then committed again, cancelled, or replaced by an added line).

Each function is one transaction under the order's row lock. Stock moves only
through ``inventory.services``; the order's status is derived from its lines and
must be allowed by ``Order.TRANSITIONS``; every change is one ``OrderEvent`` with
who, when, why and from which system. A request may carry a ``request_reference``:
the same key again answers with the order as it is and changes nothing.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Channel, Sku
from config.errors import Conflict, InvalidInput, NotFound
from inventory.errors import InsufficientStock
from inventory.models import Location, MovementType, Reservation
from inventory.selectors import pickup_ready_by
from inventory.services import balances_lock, reservation_transition
from inventory.services.commitments import (
    SHORT_FACTS,
    CommitmentLine,
    commitments_move,
    commitments_place,
    commitments_short,
    keep_for,
)

from . import selectors
from .models import (
    COLLECTED_METHODS,
    Method,
    Order,
    OrderEvent,
    OrderLine,
    ReturnToStockTask,
)
from .routing import RoutingLine, Weights, nearest_that_can_fill, route
from .signals import order_changed, order_locked, order_placed

Status = Order.Status
LineStatus = OrderLine.Status
Kind = OrderEvent.Kind
# A routed order whose chosen location sold out between the snapshot and the commit
# is routed again on fresh figures, this many times in all.
ROUTING_ATTEMPTS = 3
MAX_LINES = 200
ROUTING_WEIGHTS = Weights()


class OrderReferenceClash(Conflict):
    code = "reference_clash"
    message = "This reference was already used for a different order."


class RequestReferenceClash(Conflict):
    code = "request_reference_clash"
    message = "This request reference was already used for a different request."


class OrderTransitionRefused(Conflict):
    code = "order_transition_refused"


class ReservationAlreadyOrdered(Conflict):
    code = "reservation_already_ordered"


@dataclass(frozen=True)
class Customer:
    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Delivery:
    address: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


@dataclass(frozen=True)
class OrderLineInput:
    sku: Sku
    quantity: int
    location: Location | None = None


@dataclass(frozen=True)
class LineQuantity:
    """A line of the order, and how many of its units (None: every unit that can)."""

    line_id: int
    quantity: int | None = None


@dataclass(frozen=True)
class Who:
    """Who acts, from which system, and the caller's key for the request."""

    actor: str
    source: str
    request_reference: str = ""


@dataclass
class _Plan:
    """Where each line's units come from, and the decision to show for it."""

    lines: list[tuple[Sku, Location, int]]
    routing: dict
    walk_in_kept: set[int] = field(default_factory=set)  # location ids


# ---------------------------------------------------------------- placing an order


def order_place(
    *,
    channel: Channel,
    reference: str,
    method: str,
    customer: Customer,
    who: Who,
    lines: Sequence[OrderLineInput] = (),
    reservation: Reservation | None = None,
    pickup_location: Location | None = None,
    delivery: Delivery = Delivery(),
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
                who=who,
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
    line_errors = _line_errors(lines, collected, pickup_location)
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
    who: Who,
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
        placed_by=who.actor,
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
    _event(order, Kind.PLACED, who, now, to_status=Status.PLACED, lines=rows)
    _event(
        order, Kind.ROUTED, who, now, reason=plan.routing["reason"], detail=plan.routing
    )
    if reservation is not None:
        reservation_transition(
            reservation_id=reservation.pk,
            to_status=Reservation.Status.ORDERED,
            actor=who.actor,
        )
        why = f"Took over checkout hold {reservation.reference!r}: its units are this order's."
    else:
        commitments_place(
            channel=channel,
            lines=[
                CommitmentLine(
                    reference=_entry(order, row, MovementType.COMMIT),
                    sku=row.sku,
                    location=row.location,
                    quantity=row.quantity,
                    keep_available=keep_for(
                        sku=row.sku,
                        channel=channel,
                        walk_in_buffer=(
                            row.location.walk_in_buffer
                            if row.location_id in plan.walk_in_kept
                            else 0
                        ),
                    ),
                )
                for row in rows
            ],
            actor=who.actor,
        )
        why = "Every unit committed at the location that fulfils it."
    _change_status(order, Status.ALLOCATED, who, now, kind=Kind.STATUS, reason=why)
    order_placed.send(sender=Order, order=order)
    return order


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


# ---------------------------------------------------------- moving lines along


def order_pick(
    *, order_id: int, lines: Sequence[LineQuantity] | None, who: Who
) -> Order:
    """Units picked off the shelf into the pickup-hold area: still the order's, no
    longer on the shelf."""

    def pick(order: Order, line: OrderLine, quantity: int, moves: _Moves) -> None:
        moves.add(MovementType.PICK, line, quantity)
        line.picked_quantity += quantity

    return _act(
        order_id=order_id,
        lines=lines,
        who=who,
        kind=Kind.PICKED,
        verb="picked",
        room=lambda line: line.unpicked_quantity,
        apply=pick,
    )


def order_ship(
    *,
    order_id: int,
    lines: Sequence[LineQuantity] | None,
    who: Who,
    carrier: str = "",
    tracking_reference: str = "",
) -> Order:
    """Units that left with the carrier: from the pickup-hold area first, then from
    the shelf. A pickup order is collected, not shipped."""

    def ship(order: Order, line: OrderLine, quantity: int, moves: _Moves) -> None:
        if order.is_collected_by_customer:
            raise OrderTransitionRefused(
                f"Order {order.reference!r} is collected by the customer, not shipped.",
                status=order.status,
            )
        from_hold = min(quantity, line.picked_quantity)
        moves.add(MovementType.FULFIL_PICKED, line, from_hold)
        moves.add(MovementType.FULFIL, line, quantity - from_hold)
        line.picked_quantity -= from_hold
        line.fulfilled_quantity += quantity

    detail = {
        k: v
        for k, v in (("carrier", carrier), ("tracking_reference", tracking_reference))
        if v
    }
    return _act(
        order_id=order_id,
        lines=lines,
        who=who,
        kind=Kind.SHIPPED,
        verb="shipped",
        room=lambda line: line.open_quantity,
        apply=ship,
        detail=detail,
    )


def order_cancel(
    *, order_id: int, lines: Sequence[LineQuantity] | None, reason: str, who: Who
) -> Order:
    """Cancel the whole order (``lines`` None) or some units of some lines. Units
    still on the shelf are released at once; units already picked stay out of
    availability until staff confirm they are back on the shelf (a
    ReturnToStockTask)."""
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the order is cancelled."]})

    def cancel(order: Order, line: OrderLine, quantity: int, moves: _Moves) -> None:
        on_shelf = min(quantity, line.unpicked_quantity)
        moves.add(MovementType.COMMITMENT_RELEASE, line, on_shelf)
        # Units short at picking hold no stock: cancelling them moves nothing.
        short = min(quantity - on_shelf, line.short_quantity)
        line.short_quantity -= short
        picked = quantity - on_shelf - short
        if picked:
            line.picked_quantity -= picked
            moves.tasks.append((line, picked))
        line.cancelled_quantity += quantity

    return _act(
        order_id=order_id,
        lines=lines,
        who=who,
        kind=Kind.CANCELLED,
        verb="cancelled",
        room=lambda line: line.open_quantity,
        apply=cancel,
        reason=reason.strip(),
    )


def order_report_short(
    *,
    order_id: int,
    line_id: int,
    quantity: int,
    condition: str,
    who: Who,
    note: str = "",
) -> Order:
    """Units the picker could not take off the shelf: not there (``not_found``) or
    damaged. Their commitment is released and the physical fact recorded at once, so
    no one is promised them again; the line holds them as short until someone
    decides (``order_refill_short`` or ``order_cancel_short``)."""
    if condition not in SHORT_FACTS:
        raise InvalidInput({"condition": [f"One of {sorted(SHORT_FACTS)}."]})

    def short(order: Order, line: OrderLine, quantity: int, moves: _Moves) -> None:
        moves.short.append((line, quantity, condition))
        line.short_quantity += quantity

    return _act(
        order_id=order_id,
        lines=[LineQuantity(line_id=line_id, quantity=quantity)],
        who=who,
        kind=Kind.SHORT,
        verb="reported short",
        room=lambda line: line.unpicked_quantity,
        apply=short,
        reason=note.strip() or condition.replace("_", " ") + " when picking",
        detail={"condition": condition},
    )


def order_refill_short(
    *, order_id: int, line_id: int, quantity: int, who: Who, reason: str
) -> Order:
    """Short units found again here (a transfer arrived): committed again at the
    line's location, refused with ``insufficient_stock`` if they are not there."""

    def refill(order: Order, line: OrderLine, quantity: int, moves: _Moves) -> None:
        moves.commit.append((line, quantity))
        line.short_quantity -= quantity

    return _act(
        order_id=order_id,
        lines=[LineQuantity(line_id=line_id, quantity=quantity)],
        who=who,
        kind=Kind.REFILLED,
        verb="committed again",
        room=lambda line: line.short_quantity,
        apply=refill,
        reason=reason,
    )


def order_cancel_short(
    *, order_id: int, line_id: int, quantity: int, who: Who, reason: str
) -> Order:
    """Short units that will not come from this store: cancelled on this order (the
    customer gets a substitute, a later shipment, or nothing)."""
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the units are cancelled."]})

    def cancel(order: Order, line: OrderLine, quantity: int, moves: _Moves) -> None:
        line.short_quantity -= quantity
        line.cancelled_quantity += quantity

    return _act(
        order_id=order_id,
        lines=[LineQuantity(line_id=line_id, quantity=quantity)],
        who=who,
        kind=Kind.CANCELLED,
        verb="cancelled",
        room=lambda line: line.short_quantity,
        apply=cancel,
        reason=reason.strip(),
    )


def order_add_line(
    *,
    order_id: int,
    sku: Sku,
    location: Location,
    quantity: int,
    who: Who,
    reason: str,
) -> tuple[Order, OrderLine]:
    """A line added to an order still being picked (a substitute the customer
    accepted): committed at ``location`` or refused with ``insufficient_stock``."""
    if quantity < 1:
        raise InvalidInput({"quantity": ["Add at least one unit."]})
    with transaction.atomic():
        order = _locked(order_id)
        if order.status not in (Status.ALLOCATED, Status.IN_PROGRESS):
            raise OrderTransitionRefused(
                f"Order {order.reference!r} is {order.status}: lines are added only "
                "while it is being picked; nothing was changed.",
                status=order.status,
            )
        line = OrderLine.objects.create(
            order=order, sku=sku, location=location, quantity=quantity
        )
        commitments_place(
            channel=order.channel,
            lines=[
                CommitmentLine(
                    reference=_entry(order, line, MovementType.COMMIT),
                    sku=sku,
                    location=location,
                    quantity=quantity,
                    keep_available=keep_for(sku=sku, channel=order.channel),
                )
            ],
            actor=who.actor,
        )
        _event(order, Kind.LINE_ADDED, who, timezone.now(), reason=reason, lines=[line])
        order_changed.send(sender=Order, order=order, actor=who.actor)
    return order, line


def order_collect(*, order_id: int, who: Who) -> Order:
    """The customer collected every open unit from the pickup-hold area."""

    def collect(order: Order, line: OrderLine, quantity: int, moves: _Moves) -> None:
        if order.status != Status.READY or not order.is_collected_by_customer:
            raise _refusal(order, Status.COLLECTED)
        moves.add(MovementType.FULFIL_PICKED, line, quantity)
        line.picked_quantity -= quantity
        line.fulfilled_quantity += quantity

    return _act(
        order_id=order_id,
        lines=None,
        who=who,
        kind=Kind.COLLECTED,
        verb="collected",
        room=lambda line: line.picked_quantity,
        apply=collect,
    )


def order_mark_ready(*, order_id: int, who: Who) -> Order:
    """Every open unit is picked: ready to hand over or to ship."""
    with transaction.atomic():
        order = _locked(order_id)
        if _replayed(order, who, {"action": "ready"}):
            return order
        rows = list(order.lines.all())
        if order.status != Status.IN_PROGRESS or any(
            r.unpicked_quantity or r.short_quantity for r in rows
        ):
            raise _refusal(order, Status.READY)
        now = timezone.now()
        _change_status(
            order,
            Status.READY,
            who,
            now,
            kind=Kind.STATUS,
            digest=_digest({"action": "ready"}),
        )
    return order


def order_close(*, order_id: int, who: Who, reason: str = "") -> Order:
    """Nothing more will happen to a shipped or collected order."""
    with transaction.atomic():
        order = _locked(order_id)
        if _replayed(order, who, {"action": "close"}):
            return order
        if Status.CLOSED not in Order.TRANSITIONS[order.status]:
            raise _refusal(order, Status.CLOSED)
        _change_status(
            order,
            Status.CLOSED,
            who,
            timezone.now(),
            kind=Kind.STATUS,
            reason=reason,
            digest=_digest({"action": "close"}),
        )
    return order


def return_to_stock_confirm(*, task_id: int, who: Who) -> ReturnToStockTask:
    """Staff confirm the units are back on the shelf: only now are they available.
    The order is locked first, then its task (the lock order, inventory.locking)."""
    with transaction.atomic():
        order_id = (
            ReturnToStockTask.objects.filter(pk=task_id)
            .values_list("order_id", flat=True)
            .first()
        )
        list(
            Order.objects.select_for_update(no_key=True)
            .filter(pk=order_id)
            .values_list("pk")
        )
        try:
            task = (
                ReturnToStockTask.objects.select_for_update(no_key=True, of=("self",))
                .select_related("order__channel", "line", "sku", "location")
                .get(pk=task_id)
            )
        except ReturnToStockTask.DoesNotExist as missing:
            raise NotFound(f"No return-to-stock task {task_id}.") from missing
        if task.status == ReturnToStockTask.Status.PUT_AWAY:
            return task  # confirmed already: the same confirmation changes nothing
        now = timezone.now()
        commitments_move(
            channel=task.order.channel,
            move=MovementType.PUT_AWAY,
            lines=[
                CommitmentLine(
                    reference=f"#order/{task.order_id}/{task.line_id}/put_away/"
                    f"task{task.pk}",
                    sku=task.sku,
                    location=task.location,
                    quantity=task.quantity,
                )
            ],
            actor=who.actor,
        )
        task.status = ReturnToStockTask.Status.PUT_AWAY
        task.put_away_by = who.actor
        task.put_away_at = now
        task.save(update_fields=["status", "put_away_by", "put_away_at"])
        _event(
            task.order,
            Kind.PUT_AWAY,
            who,
            now,
            reason=f"{task.quantity} × {task.sku.code} back on the shelf at "
            f"{task.location.code}.",
            detail={"task": task.pk},
        )
    return task


# ------------------------------------------------------------------- the engine


class _Moves:
    """The ledger moves and return-to-stock tasks one request makes, by line."""

    def __init__(self) -> None:
        self.by_move: dict[str, list[tuple[OrderLine, int]]] = {}
        self.tasks: list[tuple[OrderLine, int]] = []
        self.short: list[tuple[OrderLine, int, str]] = []
        self.commit: list[tuple[OrderLine, int]] = []

    def add(self, move: str, line: OrderLine, quantity: int) -> None:
        if quantity:
            self.by_move.setdefault(move, []).append((line, quantity))


def _act(
    *,
    order_id: int,
    lines: Sequence[LineQuantity] | None,
    who: Who,
    kind: str,
    verb: str,
    room: Callable[[OrderLine], int],
    apply: Callable[[Order, OrderLine, int, _Moves], None],
    reason: str = "",
    detail: dict | None = None,
) -> Order:
    """Lock the order, check the request against what each line has room for, move
    the units, record one timeline event and the status the lines now add up to."""
    asked = None if lines is None else [(line.line_id, line.quantity) for line in lines]
    request = {"action": verb, "lines": asked, "reason": reason, **(detail or {})}
    with transaction.atomic():
        order = _locked(order_id)
        if _replayed(order, who, request):
            return order
        rows = {row.pk: row for row in order.lines.select_related("sku", "location")}
        wanted = _wanted(order, rows, lines, room, verb)
        before = {row.pk: (row.status, row.quantity) for row in rows.values()}
        moves = _Moves()
        for row, quantity in wanted:
            apply(order, row, quantity, moves)
        # Every balance the request moves, at once, in the one order
        # (inventory.locking): it posts a batch per kind of move, and taking their
        # balances batch by batch would meet a till batch's in the opposite order.
        balances_lock(
            keys=[
                (row.sku_id, row.location_id)
                for row, *_ in (
                    *(pair for moved in moves.by_move.values() for pair in moved),
                    *moves.short,
                    *moves.commit,
                )
                if row.location_id is not None
            ]
        )
        now = timezone.now()
        sequence = order.events.count() + 1
        for move, moved in moves.by_move.items():
            commitments_move(
                channel=order.channel,
                move=move,
                lines=[
                    CommitmentLine(
                        reference=_entry(order, row, move, sequence),
                        sku=row.sku,
                        location=row.location,
                        quantity=quantity,
                    )
                    for row, quantity in moved
                ],
                actor=who.actor,
            )
        for row, quantity, condition in moves.short:
            commitments_short(
                channel=order.channel,
                line=CommitmentLine(
                    reference=_entry(order, row, "short", sequence),
                    sku=row.sku,
                    location=row.location,
                    quantity=quantity,
                ),
                condition=condition,
                reason=f"{condition.replace('_', ' ')} when picking order "
                f"{order.reference}",
                actor=who.actor,
            )
        if moves.commit:
            commitments_place(
                channel=order.channel,
                lines=[
                    CommitmentLine(
                        reference=_entry(order, row, MovementType.COMMIT, sequence),
                        sku=row.sku,
                        location=row.location,
                        quantity=quantity,
                    )
                    for row, quantity in moves.commit
                ],
                actor=who.actor,
            )
        changed = []
        for row, quantity in wanted:
            status = _line_status(row)
            if status != row.status and status not in OrderLine.TRANSITIONS[row.status]:
                raise OrderTransitionRefused(
                    f"Line {row.pk} cannot go from {row.status} to {status}.",
                    status=order.status,
                )
            row.status = status
            row.save()
            changed.append(
                {
                    "line": row.pk,
                    "sku": row.sku.code,
                    "location": row.location.code,
                    "quantity": quantity,
                    "from": before[row.pk][0],
                    "to": status,
                }
            )
        for row, quantity in moves.tasks:
            ReturnToStockTask.objects.create(
                order=order,
                line=row,
                sku=row.sku,
                location=row.location,
                quantity=quantity,
                reason=reason or f"{verb} after picking",
                created_by=who.actor,
                created_at=now,
            )
        tasks = [{"line": row.pk, "quantity": q} for row, q in moves.tasks]
        event_detail = {"lines": changed, **(detail or {})}
        if tasks:
            event_detail["return_to_stock"] = tasks
        _change_status(
            order,
            _order_status(order, list(rows.values())),
            who,
            now,
            kind=kind,
            reason=reason,
            detail=event_detail,
            digest=_digest(request),
            always=True,
        )
    return order


def _wanted(
    order: Order,
    rows: dict[int, OrderLine],
    lines: Sequence[LineQuantity] | None,
    room: Callable[[OrderLine], int],
    verb: str,
) -> list[tuple[OrderLine, int]]:
    if lines is None:
        wanted = [(row, room(row)) for row in rows.values() if room(row) > 0]
        if not wanted:
            raise OrderTransitionRefused(
                f"Nothing on order {order.reference!r} can be {verb}: it is "
                f"{order.status}; nothing was changed.",
                status=order.status,
            )
        return wanted
    errors: list[dict] = []
    wanted = []
    seen: set[int] = set()
    for line in lines:
        row = rows.get(line.line_id)
        problem: dict[str, list[str]] = {}
        if row is None:
            problem["line"] = [f"No line {line.line_id} on this order."]
        elif line.line_id in seen:
            problem["line"] = ["This line is named twice."]
        else:
            quantity = room(row) if line.quantity is None else line.quantity
            if quantity < 1 or quantity > room(row):
                problem["quantity"] = [
                    f"{room(row)} unit(s) of this line can be {verb}; asked {quantity}."
                ]
            else:
                wanted.append((row, quantity))
        seen.add(line.line_id)
        errors.append(problem)
    if any(errors):
        raise InvalidInput({"lines": errors})
    return wanted


def _line_status(line: OrderLine) -> str:
    open_units = line.open_quantity
    if open_units == 0:
        return LineStatus.FULFILLED if line.fulfilled_quantity else LineStatus.CANCELLED
    if line.fulfilled_quantity:
        return LineStatus.PARTIALLY_FULFILLED
    if line.short_quantity:
        return LineStatus.SHORT
    if line.picked_quantity == open_units:
        return LineStatus.PICKED
    if line.picked_quantity:
        return LineStatus.PICKING
    return LineStatus.ALLOCATED


def _order_status(order: Order, rows: list[OrderLine]) -> str:
    """What the lines add up to. Ready stays ready while every open unit is picked;
    work once started stays in progress."""
    open_units = sum(row.open_quantity for row in rows)
    fulfilled = sum(row.fulfilled_quantity for row in rows)
    if open_units == 0:
        if not fulfilled:
            return Status.CANCELLED
        return Status.COLLECTED if order.is_collected_by_customer else Status.SHIPPED
    if fulfilled:
        return Status.PARTIALLY_SHIPPED
    all_picked = all(row.unpicked_quantity == 0 for row in rows)
    if order.status == Status.READY and all_picked:
        return Status.READY
    if order.status in (Status.IN_PROGRESS, Status.READY) or any(
        row.picked_quantity for row in rows
    ):
        return Status.IN_PROGRESS
    return Status.ALLOCATED


def _change_status(
    order: Order,
    to_status: str,
    who: Who,
    now: datetime,
    *,
    kind: str,
    reason: str = "",
    detail: dict | None = None,
    digest: str = "",
    always: bool = False,
) -> None:
    """Record the event; when the status changes, the table must allow it."""
    from_status = order.status
    moved = to_status != from_status
    if moved and to_status not in Order.TRANSITIONS[from_status]:
        raise _refusal(order, to_status)
    if not (moved or always):
        return
    _event(
        order,
        kind,
        who,
        now,
        from_status=from_status if moved else "",
        to_status=to_status if moved else "",
        reason=reason,
        detail=detail,
        digest=digest,
    )
    if moved:
        order.status = to_status
        order.save(update_fields=["status", "updated_at"])
    order_changed.send(sender=Order, order=order, actor=who.actor)


def _event(
    order: Order,
    kind: str,
    who: Who,
    now: datetime,
    *,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    detail: dict | None = None,
    lines: Sequence[OrderLine] = (),
    digest: str = "",
) -> OrderEvent:
    if lines:
        detail = {
            "lines": [
                {
                    "line": row.pk,
                    "sku": row.sku.code,
                    "location": row.location.code,
                    "quantity": row.quantity,
                }
                for row in lines
            ]
        }
    keyed = digest and who.request_reference
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=who.actor,
        source=who.source,
        reason=reason[:500],
        detail=detail or {},
        request_reference=who.request_reference if keyed else "",
        request_digest=digest if keyed else "",
        at=now,
    )


def _replayed(order: Order, who: Who, request: dict) -> bool:
    """The same request reference again: True (answer as things stand). With another
    request behind it: 409."""
    if not who.request_reference:
        return False
    earlier = order.events.filter(request_reference=who.request_reference).first()
    if earlier is None:
        return False
    if earlier.request_digest != _digest(request):
        raise RequestReferenceClash(event_id=earlier.pk)
    return True


def _locked(order_id: int) -> Order:
    try:
        order = (
            Order.objects.select_for_update(no_key=True, of=("self",))
            .select_related("channel")
            .get(pk=order_id)
        )
    except Order.DoesNotExist as missing:
        raise NotFound(f"No order {order_id}.") from missing
    order_locked.send(sender=Order, order=order)
    return order


def _refusal(order: Order, to_status: str) -> OrderTransitionRefused:
    return OrderTransitionRefused(
        f"Order {order.reference!r} cannot become {to_status}: it is {order.status}; "
        "nothing was changed.",
        status=order.status,
        allowed=sorted(Order.TRANSITIONS[order.status]),
    )


def _entry(order: Order, line: OrderLine, move: str, sequence: int = 0) -> str:
    suffix = f"/{sequence}" if sequence else ""
    return f"#order/{order.pk}/{line.pk}/{move}{suffix}"


def _digest(value) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, default=str).encode()
    ).hexdigest()


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
    return _digest(
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
