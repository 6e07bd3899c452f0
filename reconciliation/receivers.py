"""Reconciliation's answers to what inventory announces (inventory.signals), connected
in ``ReconciliationConfig.ready``: every oversell conflict the ledger records opens
(or adds to) the case for its SKU at its location."""

from config.access import Actor
from config.words import units
from inventory.signals import conflicts_recorded

from .models import ExceptionKind
from .services import Raised, exception_raise


def raise_oversell_conflicts(sender, *, conflicts, **kwargs) -> None:
    for conflict in conflicts:
        entry = conflict.movement
        sku, location = entry.sku, entry.location
        exception_raise(
            raised=Raised(
                kind=ExceptionKind.OVERSELL_CONFLICT,
                key=f"oversell:{sku.pk}@{location.pk}",
                title=f"{sku.code} at {location.code}: "
                f"{units(conflict.shortfall, 'promised unit')} not on hand",
                detail=f"A {entry.get_type_display().lower()} ({entry.reference}, "
                f"{units(entry.quantity)}) left {conflict.on_hand} on hand against "
                f"{conflict.promised} promised. Find the units, or correct the stock "
                f"and tell the customers who cannot be served.",
                sku=sku,
                location=location,
                stock_conflict=conflict,
                facts={
                    "shortfall": conflict.shortfall,
                    "promised": conflict.promised,
                    "on_hand": conflict.on_hand,
                    "movement_reference": entry.reference,
                },
            ),
            actor=Actor.recorded(entry.actor or "ledger"),
        )


def connect() -> None:
    conflicts_recorded.connect(
        raise_oversell_conflicts, dispatch_uid="reconciliation.oversell_conflicts"
    )
