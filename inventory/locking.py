"""Every row lock on stock balances is taken here, always in (sku, location) order.

Two writers that need the same balances then queue behind each other instead of
deadlocking: whoever locks first in that one order goes first, whatever the order of
the events in their requests.
"""

from collections.abc import Iterable

from django.db.models import Q

from .models import StockBalance

BalanceKey = tuple[int, int]  # (sku_id, location_id)


def balances_lock(*, keys: Iterable[BalanceKey]) -> dict[BalanceKey, StockBalance]:
    """Lock the balance rows of ``keys``, creating those that do not exist yet.

    Must run inside a transaction. Rows are selected by the SKUs and the locations
    involved and kept only if asked for; the lock is taken in the order of the unique
    (sku, location) index. A missing row is inserted with ON CONFLICT DO NOTHING, so
    two writers creating the same balance end up locking the one row.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    locked = _select_for_update(wanted)
    missing = wanted - locked.keys()
    if missing:
        StockBalance.objects.bulk_create(
            [StockBalance(sku_id=sku, location_id=loc) for sku, loc in sorted(missing)],
            ignore_conflicts=True,
        )
        locked.update(_select_for_update(missing))
    return locked


def _select_for_update(wanted: set[BalanceKey]) -> dict[BalanceKey, StockBalance]:
    by_location: dict[int, list[int]] = {}
    for sku_id, location_id in wanted:
        by_location.setdefault(location_id, []).append(sku_id)
    # One OR-ed condition per location keeps the selection exact for batches that span
    # several locations, without locking every SKU at every one of them.
    condition = Q()
    for location_id, sku_ids in by_location.items():
        condition |= Q(location_id=location_id, sku_id__in=sku_ids)
    rows = (
        StockBalance.objects.select_for_update()
        .filter(condition)
        .order_by("sku_id", "location_id")
    )
    return {(row.sku_id, row.location_id): row for row in rows}
