"""What may come back, and the records a return is made of.

Of an order line, the units fulfilled (shipped or collected) less those already on
other returns, announced or received; a cancelled return gives its units back. A
till purchase is not known line by line here (the till sends stock events, not
receipts), so its return is taken as the counter states it. Every return of an
order locks the order first, so two returns of the same line cannot both take its
last returnable unit.

A line naming a kit comes back as its components (``kits``). A line of an order's
kit component, however it was named, records the kit it was sold in.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F

from catalog.models import Channel, Sku
from config.access import Actor
from config.errors import InvalidInput
from inventory.models import Location
from inventory.movements import MAX_MOVEMENT_QUANTITY
from inventory.services.returns import ReturnUnits
from orders.models import Order, OrderLine

from ..models import Return, ReturnLine, ReturnReason
from ..selectors import returnable_quantities
from .kits import kit_taken, kits_named


@dataclass(frozen=True)
class ReturnLineInput:
    """Units of one SKU coming back. ``order_line`` pins them to a line of the order
    (the counter screen); without it they are matched to the order's lines of that
    SKU, the lines sold alone first, then the kits' (oldest first). A kit's code
    means that many kits: one line per component (``kit``: the kit it came in)."""

    sku: Sku
    quantity: int
    reason: str
    reason_text: str = ""
    order_line: OrderLine | None = None
    kit: Sku | None = None


@dataclass(frozen=True)
class Purchase:
    """What the goods were bought with: an order (any channel), or a till receipt
    with the till's channel."""

    channel: Channel
    order: Order | None = None
    till_receipt: str = ""


@dataclass(frozen=True)
class Customer:
    name: str = ""
    email: str = ""


# A return nobody gave a name or email for (a till's, most often).
UNNAMED = Customer()


Resolved = list[tuple[ReturnLineInput, OrderLine | None, int]]


def checked_lines(
    purchase: Purchase, location: Location, lines: Sequence[ReturnLineInput]
) -> Resolved:
    """Each input line with the order line it returns and how many units, or 400
    with a message per line and nothing written."""
    errors: dict[str, list] = {}
    order = purchase.order
    if order is not None:
        order = lock_order(order)
        if order.channel_id != purchase.channel.pk:
            errors["order"] = ["That order was placed through another channel."]
    elif not purchase.till_receipt.strip():
        errors["order"] = ["Give the order, or the till receipt for a store sale."]
    elif purchase.channel.kind != Channel.Kind.STORE_POS:
        # Only a till's sale is known by its receipt; anything else names its order.
        errors["till_receipt"] = [
            f"{purchase.channel.code} is not a till: give the order it was bought on."
        ]
    if not location.is_active:
        errors["location"] = [f"{location.code} is closed."]
    if not lines:
        errors["lines"] = ["Choose at least one item coming back."]
    line_errors: list[dict] = []
    resolved: Resolved = []
    kits = kits_named(lines, None if errors.get("order") else order)
    # Units this request already takes from each order line: two lines of the same
    # SKU must not both claim the same unit.
    claimed: dict[int, int] = {}
    for line in lines:
        problem: dict[str, list[str]] = {}
        if line.reason not in ReturnReason.values:
            problem["reason"] = ["Choose a reason."]
        elif line.reason == ReturnReason.OTHER and not line.reason_text.strip():
            problem["reason_text"] = ["Say what the reason is."]
        if line.quantity < 1:
            problem["quantity"] = ["At least 1."]
        elif line.quantity > MAX_MOVEMENT_QUANTITY:
            problem["quantity"] = [f"At most {MAX_MOVEMENT_QUANTITY:,}."]
        else:
            of_order = order if order is not None and not errors.get("order") else None
            if line.sku.pk in kits:
                taken, refusal = kit_taken(of_order, line, kits[line.sku.pk], claimed)
            elif of_order is not None:
                taken, refusal = _on_order(of_order, line, claimed)
            else:
                taken, refusal = [(line, None, line.quantity)], ""
            if refusal:
                problem["quantity"] = [refusal]
            for _, order_line, units in taken:
                if order_line is not None:
                    claimed[order_line.pk] = claimed.get(order_line.pk, 0) + units
            resolved.extend(taken)
        line_errors.append(problem)
    if any(line_errors):
        errors["lines"] = line_errors
    if errors:
        raise InvalidInput(errors)
    return resolved


