"""Placing an order: checked for what a serializer cannot see, answered as it stands
when the same order comes again, each line given the location that fulfils it (the
checkout's hold, the pickup store, the channel's choice, or routed on fresh
figures), then every unit committed or none, in one transaction, with the first
entries of its timeline (placed, routed, allocated). A kit line is planned whole at
one location and written as its component lines (``kits``)."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.kits import Part
from catalog.models import Channel
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

from ..models import COLLECTED_METHODS, Method, Order, OrderEvent, OrderLine
from ..signals import order_placed
from . import kits, preorders
from .inputs import (
    Customer,
    Delivery,
    OrderLineInput,
    OrderReferenceClash,
    ReservationAlreadyOrdered,
)
from .planning import Plan, plan_lines, stores_that_can_fill
from .timeline import digest_of, ledger_reference, order_event, order_status_record

Status = Order.Status
Kind = OrderEvent.Kind
ACTION = "order_place"
# A routed order whose chosen location sold out between the snapshot and the commit
# is routed again on fresh figures, this many times in all.
ROUTING_ATTEMPTS = 3
ORDER_LINE = SupplyPromise.Owner.ORDER_LINE
# A pickup, or an order the channel gave no address for.
NOT_DELIVERED = Delivery()


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
    # The kits as they stand now: every attempt places them so.
    parts = kits.parts_of(lines)
    _check_order(
        channel=channel,
        method=method,
        lines=lines,
        parts=parts,
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
                parts=parts,
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
                short.extra["nearest_stores"] = stores_that_can_fill(
                    channel, lines, parts, pickup_location
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
    parts: dict[int, list[Part]],
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
    line_errors = _line_errors(lines, parts, collected, pickup_location)
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
    lines: Sequence[OrderLineInput],
    parts: dict[int, list[Part]],
    collected: bool,
    pickup: Location | None,
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
        elif kit_problem := kits.kit_line_errors(line, parts):
            problem["sku"] = kit_problem
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
    parts: dict[int, list[Part]],
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
    plan = plan_lines(order, lines, parts, delivery, now)
    order.routing = plan.routing
    if method in COLLECTED_METHODS and promised_by is None:
        # The customer is told when to come: the store's cut-off and preparation
        # time decide it, unless the channel already promised a time.
        order.promised_by = pickup_ready_by(
            location=pickup_location or _first_location(plan), placed_at=now
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
    kit_lines, components = kits.kit_lines_create(order, plan.kits)
    rows += components
    order_event(
        order,
        kind=Kind.PLACED,
        actor=actor,
        action=ACTION,
        at=now,
        to_status=Status.PLACED,
        lines=rows,
        detail={"kits": kits.kits_shown(kit_lines, components)} if kit_lines else None,
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
        _commit(
            order,
            rows,
            _future_allowed(channel, lines, parts, plan, len(rows)),
            plan,
            actor=actor,
            at=now,
        )
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


def _commit(
    order: Order,
    rows: list[OrderLine],
    allowed: list[bool],
    plan: Plan,
    *,
    actor: Actor,
    at: datetime,
) -> None:
    """Every row's units committed in one batch, or none; a row ``allowed`` a
    pre-order promises against supply what the shelf cannot cover."""
    commitments = {
        ledger_reference(order, row, MovementType.COMMIT): (row, future)
        for row, future in zip(rows, allowed, strict=True)
    }
    batch = [
        CommitmentLine(
            reference=reference,
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
        for reference, (row, future) in commitments.items()
    ]
    # Each SKU and location's units in ascending quantity: a refusal then says what
    # the one check of them all was (kits.shortages_checked_together).
    batch.sort(key=lambda line: (line.sku.pk, line.location.pk, line.quantity))
    channel = order.channel
    try:
        if not any(allowed):
            commitments_place(channel=channel, lines=batch, actor=actor)
            return
        futures = commitments_place_or_promise(
            channel=channel, lines=batch, actor=actor
        )
    except InsufficientStock as short:
        if not plan.kits:
            raise  # one line per SKU and location: the ledger's shortages say it
        short.extra["shortages"] = kits.shortages_checked_together(
            short.extra.get("shortages", []),
            batch,
            {
                reference: row.kit_line.sku.code
                for reference, (row, _) in commitments.items()
                if row.kit_line is not None
            },
        )
        raise
    preorders.lines_promised(
        order=order,
        rows=rows,
        futures={
            commitments[reference][0].pk: promise
            for reference, promise in futures.items()
        },
        actor=actor,
        at=at,
    )


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
    channel: Channel,
    lines: Sequence[OrderLineInput],
    parts: dict[int, list[Part]],
    plan: Plan,
    rows: int,
) -> list[bool]:
    """Per order line (the plain ones first, then the kits' components), whether
    what the shelf cannot cover may be promised against dated supply: the line's
    ``allow_future``, else the channel's default. A routed order is planned on the
    shelf only (its lines are the routing's, not the channel's); a kit always is."""
    if plan.routing.get("strategy") not in ("pickup", "chosen_by_channel"):
        return [False] * rows
    plain = [
        channel.allow_future_by_default
        if line.allow_future is None
        else line.allow_future
        for line in lines
        if line.sku.pk not in parts
    ]
    return plain + [False] * (rows - len(plain))


def _first_location(plan: Plan) -> Location:
    return plan.lines[0][1] if plan.lines else plan.kits[0].location


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
