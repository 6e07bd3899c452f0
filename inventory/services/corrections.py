"""Stock facts stated by people in this back office rather than by an integration: a
count approved after a cycle count, an adjustment that resolves an exception. They
go through the ledger like any event, from the back office's own source channel, so
the ledger always says where a number came from."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from catalog.models import Channel, Sku
from config.access import Actor
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


@dataclass(frozen=True)
class StaffCount:
    """On-hand of ``sku`` was ``counted`` at ``occurred_at``."""

    sku: Sku
    counted: int
    occurred_at: datetime
    reference: str


def counts_post(
    *, location: Location, counts: Sequence[StaffCount], reason: str, actor: Actor
) -> list[StockMovement]:
    """Counts at one location, in one ledger batch; what moved after each count's
    moment stays on top of it. The entries in the order given."""
    if not counts:
        return []
    channel = staff_channel()
    return _record(
        [
            MovementInput(
                reference=count.reference[:100],
                type=MovementType.COUNT,
                sku=count.sku,
                location=location,
                quantity=count.counted,
                occurred_at=count.occurred_at,
                channel=channel,
                reason=reason[:200],
            )
            for count in counts
        ],
        actor,
    )


def adjustment_post(
    *,
    sku: Sku,
    location: Location,
    quantity: int,
    reference: str,
    reason: str,
    actor: Actor,
) -> StockMovement:
    """On-hand moves by ``quantity`` (signed), now."""
    adjustment = MovementInput(
        reference=reference[:100],
        type=MovementType.ADJUSTMENT,
        sku=sku,
        location=location,
        quantity=quantity,
        occurred_at=timezone.now(),
        channel=staff_channel(),
        reason=reason[:200],
    )
    return _record([adjustment], actor)[0]


def _record(movements: list[MovementInput], actor: Actor) -> list[StockMovement]:
    outcomes = movements_record(movements=movements, actor=actor)
    return applied_entries(outcomes, CorrectionRefused)
