"""Stock facts stated by people in this back office rather than by an integration: a
count approved after a cycle count, an adjustment that resolves an exception. They
go through the ledger like any event, from the back office's own source channel, so
the ledger always says where a number came from."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from catalog.models import Channel, Sku
from config.errors import Conflict

from ..models import Location, MovementType, StockMovement
from .ledger import MovementInput, applied_entries, movements_record


class CorrectionRefused(Conflict):
    code = "correction_refused"

    def __init__(self, reason: str, **extra) -> None:
        super().__init__(f"The ledger refused the correction: {reason}", **extra)


def staff_channel() -> Channel:
    """The source every staff-stated fact is recorded from, created on first use."""
    channel, _ = Channel.objects.get_or_create(
        code=settings.ONESTOCK_STAFF_CHANNEL,
        defaults={
            "name": "Back-office staff (counts, corrections)",
            "kind": Channel.Kind.BACK_OFFICE,
        },
    )
    return channel


def count_post(
    *,
    sku: Sku,
    location: Location,
    counted: int,
    occurred_at: datetime,
    reference: str,
    reason: str,
    actor: str,
) -> StockMovement:
    """On-hand was ``counted`` at ``occurred_at``; what moved since stays on top."""
    return _post(
        MovementType.COUNT,
        sku,
        location,
        counted,
        occurred_at,
        reference,
        reason,
        actor,
    )


def adjustment_post(
    *,
    sku: Sku,
    location: Location,
    quantity: int,
    reference: str,
    reason: str,
    actor: str,
) -> StockMovement:
    """On-hand moves by ``quantity`` (signed), now."""
    return _post(
        MovementType.ADJUSTMENT,
        sku,
        location,
        quantity,
        timezone.now(),
        reference,
        reason,
        actor,
    )


def _post(move, sku, location, quantity, occurred_at, reference, reason, actor):
    outcomes = movements_record(
        movements=[
            MovementInput(
                reference=reference[:100],
                type=move,
                sku=sku,
                location=location,
                quantity=quantity,
                occurred_at=occurred_at,
                channel=staff_channel(),
                reason=reason[:200],
            )
        ],
        actor=actor,
    )
    return applied_entries(outcomes, CorrectionRefused)[0]
