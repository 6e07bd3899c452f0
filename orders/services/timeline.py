"""What every change to a placed order shares: taking the order's lock, recording
the change on its timeline (one ``OrderEvent`` with who, from which system, when, why
and the service's ``action`` key), moving its status only as ``Order.TRANSITIONS``
allows, the request reference that makes a resent request change nothing, and the
references its ledger entries carry."""

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from config.access import Actor
from config.transitions import lock, move, record_event

from ..models import Order, OrderEvent, OrderLine
from ..signals import order_changed, order_locked
from .inputs import OrderTransitionRefused, RequestReferenceClash


def order_locked_for_change(order_id: int) -> Order:
    """The order, locked for the rest of the transaction; the apps that keep
    something for it lock theirs now (``order_locked``), before any stock moves."""
    order = lock(Order, order_id, related=("channel",))
    order_locked.send(sender=Order, order=order)
    return order


def order_event(
    order: Order,
    *,
    kind: str,
    actor: Actor,
    action: str,
    at: datetime,
    to_status: str = "",
    note: str = "",
    detail: dict | None = None,
    lines: Sequence[OrderLine] = (),
) -> OrderEvent:
    """An entry on the timeline that moves no status through the table (the first,
    ``placed``, only names where the order starts); ``lines`` are listed under
    ``"lines"`` beside the rest of the ``detail``."""
    if lines:
        detail = {**(detail or {}), "lines": [_line_shown(row) for row in lines]}
    return record_event(
        order,
        actor=actor,
        action=action,
        at=at,
        to_status=to_status,
        note=note,
        detail=detail,
        kind=kind,
    )


def order_status_record(
    order: Order,
    to_status: str,
    *,
    actor: Actor,
    kind: str,
    action: str,
    at: datetime,
    note: str = "",
    detail: dict | None = None,
    request: dict | None = None,
    always: bool = False,
) -> None:
    """The status the order now stands at: a change the table does not allow is
    refused, a change is recorded, and so is no change when ``always`` (lines moved,
    the order stays where it was). ``request`` is what the caller asked, kept for
    the day they send the same request reference again."""
    keyed = _keyed(actor, request)
    if to_status != order.status:
        move(
            order,
            to=to_status,
            actor=actor,
            action=action,
            at=at,
            note=note,
            detail=detail,
            error=OrderTransitionRefused,
            kind=kind,
            **keyed,
        )
    elif always:
        record_event(
            order,
            actor=actor,
            action=action,
            at=at,
            note=note,
            detail=detail,
            kind=kind,
            **keyed,
        )
    else:
        return
    order_changed.send(sender=Order, order=order, actor=actor)


def order_request_replayed(
    order: Order, actor: Actor, request: dict, *, words: str
) -> bool:
    """The same request reference again: True (answer as things stand). With another
    request behind it, another service's included: 409."""
    if not actor.request_reference:
        return False
    earlier = order.events.filter(request_reference=actor.request_reference).first()
    if earlier is None:
        return False
    # An event recorded before the action key existed was keyed by the words shown
    # ("cancelled", "ready"): a resend across that change is still a resend.
    asked = request if earlier.action else {**request, "action": words}
    if earlier.request_digest != digest_of(asked):
        raise RequestReferenceClash(event_id=earlier.pk)
    return True


def ledger_reference(
    order: Order, line: OrderLine, move: str, sequence: int = 0
) -> str:
    """The reference of a ledger entry for the order's line: the same request never
    posts the same units twice."""
    suffix = f"/{sequence}" if sequence else ""
    return f"#order/{order.pk}/{line.pk}/{move}{suffix}"


def digest_of(value) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, default=str).encode()
    ).hexdigest()


def _keyed(actor: Actor, request: dict | None) -> dict:
    if request is None or not actor.request_reference:
        return {}
    return {
        "request_reference": actor.request_reference,
        "request_digest": digest_of(request),
    }


def _line_shown(row: OrderLine) -> dict:
    return {
        "line": row.pk,
        "sku": row.sku.code,
        "location": row.location.code,
        "quantity": row.quantity,
    }