def lock_order(order: Order | None) -> Order | None:
    """Serialises every return of one order: the returnable cap holds under races."""
    if order is None:
        return None
    return Order.objects.select_for_update(no_key=True).get(pk=order.pk)


def _on_order(
    order: Order, line: ReturnLineInput, claimed: dict[int, int]
) -> tuple[Resolved, str]:
    """The order lines the units come off, or why they cannot; ``claimed`` holds
    what earlier lines of the same return take. A unit brought back alone comes off
    a line that sold it alone before a kit's: the kits stay whole as long as they
    can."""
    if line.order_line is not None:
        candidates = [line.order_line] if line.order_line.order_id == order.pk else []
    else:
        candidates = list(
            order.lines.filter(sku=line.sku)
            .select_related("kit_line")
            .order_by(F("kit_line_id").asc(nulls_first=True), "id")
        )
    if not candidates:
        return [], f"{line.sku.code} is not on order {order.reference}."
    taken, wanted = [], line.quantity
    returnable = returnable_quantities(candidates)
    for order_line in candidates:
        room = returnable[order_line.pk] - claimed.get(order_line.pk, 0)
        units = min(wanted, max(room, 0))
        if units:
            taken.append((line, order_line, units))
            wanted -= units
    if wanted:
        left = line.quantity - wanted
        bought = sum(candidate.fulfilled_quantity for candidate in candidates)
        if not bought:
            return [], (
                f"No unit of {line.sku.code} on order {order.reference} has been "
                "delivered yet: cancel it instead."
            )
        return [], (
            f"Only {left} of {line.sku.code} can come back: {bought} bought on order "
            f"{order.reference}, the rest already returned or announced."
        )
    return taken, ""


def open_return(
    purchase: Purchase,
    location: Location,
    customer: Customer,
    actor: Actor,
    now: datetime,
    **rest,
) -> Return:
    return Return.objects.create(
        channel=purchase.channel,
        order=purchase.order,
        till_receipt=purchase.till_receipt,
        location=location,
        customer_name=customer.name,
        customer_email=customer.email,
        created_by=actor.name,
        created_at=now,
        **rest,
    )


def make_lines(
    found: Return, resolved: Resolved, *, expected: bool
) -> list[ReturnLine]:
    return ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                customer_return=found,
                order_line=order_line,
                sku=line.sku,
                kit_id=_kit_of(line, order_line),
                expected_quantity=units if expected else 0,
                quantity=0 if expected else units,
                reason=line.reason,
                reason_text=line.reason_text.strip()[:300],
            )
            for line, order_line, units in resolved
        ]
    )


def _kit_of(line: ReturnLineInput, order_line: OrderLine | None) -> int | None:
    """The kit the units came in: the one named, or the one the order sold them
    in (a part of a kit brought back alone says so too)."""
    if line.kit is not None:
        return line.kit.pk
    if order_line is not None and order_line.kit_line_id is not None:
        return order_line.kit_line.sku_id
    return None


def units_of(
    found: Return, lines, *, expected: bool, location: Location | None = None
) -> list[ReturnUnits]:
    """The lines' units as the stock services take them: what was announced, or
    what arrived."""
    return [
        ReturnUnits(
            reference=f"#return/{found.pk}/line/{line.pk}",
            sku=line.sku,
            location=location or found.location,
            quantity=line.expected_quantity if expected else line.quantity,
        )
        for line in lines
        if (line.expected_quantity if expected else line.quantity)
    ]


def reasons_of(lines) -> str:
    return ", ".join(sorted({ReturnReason(line.reason).label for line in lines}))
