"""Units asked for from another location, for an order that needs them here: the
request commits them at the source (so the source cannot sell them twice), dispatch
releases that commitment and puts them in transit, receipt puts them on hand here.

Each step is one transaction under the request's row lock; the same step twice
changes nothing the second time (its ledger references are the request's own).
"""

from django.db import transaction
from django.utils import timezone

from catalog.models import Channel, Sku
from config.errors import Conflict, InvalidInput, NotFound

from ..models import Location, MovementType, TransferRequest
from .commitments import CommitmentLine, commitments_move, commitments_place, keep_for
from .ledger import MovementInput, movements_record

Status = TransferRequest.Status


class TransferTransitionRefused(Conflict):
    code = "transfer_transition_refused"


@transaction.atomic
def transfer_request(
    *,
    sku: Sku,
    quantity: int,
    from_location: Location,
    to_location: Location,
    channel: Channel,
    reason: str,
    actor: str,
) -> TransferRequest:
    """Ask ``from_location`` for units: refused with ``insufficient_stock`` (and
    nothing written) when it cannot spare them beyond its walk-in units."""
    if from_location.pk == to_location.pk:
        raise InvalidInput({"from_location": ["Choose another location than this."]})
    if quantity < 1:
        raise InvalidInput({"quantity": ["Ask for at least one unit."]})
    transfer = TransferRequest.objects.create(
        sku=sku,
        quantity=quantity,
        from_location=from_location,
        to_location=to_location,
        channel=channel,
        reason=reason[:300],
        requested_by=actor,
        requested_at=timezone.now(),
    )
    commitments_place(
        channel=channel,
        lines=[
            _line(
                transfer,
                "commit",
                keep_available=keep_for(
                    sku=sku,
                    channel=channel,
                    walk_in_buffer=from_location.walk_in_buffer,
                ),
            )
        ],
        actor=actor,
    )
    return transfer


@transaction.atomic
def transfer_dispatch(*, transfer_id: int, actor: str) -> TransferRequest:
    """The units left the source: no longer committed there, in transit here."""
    transfer = _locked(transfer_id)
    if transfer.status == Status.DISPATCHED:
        return transfer
    _allow(transfer, Status.DISPATCHED)
    commitments_move(
        channel=transfer.channel,
        move=MovementType.COMMITMENT_RELEASE,
        lines=[_line(transfer, "release")],
        actor=actor,
    )
    _record(transfer, MovementType.TRANSFER_OUT, actor)
    transfer.status = Status.DISPATCHED
    transfer.dispatched_by = actor
    transfer.dispatched_at = timezone.now()
    transfer.save(update_fields=["status", "dispatched_by", "dispatched_at"])
    return transfer


@transaction.atomic
def transfer_receive(*, transfer_id: int, actor: str) -> TransferRequest:
    """The units arrived: on hand at the destination."""
    transfer = _locked(transfer_id)
    if transfer.status == Status.RECEIVED:
        return transfer
    _allow(transfer, Status.RECEIVED)
    _record(transfer, MovementType.TRANSFER_IN, actor)
    transfer.status = Status.RECEIVED
    transfer.received_by = actor
    transfer.received_at = timezone.now()
    transfer.save(update_fields=["status", "received_by", "received_at"])
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer_id: int, actor: str) -> TransferRequest:
    """Not needed after all, before it left: the source may sell the units again."""
    transfer = _locked(transfer_id)
    if transfer.status == Status.CANCELLED:
        return transfer
    _allow(transfer, Status.CANCELLED)
    commitments_move(
        channel=transfer.channel,
        move=MovementType.COMMITMENT_RELEASE,
        lines=[_line(transfer, "release")],
        actor=actor,
    )
    transfer.status = Status.CANCELLED
    transfer.cancelled_by = actor
    transfer.cancelled_at = timezone.now()
    transfer.save(update_fields=["status", "cancelled_by", "cancelled_at"])
    return transfer


def _locked(transfer_id: int) -> TransferRequest:
    try:
        return (
            TransferRequest.objects.select_for_update(of=("self",))
            .select_related("sku", "from_location", "to_location", "channel")
            .get(pk=transfer_id)
        )
    except TransferRequest.DoesNotExist as missing:
        raise NotFound(f"No transfer request {transfer_id}.") from missing


def _allow(transfer: TransferRequest, to_status: str) -> None:
    if to_status not in TransferRequest.TRANSITIONS[transfer.status]:
        raise TransferTransitionRefused(
            f"Transfer {transfer.pk} cannot become {to_status}: it is "
            f"{transfer.status}; nothing was changed.",
            status=transfer.status,
        )


def _line(
    transfer: TransferRequest, step: str, keep_available: int = 0
) -> CommitmentLine:
    return CommitmentLine(
        reference=f"#transfer/{transfer.pk}/{step}",
        sku=transfer.sku,
        location=transfer.from_location,
        quantity=transfer.quantity,
        keep_available=keep_available,
    )


def _record(transfer: TransferRequest, move: str, actor: str) -> None:
    outbound = move == MovementType.TRANSFER_OUT
    here, there = (
        (transfer.from_location, transfer.to_location)
        if outbound
        else (transfer.to_location, transfer.from_location)
    )
    movements_record(
        movements=[
            MovementInput(
                reference=f"#transfer/{transfer.pk}/{move}",
                type=move,
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
