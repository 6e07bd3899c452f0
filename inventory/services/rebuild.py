"""Rebuilding the balances from the ledger, and saying what differed.

The ledger is the truth; a balance is the sum of the deltas of the entries at its SKU
and location (plus, for ``in_transit``, the transfers sent to it). Anything stored
twice drifts eventually, so this check can run at any time: it locks the balances,
recomputes them, repairs any that differ and reports each difference.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Q, Sum

from catalog.models import Sku

from ..locking import BalanceKey
from ..models import Location, MovementType, StockBalance, StockMovement
from ..movements import BUCKETS

TRACKED = (*BUCKETS, "last_count_at", "last_event_at")
NOT_REJECTED = ~Q(status=StockMovement.Status.REJECTED)


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
        _hold_the_ledger_still()
        stored = {
            (row.sku_id, row.location_id): row
            for row in StockBalance.objects.select_related("sku", "location")
        }
        truth = _balances_from_ledger()
        lost = truth.keys() - stored.keys()
        skus = Sku.objects.in_bulk({sku_id for sku_id, _ in lost})
        locations = Location.objects.in_bulk({location_id for _, location_id in lost})
        differences: list[BalanceDifference] = []
        to_update: list[StockBalance] = []
        to_create: list[StockBalance] = []
        for key in sorted(stored.keys() | truth.keys()):
            expected = truth.get(key, {})
            balance = stored.get(key)
            if balance is None:
                balance = StockBalance(sku=skus[key[0]], location=locations[key[1]])
                to_create.append(balance)
            changed = False
            for name in TRACKED:
                want = expected.get(name, 0 if name in BUCKETS else None)
                have = getattr(balance, name)
                if have != want:
                    differences.append(
                        BalanceDifference(
                            balance.sku.code, balance.location.code, name, have, want
                        )
                    )
                    setattr(balance, name, want)
                    changed = True
            if changed and balance.pk:
                to_update.append(balance)
        if repair:
            StockBalance.objects.bulk_create(to_create)
            StockBalance.objects.bulk_update(to_update, list(TRACKED))
        return differences


def _hold_the_ledger_still() -> None:
    """No movement may be posted while the balances are compared with the ledger, or a
    balance created meanwhile would be reported (or inserted) twice. EXCLUSIVE mode
    waits for batches in flight (they hold ROW SHARE from their row locks) and makes
    new ones wait; plain reads go on. SQLite (the demo) has one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {StockBalance._meta.db_table} IN EXCLUSIVE MODE"
            )


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
            last_event_at=Max("occurred_at", filter=NOT_REJECTED),
        )
    )
    for row in rows:
        key = (row.pop("sku_id"), row.pop("location_id"))
        truth[key] = row
    sent_to = (
        StockMovement.objects.exclude(other_location_in_transit_delta=0)
        .values("sku_id", "other_location_id")
        .order_by()
        .annotate(
            in_transit=Sum("other_location_in_transit_delta"),
            last_event_at=Max("occurred_at"),
        )
    )
    for row in sent_to:
        key = (row["sku_id"], row["other_location_id"])
        entry = truth.setdefault(key, {})
        entry["in_transit"] = entry.get("in_transit", 0) + row["in_transit"]
        if (
            entry.get("last_event_at") is None
            or row["last_event_at"] > entry["last_event_at"]
        ):
            entry["last_event_at"] = row["last_event_at"]
    return truth
