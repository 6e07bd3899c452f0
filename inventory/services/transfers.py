"""Units asked for from another location, for an order that needs them here: the
request commits them at the source (so the source cannot sell them twice), dispatch
releases that commitment and puts them in transit, receipt puts them on hand here.

Each step is one transaction under the request's row lock (``config.transitions``):
the units move in the ledger, then the request moves on its table
(``TransferRequest.TRANSITIONS``) and records the step on its timeline
(``TransferRequest.events``: who, when, why) and in its ``<step>_by`` and
``<step>_at``. The same step twice changes nothing the second time (its ledger
references are the request's own).
"""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from catalog.models import Channel, Sku
from config.access import Actor
from config.errors import InvalidInput
from config.transitions import TransitionRefused, check, lock, move, record_event

from ..locking import balances_lock
from ..models import Location, MovementType, TransferRequest
from .commitments import CommitmentLine, commitments_move, commitments_place
from .ledger import MovementInput, movements_record

Status = TransferRequest.Status


class TransferTransitionRefused(TransitionRefused):
    code = "transfer_transition_refused"


# Each step: its key on the timeline, and the request's fields that stamp who took
# it and when (``<step>_by``, ``<step>_at``).
ACTIONS = {
    Status.REQUESTED: "transfer_request",
    Status.DISPATCHED: "transfer_dispatch",
    Status.RECEIVED: "transfer_receive",
    Status.CANCELLED: "transfer_cancel",
}
STAMPED = {
    Status.DISPATCHED: "dispatched",
    Status.RECEIVED: "received",
    Status.CANCELLED: "cancelled",
}


@transaction.atomic
def transfer_request(
    *,
    sku: Sku,
    quantity: int,
    from_location: Location,
    to_location: Location,
    channel: Channel,
    reason: str,
    actor: Actor,
    held_for_customer: bool = False,
) -> TransferRequest:
    """Ask ``from_location`` for units: refused with ``insufficient_stock`` (and
    nothing written) when it cannot spare them beyond its walk-in units, the
    channel's buffer and the other channels' protections.

    ``held_for_customer``: the units are committed to a customer at the source
    already and were released from their order in this transaction (their pickup
    store changed, and the store they left sends what it held for them). They are
    handed over to the transfer as they are: no walk-in units, buffer or protection
    is kept back of them, so the source's committed units are the same before and
    after (``CommitmentLine.held_for_customer``)."""
    if from_location.pk == to_location.pk:
        raise InvalidInput({"from_location": ["Choose another location than this."]})
    if quantity < 1:
        raise InvalidInput({"quantity": ["Ask for at least one unit."]})
    now = timezone.now()
    transfer = TransferRequest.objects.create(
        sku=sku,
        quantity=quantity,
        from_location=from_location,
        to_location=to_location,
        channel=channel,
        reason=reason[:300],
        requested_by=actor.name,
        requested_at=now,
    )
    commitments_place(
        channel=channel,
        lines=[
            _line(
                transfer,
                "commit",
                walk_in_buffer=from_location.walk_in_buffer,
                held_for_customer=held_for_customer,
            )
        ],
        actor=actor,
    )
    record_event(
        transfer,
        actor=actor,
        action=ACTIONS[Status.REQUESTED],
        to_status=Status.REQUESTED,
        note=transfer.reason,
        at=now,
    )
    return transfer


def transfer_dispatch(
    *, transfer_id: int, actor: Actor, note: str = ""
) -> TransferRequest:
    """The units left the source: no longer committed there, in transit here."""

    def units(transfer: TransferRequest) -> None:
        _release(transfer, actor)
        _record(transfer, MovementType.TRANSFER_OUT, actor)

    return _step(transfer_id, Status.DISPATCHED, actor, note, units)


def transfer_receive(
    *, transfer_id: int, actor: Actor, note: str = ""
) -> TransferRequest:
    """The units arrived: on hand at the destination."""
    return _step(
        transfer_id,
        Status.RECEIVED,
        actor,
        note,
        lambda transfer: _record(transfer, MovementType.TRANSFER_IN, actor),
    )


def transfer_cancel(
    *, transfer_id: int, actor: Actor, note: str = ""
) -> TransferRequest:
    """Not needed after all, before it left: the source may sell the units again."""
    return _step(
        transfer_id,
        Status.CANCELLED,
        actor,
        note,
        lambda transfer: _release(transfer, actor),
    )


@transaction.atomic
def _step(
    transfer_id: int,
    to_status: str,
    actor: Actor,
    note: str,
    units: Callable[[TransferRequest], None],
) -> TransferRequest:
    """One step under the request's row lock: the same step again changes nothing;
    a step the table does not allow is refused and moves nothing."""
    transfer = lock(
        TransferRequest,
        transfer_id,
        related=("sku", "from_location", "to_location", "channel"),
        missing=f"No transfer request {transfer_id}.",
    )
    if transfer.status == to_status:
        return transfer
    refused = (
        f"Transfer {transfer.pk} cannot become {to_status}: it is "
        f"{transfer.status}; nothing was changed."
    )
    check(transfer, to_status, error=TransferTransitionRefused, message=refused)
    # Both ends' balances at once, in the one order (inventory.locking): a dispatch
    # posts twice (the release, then the move), and must not take them one by one.
    balances_lock(
        keys=[
            (transfer.sku_id, transfer.from_location_id),
            (transfer.sku_id, transfer.to_location_id),
        ]
    )
    units(transfer)
    stamp = STAMPED[to_status]
    now = timezone.now()
    setattr(transfer, f"{stamp}_by", actor.name)
    setattr(transfer, f"{stamp}_at", now)
    move(
        transfer,
        to=to_status,
        actor=actor,
        action=ACTIONS[to_status],
        at=now,
        note=note,
        error=TransferTransitionRefused,
        refused=refused,
        also=[f"{stamp}_by", f"{stamp}_at"],
    )
    return transfer


def _release(transfer: TransferRequest, actor: Actor) -> None:
    commitments_move(
        channel=transfer.channel,
        move=MovementType.COMMITMENT_RELEASE,
        lines=[_line(transfer, "release")],
        actor=actor,
    )


def _line(
    transfer: TransferRequest,
    step: str,
    walk_in_buffer: int = 0,
    held_for_customer: bool = False,
) -> CommitmentLine:
    return CommitmentLine(
        reference=f"#transfer/{transfer.pk}/{step}",
        sku=transfer.sku,
        location=transfer.from_location,
        quantity=transfer.quantity,
        walk_in_buffer=walk_in_buffer,
        held_for_customer=held_for_customer,
    )


def _record(transfer: TransferRequest, ledger_move: str, actor: Actor) -> None:
    outbound = ledger_move == MovementType.TRANSFER_OUT
    here, there = (
        (transfer.from_location, transfer.to_location)
        if outbound
        else (transfer.to_location, transfer.from_location)
    )
    movements_record(
        movements=[
            MovementInput(
                reference=f"#transfer/{transfer.pk}/{ledger_move}",
                type=ledger_move,
                sku=transfer.sku,
                location=here,
                other_location=there,
                quantity=transfer.quantity,
                occurred_at=timezone.now(),
                channel=transfer.channel,
                reason=transfer.reason,
            )
        ],
        actor=actor,
    )
