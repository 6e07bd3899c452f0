"""Writes to returns: announced by a channel (expected, incoming where it will
arrive), received at a counter or warehouse into quality control, inspected unit by
unit and graded, closed; cancelled when an announced return never comes.

Each function is one transaction. Stock moves only through
``inventory.services.returns``; every change of status is allowed by
``Return.TRANSITIONS`` and recorded as a ReturnEvent with who and when. A return of
an order locks the order first, so two returns of the same line cannot both take
its last returnable unit.

What may come back: of an order line, the units fulfilled (shipped or collected)
less those already on other returns, announced or received; a cancelled return
gives its units back. A till purchase is not known line by line here (the till
sends stock events, not receipts), so its return is taken as the counter states it.
"""

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Channel, Sku
from config.errors import Conflict, InvalidInput, NotFound
from inventory.models import Location
from inventory.movements import MAX_MOVEMENT_QUANTITY
from inventory.services.returns import (
    ReturnUnits,
    return_expect,
    return_expectation_close,
    return_grade,
    return_receive,
)
from orders.models import Order, OrderLine
from reconciliation.models import ExceptionKind
from reconciliation.services import Raised, exception_raise, exception_settle

from .models import Return, ReturnEvent, ReturnInspection, ReturnLine, ReturnReason
from .selectors import returnable_quantities

Status = Return.Status
Grade = ReturnInspection.Grade
SYSTEM = "system:returns"


class ReturnTransitionRefused(Conflict):
    code = "return_transition_refused"


class ReturnReferenceClash(Conflict):
    """The same return number with different contents: not a resend."""

    code = "return_reference_clash"


@dataclass(frozen=True)
class ReturnLineInput:
    """Units of one SKU coming back. ``order_line`` pins them to a line of the order
    (the counter screen); without it they are matched to the order's lines of that
    SKU, oldest first."""

    sku: Sku
    quantity: int
    reason: str
    reason_text: str = ""
    order_line: OrderLine | None = None


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


# ------------------------------------------------------------------ announcing


def return_announce(
    *,
    reference: str,
    purchase: Purchase,
    location: Location,
    lines: Sequence[ReturnLineInput],
    customer: Customer = Customer(),
    actor: str,
) -> tuple[Return, bool]:
    """A return a channel announces before the parcel arrives: ``expected``, its
    units incoming at ``location``. Returns it and whether it was created now (False:
    the same announcement again, answered as it stands; different contents under
    the same reference are refused)."""
    digest = _digest(reference, purchase, location, lines, customer)
    try:
        with transaction.atomic():
            # A twin announcement of the same order waits here, then finds ours.
            _lock_order(purchase.order)
            existing = _announced(purchase.channel, reference, digest)
            if existing is not None:
                return existing, False
            return _announce(
                reference, purchase, location, lines, customer, digest, actor
            ), True
    except IntegrityError:
        # A twin announcement was written a moment ago: answer as for a resend.
        existing = _announced(purchase.channel, reference, digest)
        if existing is None:
            raise
        return existing, False


def _announce(reference, purchase, location, lines, customer, digest, actor):
    now = timezone.now()
    resolved = _checked_lines(purchase, location, lines)
    found = _open(
        purchase,
        location,
        customer,
        actor,
        now,
        reference=reference,
        status=Status.EXPECTED,
        source=Return.Source.ANNOUNCED,
        payload_digest=digest,
    )
    made = _make_lines(found, resolved, expected=True)
    return_expect(
        channel=purchase.channel, units=_units(found, made, expected=True), actor=actor
    )
    _event(found, ReturnEvent.Kind.ANNOUNCED, actor, to_status=Status.EXPECTED, at=now)
    return found


def _announced(channel: Channel, reference: str, digest: str) -> Return | None:
    found = Return.objects.filter(channel=channel, reference=reference).first()
    if found is not None and found.payload_digest != digest:
        raise ReturnReferenceClash(
            f"Return {reference!r} was announced with other contents.",
            return_id=found.pk,
        )
    return found


