"""Conflicts between physical facts and the records: raised by the ledger, resolved by
a person."""

from django.db import transaction
from django.utils import timezone

from config.errors import Conflict

from ..models import StockBalance, StockConflict, StockMovement


class ConflictTransitionRefused(Conflict):
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
    *, conflict: StockConflict, resolved_by: str, note: str = ""
) -> StockConflict:
    """Close an open conflict; the stock itself is corrected by a movement (a count or
    an adjustment), never here."""
    conflict = StockConflict.objects.select_for_update(no_key=True).get(pk=conflict.pk)
    target = StockConflict.Status.RESOLVED
    if target not in StockConflict.TRANSITIONS[conflict.status]:
        raise ConflictTransitionRefused(
            f"A {conflict.status} conflict cannot be resolved."
        )
    conflict.status = target
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = resolved_by
    conflict.resolution_note = note
    conflict.save(
        update_fields=["status", "resolved_at", "resolved_by", "resolution_note"]
    )
    return conflict
