"""A channel's terms changed (a protection set or lifted, velocity buffers
recomputed, a network redrawn): the availability the channels were sent at those
SKUs and locations is out of date, though no stock moved. ``terms_announce`` moves
each balance's sequence one step, which the outbox's trigger
(inventory/sql/balance_outbox.sql) announces like any change: every channel's
webhooks and feed carry the figures again, worked out with the new terms. The
quantities are not touched."""

from collections.abc import Collection

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..locking import BalanceKey
from ..models import StockBalance


def terms_announce(*, keys: Collection[BalanceKey]) -> int:
    """Announce the balances at ``keys`` again (those that exist: a pair with no
    balance has nothing to promise, whatever the terms); how many were announced.
    The rows are locked in the order of the unique (sku, location) index, the one
    lock order (inventory.locking), so this never deadlocks with a ledger batch.
    Runs in the caller's transaction when there is one."""
    keys = set(keys)
    if not keys:
        return 0
    candidates = StockBalance.objects.filter(
        sku_id__in={sku for sku, _ in keys},
        location_id__in={place for _, place in keys},
    ).values_list("pk", "sku_id", "location_id")
    wanted = [pk for pk, sku, place in candidates if (sku, place) in keys]
    with transaction.atomic():
        # Exactly those rows, not every SKU asked for at every location asked for.
        ids = list(
            StockBalance.objects.select_for_update(no_key=True)
            .filter(pk__in=wanted)
            .order_by("sku_id", "location_id")
            .values_list("pk", flat=True)
        )
        # Stamped, so SQLite's trigger (the demo) tells this jump from its own
        # count-up (inventory/sql/sqlite/balance_outbox.sql).
        return StockBalance.objects.filter(pk__in=ids).update(
            sequence=F("sequence") + 1, updated_at=timezone.now()
        )