def _digest(reference, purchase, location, lines, customer) -> str:
    body = {
        "reference": reference,
        "order": purchase.order.pk if purchase.order else None,
        "till_receipt": purchase.till_receipt,
        "location": location.pk,
        "customer": [customer.name, customer.email],
        "lines": [
            [line.sku.pk, line.quantity, line.reason, line.reason_text]
            for line in lines
        ],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------ receiving


@transaction.atomic
def return_receive_at_counter(
    *,
    purchase: Purchase,
    location: Location,
    lines: Sequence[ReturnLineInput],
    customer: Customer = Customer(),
    actor: str,
) -> Return:
    """Goods brought back to a store (or booked in at a warehouse) with no return
    announced: received at once, every unit in quality control."""
    now = timezone.now()
    resolved = _checked_lines(purchase, location, lines)
    order = purchase.order
    if order is not None:
        customer = Customer(
            name=customer.name or order.customer_name,
            email=customer.email or order.customer_email,
        )
    received = _open(
        purchase,
        location,
        customer,
        actor,
        now,
        reference=_counter_reference(location, now),
        status=Status.RECEIVED,
        source=Return.Source.COUNTER,
        received_by=actor,
        received_at=now,
    )
    made = _make_lines(received, resolved, expected=False)
    return_receive(
        channel=purchase.channel,
        units=_units(received, made, expected=False),
        actor=actor,
        reason=_reasons(made),
    )
    _event(received, ReturnEvent.Kind.STATUS, actor, to_status=Status.RECEIVED, at=now)
    return received


@transaction.atomic
def return_receive_expected(
    *,
    return_id: int,
    quantities: dict[int, int],
    actor: str,
    location: Location | None = None,
) -> Return:
    """An announced return arrives: ``quantities`` says how many units of each line
    are on the counter (never more than announced; a line left out arrived empty).
    What was announced stops being incoming, whatever arrived. A customer may bring
    the parcel to another store than announced (``location``): it stops being
    expected where it was announced and is received where it is."""
    found = _locked(return_id)
    _ensure_may_move(found, Status.RECEIVED)
    announced_at = found.location
    if location is not None and location != announced_at:
        if not location.is_active:
            raise InvalidInput({"location": [f"{location.code} is closed."]})
        found.location = location
    lines = list(found.lines.select_related("sku"))
    errors = {}
    for line in lines:
        arrived = quantities.get(line.pk, 0)
        if not 0 <= arrived <= line.expected_quantity:
            errors[f"line-{line.pk}"] = [
                f"{line.sku.code}: between 0 and {line.expected_quantity} announced."
            ]
    unknown = set(quantities) - {line.pk for line in lines}
    if unknown:
        errors["lines"] = ["Those lines are not on this return."]
    if not errors and not any(quantities.get(line.pk, 0) for line in lines):
        errors["lines"] = [
            "Nothing arrived? Enter at least one unit; a return that will not come "
            "is cancelled by the channel that announced it."
        ]
    if errors:
        raise InvalidInput(errors)
    for line in lines:
        line.quantity = quantities.get(line.pk, 0)
    ReturnLine.objects.bulk_update(lines, ["quantity"])
    arrived_lines = [line for line in lines if line.quantity]
    return_receive(
        channel=found.channel,
        units=_units(found, arrived_lines, expected=False),
        expected=_units(found, lines, expected=True, location=announced_at),
        actor=actor,
        reason=_reasons(arrived_lines),
    )
    now = timezone.now()
    found.received_by, found.received_at = actor, now
    detail = _short_of_announced(lines)
    if found.location != announced_at:
        detail["announced_for"] = announced_at.code
    _move(found, Status.RECEIVED, actor, at=now, detail=detail)
    return found


@transaction.atomic
def return_cancel(*, return_id: int, reason: str, actor: str) -> Return:
    """An announced return that will not come: no longer incoming, and its units may
    be returned again."""
    found = _locked(return_id)
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why it is cancelled."]})
    _ensure_may_move(found, Status.CANCELLED)
    return_expectation_close(
        channel=found.channel,
        units=_units(found, list(found.lines.select_related("sku")), expected=True),
        actor=actor,
    )
    _move(found, Status.CANCELLED, actor, note=reason.strip())
    return found


# ------------------------------------------------------------------ inspection


@transaction.atomic
def return_inspection_start(*, return_id: int, actor: str) -> Return:
    """Someone has the return on the bench: colleagues see who."""
    found = _locked(return_id)
    _ensure_may_move(found, Status.INSPECTING)
    _move(found, Status.INSPECTING, actor)
    return found


@transaction.atomic
def return_line_grade(
    *,
    return_id: int,
    line_id: int,
    grade: str,
    quantity: int,
    actor: str,
    staff=None,
    shelf_location: str = "",
    condition: str = "",
    note: str = "",
) -> ReturnInspection:
    """Units of a line given a grade. A resellable unit becomes available only here,
    with the shelf it was put on; the others leave availability for good (damaged)
    or leave stock (returned to the vendor, destroyed)."""
    found = _locked(return_id)
    line = found.lines.select_related("sku").filter(pk=line_id).first()
    if line is None:
        raise NotFound("No such line on this return.")
    if found.status not in Return.AWAITING_GRADE:
        raise ReturnTransitionRefused(
            f"Return {found.reference} is {found.get_status_display().lower()}: "
            "there is nothing to grade."
        )
    errors: dict[str, list[str]] = {}
    if grade not in Grade.values:
        errors["grade"] = ["Choose a grade."]
    if not 1 <= quantity <= line.to_grade:
        errors["quantity"] = [
            f"Between 1 and {line.to_grade}: the units of {line.sku.code} not yet "
            "graded."
            if line.to_grade
            else f"Every unit of {line.sku.code} is graded already."
        ]
    shelf_location, condition = shelf_location.strip(), condition.strip()
    if grade == Grade.RESELLABLE and not shelf_location:
        errors["shelf_location"] = [
            "Say where you put it (shelf or bin): it is sellable from there."
        ]
    if len(shelf_location) > 100:
        errors["shelf_location"] = ["At most 100 characters."]
    if len(condition) > 300 or len(note) > 500:
        errors["condition"] = ["Condition at most 300 characters, note at most 500."]
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    if found.status == Status.RECEIVED:
        _move(found, Status.INSPECTING, actor, at=now)
    inspection = ReturnInspection.objects.create(
        line=line,
        grade=grade,
        quantity=quantity,
        shelf_location=shelf_location if grade == Grade.RESELLABLE else "",
        condition=condition,
        note=note.strip(),
        graded_by=staff,
        actor=actor,
        graded_at=now,
    )
    return_grade(
        channel=found.channel,
        units=ReturnUnits(
            reference=f"#return/{found.pk}/inspection/{inspection.pk}",
            sku=line.sku,
            location=found.location,
            quantity=quantity,
        ),
        grade=grade,
        reason=f"Return {found.reference}: {Grade(grade).label}",
        actor=actor,
    )
    line.graded_quantity += quantity
    line.save(update_fields=["graded_quantity"])
    _event(
        found,
        ReturnEvent.Kind.GRADED,
        actor,
        at=now,
        note=note.strip(),
        detail={"sku": line.sku.code, "grade": grade, "quantity": quantity}
        | ({"shelf_location": shelf_location} if grade == Grade.RESELLABLE else {}),
    )
    if not found.lines.filter(graded_quantity__lt=F("quantity")).exists():
        found.graded_at = now
        _move(found, Status.GRADED, actor, at=now)
    return inspection


@transaction.atomic
def return_close(*, return_id: int, actor: str, note: str = "") -> Return:
    """Every unit graded and the customer refunded or exchanged: done."""
    found = _locked(return_id)
    _ensure_may_move(found, Status.CLOSED)
    found.closed_at = timezone.now()
    _move(found, Status.CLOSED, actor, at=found.closed_at, note=note.strip())
    return found


def returns_flag_overdue(*, now: datetime | None = None) -> int:
    """Returns waiting for inspection longer than ``RETURNS_INSPECTION_TARGET_HOURS``
    are flagged for the manager, once each; returns how many were flagged now."""
    now = now or timezone.now()
    waited_since = now - timedelta(hours=settings.RETURNS_INSPECTION_TARGET_HOURS)
    flagged = 0
    waiting = Return.objects.filter(
        status__in=Return.AWAITING_GRADE,
        received_at__lte=waited_since,
        overdue_since__isnull=True,
    ).values_list("pk", flat=True)
    for return_id in list(waiting):
        with transaction.atomic():
            found = _locked(return_id)
            if found.status not in Return.AWAITING_GRADE or found.overdue_since:
                continue
            found.overdue_since = now
            found.save(update_fields=["overdue_since", "updated_at"])
            hours = settings.RETURNS_INSPECTION_TARGET_HOURS
            _event(
                found,
                ReturnEvent.Kind.OVERDUE,
                SYSTEM,
                at=now,
                note=f"Waiting for inspection longer than {hours} h.",
            )
            _raise_overdue(found, hours)
            flagged += 1
    return flagged


# ------------------------------------------------------------------ the rules


def _checked_lines(
    purchase: Purchase, location: Location, lines: Sequence[ReturnLineInput]
) -> list[tuple[ReturnLineInput, OrderLine | None, int]]:
    """Each input line with the order line it returns and how many units, or 400
    with a message per line and nothing written."""
    errors: dict[str, list] = {}
    order = purchase.order
    if order is not None:
        order = _lock_order(order)
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
    resolved = []
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
        elif order is not None and not errors.get("order"):
            taken, refusal = _on_order(order, line, claimed)
            if refusal:
                problem["quantity"] = [refusal]
            for order_line, units in taken:
                claimed[order_line.pk] = claimed.get(order_line.pk, 0) + units
            resolved.extend((line, order_line, units) for order_line, units in taken)
        else:
            resolved.append((line, None, line.quantity))
        line_errors.append(problem)
    if any(line_errors):
        errors["lines"] = line_errors
    if errors:
        raise InvalidInput(errors)
    return resolved


def _lock_order(order: Order | None) -> Order | None:
    """Serialises every return of one order: the returnable cap holds under races."""
    if order is None:
        return None
    return Order.objects.select_for_update(no_key=True).get(pk=order.pk)


def _on_order(
    order: Order, line: ReturnLineInput, claimed: dict[int, int]
) -> tuple[list, str]:
    """The order lines the units come off, or why they cannot; ``claimed`` holds
    what earlier lines of the same return take."""
    if line.order_line is not None:
        candidates = [line.order_line] if line.order_line.order_id == order.pk else []
    else:
        candidates = list(order.lines.filter(sku=line.sku).order_by("id"))
    if not candidates:
        return [], f"{line.sku.code} is not on order {order.reference}."
    taken, wanted = [], line.quantity
    returnable = returnable_quantities(candidates)
    for order_line in candidates:
        room = returnable[order_line.pk] - claimed.get(order_line.pk, 0)
        units = min(wanted, max(room, 0))
        if units:
            taken.append((order_line, units))
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


def _open(purchase, location, customer, actor, now, **rest) -> Return:
    return Return.objects.create(
        channel=purchase.channel,
        order=purchase.order,
        till_receipt=purchase.till_receipt,
        location=location,
        customer_name=customer.name,
        customer_email=customer.email,
        created_by=actor,
        created_at=now,
        **rest,
    )


def _make_lines(found: Return, resolved, *, expected: bool) -> list[ReturnLine]:
    return ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                customer_return=found,
                order_line=order_line,
                sku=line.sku,
                expected_quantity=units if expected else 0,
                quantity=0 if expected else units,
                reason=line.reason,
                reason_text=line.reason_text.strip()[:300],
            )
            for line, order_line, units in resolved
        ]
    )


