"""A returned unit's way through the ledger: expected (incoming where it will
arrive), received into quality control, then out of quality control by its grade.

The returns app owns the return and decides what moves; this module is how it asks,
because only ``inventory.services`` changes stock. Each call is one batch of
``movements_record``, all or nothing, with references that make a repeat a no-op.
Entries carry the channel the goods were bought through, so the ledger can say which
channel's sales come back.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from catalog.models import Channel, Sku
from config.access import Actor
from config.errors import Conflict

from ..models import Location, MovementType, StockMovement
from .ledger import MovementInput, applied_entries, movements_record


class ReturnStockOutOfStep(Conflict):
    """The ledger would not move a return's units: the balances no longer hold what
    the return says. Nothing is changed; someone should look."""

    code = "return_out_of_step"

    def __init__(self, reason: str, **extra) -> None:
        super().__init__(
            f"The ledger would not move this return's units: {reason}", **extra
        )


@dataclass(frozen=True)
class ReturnUnits:
    """Units of one SKU at one location. ``reference`` names them; each entry's
    reference is it plus the move, so the same step again is the same entry."""

    reference: str
    sku: Sku
    location: Location
    quantity: int


# What a grade does to units in quality control: a resellable unit becomes
# available; a damaged one stays on hand, out of availability; one sent back to the
# vendor or destroyed leaves stock (through damaged, so the ledger says it failed).
GRADE_MOVES: dict[str, tuple[str, ...]] = {
    "resellable": (MovementType.INSPECTION_PASS,),
    "damaged": (MovementType.INSPECTION_FAIL,),
    "return_to_vendor": (MovementType.INSPECTION_FAIL, MovementType.WRITE_OFF),
    "destroy": (MovementType.INSPECTION_FAIL, MovementType.WRITE_OFF),
}


@transaction.atomic
def return_expect(
    *, channel: Channel, units: Sequence[ReturnUnits], actor: Actor
) -> list[StockMovement]:
    """An announced return: incoming where it will arrive, never available."""
    return _record(
        [_input(channel, MovementType.RETURN_EXPECTED, each) for each in units], actor
    )


@transaction.atomic
def return_expectation_close(
    *, channel: Channel, units: Sequence[ReturnUnits], actor: Actor
) -> list[StockMovement]:
    """The announced units arrived or never will: no longer incoming."""
    return _record(
        [_input(channel, MovementType.RETURN_EXPECTED_CLOSED, each) for each in units],
        actor,
    )


@transaction.atomic
def return_receive(
    *,
    channel: Channel,
    units: Sequence[ReturnUnits],
    expected: Sequence[ReturnUnits] = (),
    actor: Actor,
    reason: str = "",
) -> list[StockMovement]:
    """Units on the counter: on hand, in quality control, not available. What was
    announced for them stops being incoming in the same batch."""
    arrived = [
        _input(channel, MovementType.RETURN_RECEIVED, each, reason) for each in units
    ]
    settled = [
        _input(channel, MovementType.RETURN_EXPECTED_CLOSED, each) for each in expected
    ]
    return _record(arrived + settled, actor)


@transaction.atomic
def return_grade(
    *, channel: Channel, units: ReturnUnits, grade: str, reason: str, actor: Actor
) -> list[StockMovement]:
    """Units out of quality control by their grade (``GRADE_MOVES``)."""
    moves = [
        MovementInput(
            reference=f"{units.reference}/{move}",
            type=move,
            sku=units.sku,
            location=units.location,
            quantity=units.quantity,
            occurred_at=timezone.now(),
            channel=channel,
            reason=reason[:200],
        )
        for move in GRADE_MOVES[grade]
    ]
    return _record(moves, actor)


def _input(
    channel: Channel, move: str, units: ReturnUnits, reason: str = ""
) -> MovementInput:
    return MovementInput(
        reference=f"{units.reference}/{move}",
        type=move,
        sku=units.sku,
        location=units.location,
        quantity=units.quantity,
        occurred_at=timezone.now(),
        channel=channel,
        reason=reason[:200],
    )


def _record(moves: list[MovementInput], actor: Actor) -> list[StockMovement]:
    if not moves:
        return []
    return applied_entries(
        movements_record(movements=moves, actor=actor), ReturnStockOutOfStep
    )
