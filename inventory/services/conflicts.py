"""Conflicts between physical facts and the records: raised by the ledger (an unsaved
``conflict_for`` an entry, written with it), resolved by a person
(``conflict_resolve``, under the conflict's row lock, on its table
``StockConflict.TRANSITIONS``)."""

from django.db import transaction
from django.utils import timezone

from config.access import Actor
from config.transitions import TransitionRefused, check, lock

from ..models import StockBalance, StockConflict, StockMovement


class ConflictTransitionRefused(TransitionRefused):
    code = "conflict_transition_refused"


def conflict_for(*, entry: StockMovement, balance: StockBalance) -> StockConflict:
    """The conflict an entry raises, unsaved: the ledger writes it with the entry.
    ``balance`` holds the quantities right after the entry."""
    return StockConflict(
        sku=entry.sku,
        location=entry.location,
        movement=entry,
        shortfall=-balance.available,
        promised=balance.committed + balance.reserved,
        on_hand=balance.on_hand,
    )


@transaction.atomic
def conflict_resolve(
    *,
    conflict: StockConflict,
    actor: Actor,
    note: str = "",
) -> StockConflict:
    """Close an open conflict; the stock itself is corrected by a movement (a count or
    an adjustment), never here."""
    conflict = lock(StockConflict, conflict.pk)
    target = StockConflict.Status.RESOLVED
    check(
        conflict,
        target,
        error=ConflictTransitionRefused,
        message=f"A {conflict.status} conflict cannot be resolved.",
    )
    conflict.status = target
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = actor.name
    conflict.resolution_note = note
    conflict.save(
        update_fields=["status", "resolved_at", "resolved_by", "resolution_note"]
    )
    return conflict
