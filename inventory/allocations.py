"""Reads of protected allocations (``inventory.models.Allocation``) as they stand: each
with its protection in force (the units less the channel's own active holds there,
``inventory.terms.protections``), what is available at its SKU and location, and the
shortfall, the units of the protection in force that the stock there no longer
covers. The API's list and the managers' dashboard read them here.

The shortfall follows the one rule (``inventory.availability.promisable``): an owner
may take its protection only up to what is there, so a protection in force of 4 where
3 are available is short by 1 (the shared pool went first: others already see 0). A
balance oversold (available below zero) covers none of it. Two protections at one
place are each measured against the whole of what is there.

An allocation of a closed channel protects nothing: its protection in force is 0.
Reads go to the database this request reads from (``config.replicas``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from config.replicas import reading_alias

from .availability import available_from
from .locking import BalanceKey
from .models import Allocation, Location, StockBalance
from .selectors import lapsed_holds
from .terms import protections


@dataclass(frozen=True)
class AllocationRow:
    """One allocation and its figures now."""

    allocation: Allocation
    in_force: int
    available: int

    @property
    def shortfall(self) -> int:
        """Units of the protection in force beyond what is available there."""
        return max(0, self.in_force - max(0, self.available))

    # The API's row reads these straight off the row.
    @property
    def channel(self) -> str:
        return self.allocation.channel.code

    @property
    def sku(self) -> str:
        return self.allocation.sku.code

    @property
    def location(self) -> str:
        return self.allocation.location.code

    @property
    def units(self) -> int:
        return self.allocation.units

    @property
    def updated_by(self) -> str:
        return self.allocation.updated_by

    @property
    def updated_at(self):
        return self.allocation.updated_at


def allocation_queryset() -> QuerySet[Allocation]:
    """Every allocation with its channel, SKU and location, in the list's order."""
    return Allocation.objects.select_related("channel", "sku", "location").order_by(
        "channel__code", "sku__code", "location__code"
    )


def allocation_rows(*, allocations: Sequence[Allocation]) -> list[AllocationRow]:
    """The figures of these allocations (a page of them), in their order: two
    statements whatever their number (the protections in force, the balances)."""
    keys = {(each.sku_id, each.location_id) for each in allocations}
    if not keys:
        return []
    using = reading_alias()
    in_force = {
        (p.channel_id, p.sku_id, p.location_id): p.in_force
        for p in protections(keys=keys, now=timezone.now(), using=using)
    }
    available = _available(keys, using)
    return [
        AllocationRow(
            allocation=each,
            in_force=in_force.get((each.channel_id, each.sku_id, each.location_id), 0),
            available=available.get((each.sku_id, each.location_id), 0),
        )
        for each in allocations
    ]


def allocation_row(*, allocation: Allocation) -> AllocationRow:
    """One allocation's figures (one just written, or a removal's units 0)."""
    if allocation.pk is None:  # removed: it protects nothing now
        key = (allocation.sku_id, allocation.location_id)
        available = _available({key}, reading_alias()).get(key, 0)
        return AllocationRow(allocation=allocation, in_force=0, available=available)
    return allocation_rows(allocations=[allocation])[0]


def protections_short(
    *, locations: Iterable[Location], limit: int | None = None
) -> tuple[list[AllocationRow], int]:
    """The allocations at these locations whose protection in force exceeds what is
    available there, the most units short first (then channel, SKU and location
    codes), at most ``limit`` of them (None: all); and how many there are in all.
    Allocations are few (a manager sets each one), so every one at the locations is
    read, in four statements."""
    ids = [location.pk for location in locations]
    if not ids:
        return [], 0
    standing = list(
        allocation_queryset().filter(
            location_id__in=ids, units__gt=0, channel__is_active=True
        )
    )
    short = [row for row in allocation_rows(allocations=standing) if row.shortfall]
    short.sort(key=lambda row: (-row.shortfall, row.channel, row.sku, row.location))
    return (short if limit is None else short[:limit]), len(short)


def _available(keys: set[BalanceKey], using: str) -> dict[BalanceKey, int]:
    """What is available at each of ``keys`` that has a balance, as of now: the
    units of holds past their expiry given back, swept or not, as the protections in
    force leave them out (``inventory.selectors.lapsed_holds``)."""
    balances = StockBalance.objects.using(using).filter(
        sku_id__in={sku for sku, _ in keys},
        location_id__in={place for _, place in keys},
    )
    lapsed = lapsed_holds(keys=keys, now=timezone.now(), using=using)
    return {
        (balance.sku_id, balance.location_id): available_from(balance)
        + lapsed.get((balance.sku_id, balance.location_id), 0)
        for balance in balances
        if (balance.sku_id, balance.location_id) in keys
    }
