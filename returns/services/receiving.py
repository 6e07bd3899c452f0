"""Returns arriving: announced by a channel before the parcel comes (``expected``,
its units incoming where it will arrive), received at a counter or warehouse into
quality control, with or without an announcement, and cancelled when an announced
return never comes.

Each function is one transaction; stock moves only through
``inventory.services.returns``.
"""

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Channel
from config import transitions
from config.access import Actor
from config.errors import Conflict, InvalidInput
from inventory.models import Location
from inventory.services.returns import (
    return_expect,
    return_expectation_close,
    return_receive,
)

from ..models import Return, ReturnEvent, ReturnLine
from .lines import (
    UNNAMED,
    Customer,
    Purchase,
    ReturnLineInput,
    checked_lines,
    lock_order,
    make_lines,
    open_return,
    reasons_of,
    units_of,
)
from .moves import ensure_may_move, locked, move

Status = Return.Status


class ReturnReferenceClash(Conflict):
    """The same return number with different contents: not a resend."""

    code = "return_reference_clash"


# ------------------------------------------------------------------ announcing


def return_announce(
    *,
    reference: str,
    purchase: Purchase,
    location: Location,
    lines: Sequence[ReturnLineInput],
    customer: Customer = UNNAMED,
    actor: Actor,
) -> tuple[Return, bool]:
    """A return a channel announces before the parcel arrives: ``expected``, its
    units incoming at ``location``. Returns it and whether it was created now (False:
    the same announcement again, answered as it stands; different contents under
    the same reference are refused)."""
    digest = _digest(reference, purchase, location, lines, customer)
    try:
        with transaction.atomic():
            # A twin announcement of the same order waits here, then finds ours.
            lock_order(purchase.order)
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


def _announce(reference, purchase, location, lines, customer, digest, actor: Actor):
    now = timezone.now()
    resolved = checked_lines(purchase, location, lines)
    found = open_return(
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
    made = make_lines(found, resolved, expected=True)
    return_expect(
        channel=purchase.channel,
        units=units_of(found, made, expected=True),
        actor=actor,
    )
    transitions.record_event(
        found,
        actor=actor,
        action="return_announce",
        at=now,
        to_status=Status.EXPECTED,
        kind=ReturnEvent.Kind.ANNOUNCED,
    )
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
    customer: Customer = UNNAMED,
    actor: Actor,
) -> Return:
    """Goods brought back to a store (or booked in at a warehouse) with no return
    announced: received at once, every unit in quality control."""
    now = timezone.now()
    resolved = checked_lines(purchase, location, lines)
    order = purchase.order
    if order is not None:
        customer = Customer(
            name=customer.name or order.customer_name,
            email=customer.email or order.customer_email,
        )
    received = open_return(
        purchase,
        location,
        customer,
        actor,
        now,
        reference=_counter_reference(location, now),
        status=Status.RECEIVED,
        source=Return.Source.COUNTER,
        received_by=actor.name,
        received_at=now,
    )
    made = make_lines(received, resolved, expected=False)
    return_receive(
        channel=purchase.channel,
        units=units_of(received, made, expected=False),
        actor=actor,
        reason=reasons_of(made),
    )
    transitions.record_event(
        received,
        actor=actor,
        action="return_receive_at_counter",
        at=now,
        to_status=Status.RECEIVED,
        kind=ReturnEvent.Kind.STATUS,
    )
    return received


@transaction.atomic
def return_receive_expected(
    *,
    return_id: int,
    quantities: dict[int, int],
    actor: Actor,
    location: Location | None = None,
) -> Return:
    """An announced return arrives: ``quantities`` says how many units of each line
    are on the counter (never more than announced; a line left out arrived empty).
    What was announced stops being incoming, whatever arrived. A customer may bring
    the parcel to another store than announced (``location``): it stops being
    expected where it was announced and is received where it is."""
    found = locked(return_id)
    ensure_may_move(found, Status.RECEIVED)
    announced_at = found.location
    if location is not None and location != announced_at:
        if not location.is_active:
            raise InvalidInput({"location": [f"{location.code} is closed."]})
        found.location = location
    lines = list(found.lines.select_related("sku"))
    _check_arrived(lines, quantities)
    for line in lines:
        line.quantity = quantities.get(line.pk, 0)
    ReturnLine.objects.bulk_update(lines, ["quantity"])
    arrived_lines = [line for line in lines if line.quantity]
    return_receive(
        channel=found.channel,
        units=units_of(found, arrived_lines, expected=False),
        expected=units_of(found, lines, expected=True, location=announced_at),
        actor=actor,
        reason=reasons_of(arrived_lines),
    )
    now = timezone.now()
    found.received_by, found.received_at = actor.name, now
    detail = _short_of_announced(lines)
    if found.location != announced_at:
        detail["announced_for"] = announced_at.code
    move(
        found,
        Status.RECEIVED,
        actor,
        action="return_receive",
        at=now,
        detail=detail,
        also=("location", "received_by", "received_at"),
    )
    return found


def _check_arrived(lines: list[ReturnLine], quantities: dict[int, int]) -> None:
    """Never more of a line than announced, only this return's lines, and at least
    one unit: or 400, nothing written."""
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


@transaction.atomic
def return_cancel(*, return_id: int, reason: str, actor: Actor) -> Return:
    """An announced return that will not come: no longer incoming, and its units may
    be returned again."""
    found = locked(return_id)
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why it is cancelled."]})
    ensure_may_move(found, Status.CANCELLED)
    return_expectation_close(
        channel=found.channel,
        units=units_of(found, list(found.lines.select_related("sku")), expected=True),
        actor=actor,
    )
    move(found, Status.CANCELLED, actor, action="return_cancel", note=reason.strip())
    return found


def _short_of_announced(lines: list[ReturnLine]) -> dict:
    missing: dict[str, int] = {}
    for line in lines:
        if line.quantity < line.expected_quantity:
            short = line.expected_quantity - line.quantity
            missing[line.sku.code] = missing.get(line.sku.code, 0) + short
    return {"missing": missing} if missing else {}


def _counter_reference(location: Location, now: datetime) -> str:
    return f"R-{location.code}-{now:%y%m%d}-{secrets.token_hex(3).upper()}"
