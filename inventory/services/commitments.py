"""An order's units, line by line, through the ledger: committed when the order is
placed, picked into the pickup-hold area, fulfilled (shipped or collected), released
before picking, or put back on the shelf after a cancelled pick.

A pre-order's line (``commitments_place_or_promise``) commits what the shelf covers
and promises the rest against dated supply (``supply_promises``).

The orders app owns the order and decides what moves; this module is how it asks,
because only ``inventory.services`` changes stock. Each call is one batch of
``movements_record`` (balance locks in one order, references idempotent), all or
nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog.models import Channel, Sku
from config.access import Actor
from config.errors import Conflict

from ..availability import safety_buffer_for
from ..errors import InsufficientStock
from ..locking import balances_lock
from ..models import Location, MovementType, StockMovement
from ..terms import NO_TERMS, Terms, channel_terms
from .ledger import (
    MovementInput,
    Outcome,
    applied_entries,
    movements_record,
)
from .supply_promises import dated_shortages, promise_the_rest

# What an order may do to its units after they are committed.
ORDER_MOVES = frozenset(
    {
        MovementType.PICK,
        MovementType.FULFIL,
        MovementType.FULFIL_PICKED,
        MovementType.COMMITMENT_RELEASE,
        MovementType.PUT_AWAY,
    }
)


class CommitmentOutOfStep(Conflict):
    """The ledger would not move an order's units: the balances no longer hold what
    the order says it holds. Nothing is changed; someone should look."""

    code = "order_out_of_step"

    def __init__(self, reason: str, **extra) -> None:
        super().__init__(
            f"The ledger would not move this order's units: {reason}", **extra
        )


@dataclass(frozen=True)
class CommitmentLine:
    """Units of one SKU at one location; ``reference`` names the ledger entry (the
    same reference again is the same entry, never a second move)."""

    reference: str
    sku: Sku
    location: Location
    quantity: int
    # Units that must stay available after a commitment beyond the channel's own
    # terms: what a store keeps for walk-ins, when routing ships from it.
    walk_in_buffer: int = 0
    # A pre-order's line (``SupplyPromise.Owner``, id): what the shelf cannot cover
    # may be promised against dated supply (``commitments_place_or_promise``).
    future_owner: tuple[str, int] | None = None
    # Units a customer's order held here, released from it in this transaction and
    # committed again to what takes them on (a transfer: ``transfer_request
    # (held_for_customer=True)``). They are handed over as they are: no buffer,
    # walk-in units or protection is kept back of them (raised since or not, none
    # can take back units already promised), and only the ledger's own rule holds:
    # availability never below zero.
    held_for_customer: bool = False


@dataclass(frozen=True)
class FuturePromise:
    """Units of a line promised against dated supply, due by ``expected_at``."""

    units: int
    expected_at: datetime


@transaction.atomic
def commitments_place(
    *, channel: Channel, lines: Sequence[CommitmentLine], actor: Actor
) -> list[StockMovement]:
    """Commit every line, or none: 409 ``insufficient_stock`` with each short line,
    as for a reservation, and nothing is committed. Each line keeps the channel's
    buffer there (the SKU's own, else its velocity buffer, else its own) and the
    walk-in units available, and leaves the other channels' protections alone;
    except a line ``held_for_customer``, which keeps nothing back."""
    outcomes, _ = _commit(channel, lines, actor)
    return _applied(outcomes)


@transaction.atomic
def commitments_place_or_promise(
    *, channel: Channel, lines: Sequence[CommitmentLine], actor: Actor
) -> dict[str, FuturePromise]:
    """As ``commitments_place``, and a line with a ``future_owner`` (a pre-order)
    the shelf cannot cover commits what the shelf can and promises the rest against
    the earliest dated supply (``supply_promises``). The units promised per line's
    reference; 409 ``insufficient_stock`` when neither covers a line, its shortage
    saying the earliest date supply could (``earliest_available_at``)."""
    outcomes, terms = _commit(channel, lines, actor, future=True)
    _applied([outcome for outcome in outcomes if outcome.outcome != Outcome.REFUSED])
    promised = promise_the_rest(
        channel=channel,
        lines=lines,
        outcomes=outcomes,
        owner_of=lambda line: line.future_owner,
        now=timezone.now(),
    )
    shelf_parts = [
        replace(each.line, quantity=each.shelf) for each in promised if each.shelf
    ]
    if shelf_parts:
        _applied(
            movements_record(
                movements=[
                    _promise(channel, line, terms.get((line.sku.pk, line.location.pk)))
                    for line in shelf_parts
                ],
                actor=actor,
            )
        )
    return {
        each.line.reference: FuturePromise(units=each.later, expected_at=each.due)
        for each in promised
    }


def _commit(
    channel: Channel,
    lines: Sequence[CommitmentLine],
    actor: Actor,
    *,
    future: bool = False,
) -> tuple[list, dict]:
    """Commit every line on the locked figures; refused lines raise 409, unless
    ``future`` and each refused line is a pre-order's. The outcomes, and the terms
    read."""
    keys = {(line.sku.pk, line.location.pk) for line in lines}
    # The terms once the balances are locked: a hold placed or released meanwhile is
    # counted. The ledger's batch finds them locked by this transaction already.
    balances_lock(keys=keys)
    terms = channel_terms(channel_id=channel.pk, keys=keys, now=timezone.now())
    outcomes = movements_record(
        movements=[
            _promise(channel, line, terms.get((line.sku.pk, line.location.pk)))
            for line in lines
        ],
        actor=actor,
    )
    refused = [
        line
        for line, outcome in zip(lines, outcomes, strict=True)
        if outcome.outcome == Outcome.REFUSED
    ]
    if refused and not (future and all(line.future_owner for line in refused)):
        raise InsufficientStock(
            "Not enough stock to commit every line; nothing was committed.",
            shortages=dated_shortages(lines, outcomes),
        )
    return outcomes, terms


@transaction.atomic
def commitments_move(
    *, channel: Channel, move: str, lines: Sequence[CommitmentLine], actor: Actor
) -> list[StockMovement]:
    """Move committed (or picked) units on: ``move`` is one of ``ORDER_MOVES``."""
    if move not in ORDER_MOVES:
        raise ValueError(f"An order cannot move its units by {move!r}.")
    outcomes = movements_record(
        movements=[_input(channel, move, line) for line in lines], actor=actor
    )
    return _applied(outcomes)


# What a picker found instead of the committed unit, and the physical fact it is:
# a unit not on the shelf is taken off on-hand (a count will put it back if it turns
# up); a damaged one stays on hand, out of availability, in the damaged bucket.
SHORT_FACTS = {"not_found": MovementType.ADJUSTMENT, "damaged": MovementType.DAMAGE}


@transaction.atomic
def commitments_short(
    *,
    channel: Channel,
    line: CommitmentLine,
    condition: str,
    reason: str,
    actor: Actor,
) -> list[StockMovement]:
    """Committed units that cannot be picked: the commitment is released and the
    physical fact recorded in the same batch, so availability never shows them."""
    fact = SHORT_FACTS[condition]
    release = _input(channel, MovementType.COMMITMENT_RELEASE, line)
    signed = -line.quantity if fact == MovementType.ADJUSTMENT else line.quantity
    found = MovementInput(
        reference=f"{line.reference}/{condition}",
        type=fact,
        sku=line.sku,
        location=line.location,
        quantity=signed,
        occurred_at=release.occurred_at,
        channel=channel,
        reason=reason[:200],
    )
    return _applied(movements_record(movements=[release, found], actor=actor))


def _promise(
    channel: Channel, line: CommitmentLine, terms: Terms | None
) -> MovementInput:
    if line.held_for_customer:
        # Released just now for this: availability is up by exactly these units, so
        # the ledger takes them again unless the shelf was short of its promises.
        return _input(channel, MovementType.COMMIT, line)
    velocity, own, others, _ = terms or NO_TERMS
    keep = safety_buffer_for(sku=line.sku, channel=channel, velocity_buffer=velocity)
    return replace(
        _input(channel, MovementType.COMMIT, line),
        keep_available=keep + line.walk_in_buffer,
        own_protection=own,
        others_protection=others,
    )


def _input(channel: Channel, move: str, line: CommitmentLine) -> MovementInput:
    return MovementInput(
        reference=line.reference,
        type=move,
        sku=line.sku,
        location=line.location,
        quantity=line.quantity,
        occurred_at=timezone.now(),
        channel=channel,
    )


def _applied(outcomes) -> list[StockMovement]:
    return applied_entries(outcomes, CommitmentOutOfStep)
