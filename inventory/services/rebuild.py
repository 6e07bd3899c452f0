"""Rebuilding the balances from the ledger, and saying what differed.

The ledger is the truth; a balance is the sum of the deltas of the entries at its SKU
and location (plus, for ``in_transit``, the transfers sent to it). Anything stored
twice drifts eventually, so this check can run at any time: it locks the balances,
recomputes them, repairs any that differ and reports each difference.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Q, Sum

from ..locking import BalanceKey
from ..models import MovementType, StockBalance, StockMovement
from ..movements import BUCKETS

TRACKED = (*BUCKETS, "last_count_at")


@dataclass(frozen=True)
class BalanceDifference:
    sku_code: str
    location_code: str
    field: str
    stored: object
    from_ledger: object


def balances_rebuild(*, repair: bool = True) -> list[BalanceDifference]:
    """Compare every balance with the ledger; with ``repair``, make it agree."""
    with transaction.atomic():
        stored = {
            (row.sku_id, row.location_id): row
            for row in StockBalance.objects.select_for_update()
            .select_related("sku", "location")
            .order_by("sku_id", "location_id")
        }
        truth = _balances_from_ledger()
        differences: list[BalanceDifference] = []
        to_update: list[StockBalance] = []
        to_create: list[StockBalance] = []
        for key in sorted(stored.keys() | truth.keys()):
            expected = truth.get(key, {})
            balance = stored.get(key)
            if balance is None:
                balance = StockBalance(sku_id=key[0], location_id=key[1])
                to_create.append(balance)
            changed = False
            for name in TRACKED:
                want = expected.get(name, None if name == "last_count_at" else 0)
                have = getattr(balance, name)
                if have != want:
                    differences.append(_difference(balance, name, have, want))
                    setattr(balance, name, want)
                    changed = True
            if changed and balance.pk:
                to_update.append(balance)
        if repair:
            StockBalance.objects.bulk_create(to_create)
            StockBalance.objects.bulk_update(to_update, list(TRACKED))
        return differences


def _difference(balance, name, have, want) -> BalanceDifference:
    from catalog.models import Sku

    from ..models import Location

    # A balance missing from its table has no related rows loaded.
    sku = balance.sku if balance.pk else Sku.objects.get(pk=balance.sku_id)
    location = (
        balance.location if balance.pk else Location.objects.get(pk=balance.location_id)
    )
    return BalanceDifference(sku.code, location.code, name, have, want)


def _balances_from_ledger() -> dict[BalanceKey, dict[str, object]]:
    truth: dict[BalanceKey, dict[str, object]] = {}
    sums = {bucket: Sum(f"{bucket}_delta") for bucket in BUCKETS}
    rows = (
        StockMovement.objects.values("sku_id", "location_id")
        .order_by()
        .annotate(
            **sums,
            last_count_at=Max(
                "occurred_at",
                filter=Q(type=MovementType.COUNT, status=StockMovement.Status.APPLIED),
            ),
        )
    )
    for row in rows:
        key = (row.pop("sku_id"), row.pop("location_id"))
        truth[key] = row
    sent_to = (
        StockMovement.objects.exclude(other_location_in_transit_delta=0)
        .values("sku_id", "other_location_id")
        .order_by()
        .annotate(in_transit=Sum("other_location_in_transit_delta"))
    )
    for row in sent_to:
        key = (row["sku_id"], row["other_location_id"])
        entry = truth.setdefault(key, {"last_count_at": None})
        entry["in_transit"] = entry.get("in_transit", 0) + row["in_transit"]
    return truth