def _units(
    found: Return, lines, *, expected: bool, location: Location | None = None
) -> list[ReturnUnits]:
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


def _reasons(lines) -> str:
    return ", ".join(sorted({ReturnReason(line.reason).label for line in lines}))


def _short_of_announced(lines: list[ReturnLine]) -> dict:
    missing: dict[str, int] = {}
    for line in lines:
        if line.quantity < line.expected_quantity:
            short = line.expected_quantity - line.quantity
            missing[line.sku.code] = missing.get(line.sku.code, 0) + short
    return {"missing": missing} if missing else {}


def _counter_reference(location: Location, now: datetime) -> str:
    return f"R-{location.code}-{now:%y%m%d}-{secrets.token_hex(3).upper()}"


def _locked(return_id: int) -> Return:
    found = Return.objects.select_for_update(no_key=True).filter(pk=return_id).first()
    if found is None:
        raise NotFound("No such return.")
    return found


def _ensure_may_move(found: Return, to_status: str) -> None:
    if to_status not in Return.TRANSITIONS[found.status]:
        raise ReturnTransitionRefused(
            f"Return {found.reference} is {found.get_status_display().lower()}; "
            f"it cannot become {Status(to_status).label.split(':')[0].lower()}.",
            status=found.status,
        )


def _move(
    found: Return,
    to_status: str,
    actor: str,
    *,
    at: datetime | None = None,
    note: str = "",
    detail: dict | None = None,
) -> None:
    _ensure_may_move(found, to_status)
    at = at or timezone.now()
    from_status, found.status = found.status, to_status
    found.save()
    if to_status not in Return.AWAITING_GRADE:
        exception_settle(
            key=_overdue_key(found),
            note=f"The return is {found.get_status_display().lower()}.",
            actor=actor,
        )
    _event(
        found,
        ReturnEvent.Kind.STATUS,
        actor,
        from_status=from_status,
        to_status=to_status,
        at=at,
        note=note,
        detail=detail,
    )


def _overdue_key(found: Return) -> str:
    return f"return:{found.pk}"


def _raise_overdue(found: Return, hours: int) -> None:
    units = sum(line.to_grade for line in found.lines.all())
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.RETURN_OVERDUE,
            key=_overdue_key(found),
            title=f"Return {found.reference} at {found.location.code}: "
            f"{units} unit(s) waiting for inspection over {hours} h",
            detail="Received but not graded: these units are on hand and cannot be "
            "sold until someone inspects them. Settles when the return is graded.",
            location=found.location,
            link=f"/store/returns/{found.pk}/",
            facts={"reference": found.reference, "units": units},
        ),
        actor=SYSTEM,
    )


def _event(
    found: Return,
    kind: str,
    actor: str,
    *,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    detail: dict | None = None,
) -> ReturnEvent:
    return ReturnEvent.objects.create(
        customer_return=found,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        note=note[:500],
        detail=detail or {},
        at=at,
    )
