"""Promises against future supply, made and given back: a pre-order's (or
back-order's) units the shelf cannot cover, promised against the earliest dated
supply at the location with units not yet promised (``supply_promise``), never
beyond the SKU's ``future_promise_limit`` across every location; given back when the
pre-order is cancelled or the hold released (``supply_promises_release``); handed
from a checkout hold's line to its order's line (``supply_promises_hand_over``).

The caller holds the balance of the SKU at the location (inventory.locking): that
lock serializes every change of its supply and promises, with receipts landing them
(``supply``). A new promise also locks the SKU's row, after the balances, for the
cap: two pre-orders for the last unit of supply queue there, and one is refused.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Q, Sum

from catalog.models import Channel, Sku

from ..models import Location, Supply, SupplyPromise
from ..timeline_selectors import promised_ahead
from .ledger_inputs import Outcome, shortages_of
from .supply import OPEN_PROMISES


def supply_promise(
    *,
    channel: Channel,
    sku: Sku,
    location: Location,
    units: int,
    owner_kind: str,
    owner_id: int,
    now: datetime,
) -> datetime | None:
    """Promise ``units`` against the earliest dated supply at ``location`` with units
    not yet promised; the promise date (the latest supply it waits for), or None
    (nothing written) when the supply or the SKU's cap cannot cover them all. The
    caller holds the balance's lock."""
    limit = (
        Sku.objects.select_for_update(no_key=True)
        .filter(pk=sku.pk)
        .values_list("future_promise_limit", flat=True)
        .get()
    )
    if units > limit - promised_ahead(sku=sku):
        return None
    taken: list[tuple[Supply, int]] = []
    wanted = units
    for supply, free in _free_supply(sku.pk, location.pk):
        take = min(wanted, free)
        if take:
            taken.append((supply, take))
            wanted -= take
        if not wanted:
            break
    if wanted:
        return None
    due = max(supply.expected_at for supply, _ in taken)
    SupplyPromise.objects.bulk_create(
        [
            SupplyPromise(
                supply=supply,
                channel=channel,
                sku=sku,
                location=location,
                owner_kind=owner_kind,
                owner_id=owner_id,
                units=take,
                promised_at=now,
                expected_at=due,
            )
            for supply, take in taken
        ]
    )
    return due


def _free_supply(sku_id: int, location_id: int) -> list[tuple[Supply, int]]:
    """Open dated supply of a SKU at a location, earliest first, with its units not
    yet promised."""
    supplies = list(
        Supply.objects.filter(
            sku_id=sku_id,
            location_id=location_id,
            status=Supply.Status.OPEN,
            expected_at__isnull=False,
        )
        .annotate(
            promised=Sum(
                "promises__units",
                filter=Q(promises__status=SupplyPromise.Status.OPEN),
                default=0,
            )
        )
        .order_by("expected_at", "id")
    )
    return [
        (supply, max(0, supply.outstanding - supply.promised)) for supply in supplies
    ]


def supply_promises_release(
    *, owner_kind: str, owner_id: int, units: int | None = None, now: datetime
) -> int:
    """Give back ``units`` (None: all) of an owner's open promises, the latest supply
    first; how many were released. The caller holds the balance's lock."""
    released = 0
    rows = SupplyPromise.objects.filter(
        owner_kind=owner_kind, owner_id=owner_id, status__in=OPEN_PROMISES
    ).order_by("-expected_at", "-id")
    for row in rows:
        left = None if units is None else units - released
        if left is not None and left <= 0:
            break
        take = row.units if left is None else min(left, row.units)
        if take < row.units:
            row.units -= take
            row.save(update_fields=["units"])
        else:
            row.status = SupplyPromise.Status.RELEASED
            row.closed_at = now
            row.save(update_fields=["status", "closed_at"])
        released += take
    return released


def supply_promises_hand_over(
    *, owner_kind: str, owner_id: int, to_kind: str, to_id: int
) -> None:
    """A checkout hold's promises become its order line's (the hold became the order)."""
    SupplyPromise.objects.filter(
        owner_kind=owner_kind, owner_id=owner_id, status__in=OPEN_PROMISES
    ).update(owner_kind=to_kind, owner_id=to_id)


def dated_shortages(lines: Sequence, outcomes: Sequence) -> list[dict]:
    """Each promise the ledger refused, as a 409 names it (``shortages_of``); for a
    SKU that takes pre-orders (a ``future_promise_limit``), with the earliest date
    dated supply could cover what the shelf could not (``earliest_available_at``):
    what a pre-order (``allow_future``) could be promised, or None when no supply on
    its way could."""
    dated = []
    for line, outcome in zip(lines, outcomes, strict=True):
        if outcome.outcome != Outcome.REFUSED:
            continue
        (shortage,) = shortages_of([line], [outcome])
        dated.append(shortage)
        if not line.sku.future_promise_limit:
            continue
        shelf = max(0, outcome.available_to_promise or 0)
        shortage["earliest_available_at"] = supply_cover_date(
            sku=line.sku, location=line.location, units=line.quantity - shelf
        )
    return dated


def supply_cover_date(*, sku: Sku, location: Location, units: int) -> datetime | None:
    """The earliest date by which dated supply at ``location`` not yet promised could
    cover ``units`` more, within the SKU's cap; None if it never could."""
    if not sku.future_promise_limit:
        return None
    if units > sku.future_promise_limit - promised_ahead(sku=sku):
        return None
    covered = 0
    for supply, free in _free_supply(sku.pk, location.pk):
        covered += free
        if covered >= units:
            return supply.expected_at
    return None
