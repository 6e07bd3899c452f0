"""Promises against future supply, made and given back: a pre-order's (or
back-order's) units the shelf cannot cover, promised against the earliest dated
supply at the location with units not yet promised (``supply_promise``), never
beyond the SKU's ``future_promise_limit`` across every location; given back when the
pre-order is cancelled or the hold released (``supply_promises_release``); handed
from a checkout hold's line to its order's line (``supply_promises_hand_over``).

The caller holds the balance of the SKU at the location (inventory.locking): that
lock serializes every change of its supply and promises, with receipts landing them
(``supply``). A new promise also locks the SKU's row, after the balances, for the
cap across locations (``promise_the_rest`` locks every SKU a request promises at
once, in one order). Two pre-orders for the last unit of supply queue on the
balance, and one is refused.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F

from catalog.models import Channel, Sku
from config.access import Actor

from ..errors import InsufficientStock
from ..models import Location, Supply, SupplyPromise, promised_units
from ..signals import supply_promises_moved
from ..timeline_selectors import promised_ahead
from .ledger_inputs import Outcome, shortages_of
from .supply import OPEN_PROMISES, PromiseMoved, has_unsupplied, promises_rearrange


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
        .annotate(promised=promised_units())
        .order_by("expected_at", "id")
    )
    return [
        (supply, max(0, supply.outstanding - supply.promised)) for supply in supplies
    ]


def supply_promises_release(
    *,
    owner_kind: str,
    owner_id: int,
    now: datetime,
    actor: Actor,
    units: int | None = None,
) -> int:
    """Give back ``units`` (None: all) of an owner's promises, those without supply
    first, then the latest supply; how many were released. Units freed on a supply go
    to whoever waits without supply there (oldest first); an owner left with none
    without supply is told so (its ``supply_delayed`` case settles). The caller holds
    the balance's lock."""
    released = unsupplied = 0
    rows = (
        SupplyPromise.objects.filter(
            owner_kind=owner_kind, owner_id=owner_id, status__in=OPEN_PROMISES
        )
        .select_related("sku", "location")
        .order_by(F("expected_at").desc(nulls_first=True), "-id")
    )
    keys: dict[tuple[int, int], SupplyPromise] = {}
    for row in rows:
        left = None if units is None else units - released
        if left is not None and left <= 0:
            break
        take = row.units if left is None else min(left, row.units)
        if row.status == SupplyPromise.Status.UNSUPPLIED:
            unsupplied += take
        if take < row.units:
            row.units -= take
            row.save(update_fields=["units"])
        else:
            row.status = SupplyPromise.Status.RELEASED
            row.closed_at = now
            row.save(update_fields=["status", "closed_at"])
        released += take
        keys[(row.sku_id, row.location_id)] = row
    moved = [
        change
        for key in sorted(keys)
        if has_unsupplied(key)
        for change in promises_rearrange(
            key=key, why="Units another pre-order gave back.", now=now
        )
    ]
    if unsupplied and not _still_unsupplied(owner_kind, owner_id):
        row = next(iter(keys.values()))
        moved.append(
            PromiseMoved(
                owner_kind=owner_kind,
                owner_id=owner_id,
                sku=row.sku,
                location=row.location,
                was_expected_at=None,
                expected_at=None,
                unsupplied=0,
                why="Its units without supply were given up.",
                released=True,
            )
        )
    if moved:
        supply_promises_moved.send(sender=Supply, moves=moved, actor=actor)
    return released


def _still_unsupplied(owner_kind: str, owner_id: int) -> bool:
    return SupplyPromise.objects.filter(
        owner_kind=owner_kind,
        owner_id=owner_id,
        status=SupplyPromise.Status.UNSUPPLIED,
    ).exists()


def supply_promises_hand_over(
    *, owner_kind: str, owner_id: int, to_kind: str, to_id: int, actor: Actor
) -> None:
    """A checkout hold's promises become its order line's (the hold became the
    order); units with no supply left to come from are the order's to chase (a
    ``supply_delayed`` case)."""
    handed = SupplyPromise.objects.filter(
        owner_kind=owner_kind, owner_id=owner_id, status__in=OPEN_PROMISES
    )
    waiting = list(
        handed.filter(status=SupplyPromise.Status.UNSUPPLIED).select_related(
            "sku", "location"
        )
    )
    handed.update(owner_kind=to_kind, owner_id=to_id)
    if waiting:
        supply_promises_moved.send(
            sender=Supply,
            moves=[
                PromiseMoved(
                    owner_kind=to_kind,
                    owner_id=to_id,
                    sku=waiting[0].sku,
                    location=waiting[0].location,
                    was_expected_at=None,
                    expected_at=None,
                    unsupplied=sum(row.units for row in waiting),
                    why="The checkout hold's pre-ordered units had no supply left.",
                )
            ],
            actor=actor,
        )


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


@dataclass(frozen=True)
class Promised:
    """A pre-order's line the shelf could not cover: ``shelf`` units the shelf
    can still take, ``later`` promised against supply due by ``due``."""

    line: object
    shelf: int
    later: int
    due: datetime


def promise_the_rest(
    *,
    channel: Channel,
    lines: Sequence,
    outcomes: Sequence,
    owner_of: Callable[[object], tuple[str, int]],
    now: datetime,
) -> list[Promised]:
    """For each line the ledger refused (``lines`` with ``sku``, ``location`` and
    ``quantity``, in the order posted): what the shelf can take, and the rest promised
    against dated supply for ``owner_of(line)``; 409 ``insufficient_stock`` (nothing
    promised: the caller's transaction rolls back) when neither covers a line. Every
    SKU's row is locked first, in one order (inventory.locking)."""
    refused = [
        (line, outcome)
        for line, outcome in zip(lines, outcomes, strict=True)
        if outcome.outcome == Outcome.REFUSED
    ]
    list(
        Sku.objects.select_for_update(no_key=True)
        .filter(pk__in={line.sku.pk for line, _ in refused})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    promised: list[Promised] = []
    short: list[dict] = []
    for line, outcome in refused:
        shelf = max(0, outcome.available_to_promise or 0)
        later = line.quantity - shelf
        kind, owner_id = owner_of(line)
        due = supply_promise(
            channel=channel,
            sku=line.sku,
            location=line.location,
            units=later,
            owner_kind=kind,
            owner_id=owner_id,
            now=now,
        )
        if due is None:
            short += dated_shortages([line], [outcome])
        else:
            promised.append(Promised(line=line, shelf=shelf, later=later, due=due))
    if short:
        raise InsufficientStock(
            "Neither the shelf nor the supply on its way covers every line; nothing "
            "was held, committed or promised.",
            shortages=short,
        )
    return promised
