"""Future supply through the ledger: what the ledger's own entries do to it, and the
promises made against it (pre-orders and back-orders).

- An expected receipt (``receipt_expected``) announces a purchase order's units at a
  location (a Supply, dated by its ``expected_at``, named by its
  ``supply_reference``); a transfer out (``transfer_out``) announces units in transit
  to the other location, due at its ``expected_at`` or after the route's lead time
  (TransferRoute). A transfer asked for an order (``#transfer/…``) is that order's
  already, never supply to promise.
- A receipt settles the supply it names (``supply_reference``), else the earliest open
  purchase supply of that SKU at that location; a transfer in settles the earliest
  transfer from its sender. A supply is received when its units are all in; a short
  receipt leaves it open for the rest (late once its date has passed) until the rest
  comes or it is called off.
- Units received land the promises made against that supply, oldest promise first
  (``promised_at``): each becomes its owner's committed stock (an order line) or
  reserved stock (a checkout hold), and ``supply_landed`` tells the owner's app.
- Promises are made and given back in ``supply_promises``.
- ``promises_rearrange``: after a reschedule, a call-off or a promise the landing could
  not keep, the open promises at a SKU and location are laid again over the open dated
  supply, oldest promise first on the earliest supply; what no supply covers becomes
  ``unsupplied``, and ``supply_promises_moved`` tells the owners' apps (the order's
  timeline, a ``supply_delayed`` case).

Everything here runs with the balance of the SKU at the location locked (the ledger's
batch, or the caller's ``balances_lock``): that lock is what serializes every change of
a SKU's supply and promises at a location. A new promise also locks the SKU's row
(after the balances, inventory.locking), for the cap across locations.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from catalog.models import Channel, Sku
from config.access import Actor
from config.transitions import record_event

from ..models import (
    Location,
    MovementType,
    ReservationLine,
    StockMovement,
    Supply,
    SupplyPromise,
    TransferRoute,
)
from ..signals import supply_landed, supply_promises_moved

Owner = SupplyPromise.Owner
# A transfer asked for an order's units (inventory.services.transfers): those units
# are the order's, never supply to promise to anyone else.
ORDER_TRANSFER_PREFIX = "#transfer/"
FOLLOWED = frozenset(
    {
        MovementType.RECEIPT_EXPECTED,
        MovementType.TRANSFER_OUT,
        MovementType.RECEIPT,
        MovementType.TRANSFER_IN,
    }
)
OPEN_PROMISES = (SupplyPromise.Status.OPEN, SupplyPromise.Status.UNSUPPLIED)
Key = tuple[int, int]  # (SKU id, location id)


@dataclass(frozen=True)
class Landing:
    """Units of one owner's promise that became its stock when ``supply`` landed."""

    owner_kind: str
    owner_id: int
    units: int
    supply: Supply
    # The ledger entry that made them the owner's (commit or reserve).
    movement: StockMovement


@dataclass(frozen=True)
class PromiseMoved:
    """An owner's promise after the supply under it moved: its new date (the latest
    supply it now waits for; None when some of its units have none), the date it had,
    and how many of its units no supply covers."""

    owner_kind: str
    owner_id: int
    sku: Sku
    location: Location
    was_expected_at: datetime | None
    expected_at: datetime | None
    unsupplied: int
    why: str
    # The owner gave its units up (cancelled): nothing to tell its customer, only
    # its ``supply_delayed`` case to settle.
    released: bool = False


def supply_follow(*, entries: Sequence[StockMovement], actor: Actor) -> None:
    """What a ledger batch's applied entries do to future supply: called by the batch
    itself, in its transaction, with its balances locked."""
    followed = [
        entry
        for entry in entries
        if entry.type in FOLLOWED
        # A receipt older than the latest count is superseded on the shelf (the count
        # saw its units) but arrived all the same: it settles its supply.
        and entry.status != StockMovement.Status.REJECTED
        and not entry.reference.startswith(ORDER_TRANSFER_PREFIX)
    ]
    arriving = {
        (entry.sku_id, entry.location_id)
        for entry in followed
        if entry.type in (MovementType.RECEIPT, MovementType.TRANSFER_IN)
    }
    if arriving:
        # Most receipts meet no supply on its way: one look for the whole batch.
        expected = _with_open_supply(arriving)
        followed = [
            entry
            for entry in followed
            if entry.type in (MovementType.RECEIPT_EXPECTED, MovementType.TRANSFER_OUT)
            or (entry.sku_id, entry.location_id) in expected
        ]
    if not followed:
        return
    now = timezone.now()
    landings: list[Landing] = []
    announced: set[Key] = set()
    received: set[Key] = set()
    for entry in followed:
        if entry.type in (MovementType.RECEIPT_EXPECTED, MovementType.TRANSFER_OUT):
            supply = _announced(entry, actor, now)
            if supply.expected_at is not None:
                announced.add((supply.sku_id, supply.location_id))
        elif _received(entry, actor, now, landings):
            received.add((entry.sku_id, entry.location_id))
    # New dated supply may cover promises that had none; a receipt's promises that
    # its units did not keep (short, or the shelf no longer held them) move on.
    moved: list[PromiseMoved] = []
    for key in sorted(received | {key for key in announced if has_unsupplied(key)}):
        why = "Supply received." if key in received else "New supply announced."
        moved += promises_rearrange(key=key, why=why, now=now)
    if landings:
        _holds_landed(landings)
        supply_landed.send(sender=Supply, landings=landings, actor=actor)
    if moved:
        supply_promises_moved.send(sender=Supply, moves=moved, actor=actor)


def _with_open_supply(keys: set[Key]) -> set[Key]:
    found = Supply.objects.filter(
        status=Supply.Status.OPEN,
        sku_id__in={sku for sku, _ in keys},
        location_id__in={location for _, location in keys},
    ).values_list("sku_id", "location_id")
    return set(found.distinct()) & keys


def _announced(entry: StockMovement, actor: Actor, now: datetime) -> Supply:
    if entry.type == MovementType.RECEIPT_EXPECTED:
        supply = Supply.objects.create(
            kind=Supply.Kind.PURCHASE,
            channel_id=entry.channel_id,
            reference=entry.supply_reference,
            movement=entry,
            sku_id=entry.sku_id,
            location_id=entry.location_id,
            expected_at=entry.expected_at,
            quantity=entry.quantity,
            created_at=now,
        )
        why = "Expected receipt announced."
    else:
        due = entry.expected_at or _after_lead_time(entry)
        supply = Supply.objects.create(
            kind=Supply.Kind.TRANSFER,
            channel_id=entry.channel_id,
            reference=entry.reference,
            movement=entry,
            sku_id=entry.sku_id,
            location_id=entry.other_location_id,
            from_location_id=entry.location_id,
            expected_at=due,
            quantity=entry.quantity,
            created_at=now,
        )
        why = "Sent from another location."
    record_event(
        supply,
        actor=actor,
        action="supply_announce",
        to_status=Supply.Status.OPEN,
        at=now,
        note=why if supply.expected_at else f"{why} Undated: never promised.",
        detail={"expected_at": _iso(supply.expected_at)},
    )
    return supply


def _after_lead_time(entry: StockMovement) -> datetime | None:
    hours = (
        TransferRoute.objects.filter(
            from_location_id=entry.location_id, to_location_id=entry.other_location_id
        )
        .values_list("lead_time_hours", flat=True)
        .first()
    )
    return None if hours is None else entry.occurred_at + timedelta(hours=hours)


def _received(
    entry: StockMovement, actor: Actor, now: datetime, landings: list[Landing]
) -> bool:
    """Settle the supply a receipt (or a transfer in) fulfils, earliest first, and land
    the promises its units keep (added to ``landings``); whether it settled any."""
    is_transfer = entry.type == MovementType.TRANSFER_IN
    matching = Supply.objects.filter(
        sku_id=entry.sku_id,
        location_id=entry.location_id,
        status=Supply.Status.OPEN,
        kind=Supply.Kind.TRANSFER if is_transfer else Supply.Kind.PURCHASE,
    )
    if is_transfer:
        matching = matching.filter(from_location_id=entry.other_location_id)
    elif entry.supply_reference:
        # The source's own purchase order first; else the one of that reference
        # another source announced (the ERP orders, the warehouse receives).
        named = matching.filter(reference=entry.supply_reference)
        own = named.filter(channel_id=entry.channel_id)
        matching = own if own.exists() else named
    left = entry.quantity
    settled = False
    for supply in matching.order_by(F("expected_at").asc(nulls_last=True), "id"):
        if left <= 0:
            break
        units = min(left, supply.outstanding)
        left -= units
        supply.received += units
        done = supply.received >= supply.quantity
        if done:
            supply.status = Supply.Status.RECEIVED
            supply.closed_at = now
            supply.closed_by = actor.name
        supply.save(update_fields=["received", "status", "closed_at", "closed_by"])
        record_event(
            supply,
            actor=actor,
            action="supply_receive",
            from_status=Supply.Status.OPEN,
            to_status=supply.status,
            at=now,
            note=f"{units} received ({entry.reference}); "
            f"{supply.outstanding} still to come.",
            detail={"units": units, "movement": entry.reference},
        )
        landings += _land(supply, units, actor, now)
        settled = True
    return settled


def _holds_landed(landings: Sequence[Landing]) -> None:
    """A checkout hold's landed units are reserved now, no longer future."""
    held = [one for one in landings if one.owner_kind == Owner.RESERVATION_LINE]
    lines = ReservationLine.objects.in_bulk([landed.owner_id for landed in held])
    for landed in held:
        line = lines[landed.owner_id]
        line.future_quantity -= min(landed.units, line.future_quantity)
        if not line.future_quantity:
            line.supply_expected_at = None
        line.save(update_fields=["future_quantity", "supply_expected_at"])


def _land(supply: Supply, units: int, actor: Actor, now: datetime) -> list[Landing]:
    """The promises ``units`` received keep, oldest first: each becomes its owner's
    stock, in one ledger batch (the balance is this batch's already)."""
    from .ledger import MovementInput, Outcome, movements_record

    kept: list[tuple[SupplyPromise, int]] = []
    for promise in supply.promises.filter(status=SupplyPromise.Status.OPEN).order_by(
        "promised_at", "id"
    ):
        if units <= 0:
            break
        take = min(units, promise.units)
        units -= take
        kept.append((promise, take))
    if not kept:
        return []
    landed_rows = []
    for promise, take in kept:
        if take < promise.units:
            promise.units -= take
            promise.save(update_fields=["units"])
            landed = SupplyPromise.objects.create(
                supply=supply,
                channel_id=promise.channel_id,
                sku_id=promise.sku_id,
                location_id=promise.location_id,
                owner_kind=promise.owner_kind,
                owner_id=promise.owner_id,
                units=take,
                status=SupplyPromise.Status.LANDED,
                promised_at=promise.promised_at,
                expected_at=promise.expected_at,
                closed_at=now,
            )
        else:
            promise.status = SupplyPromise.Status.LANDED
            promise.closed_at = now
            promise.save(update_fields=["status", "closed_at"])
            landed = promise
        landed_rows.append(landed)
    channels = Channel.objects.in_bulk({row.channel_id for row in landed_rows})
    # What was promised before the units came is theirs now: kept whatever the
    # channels' buffers say (the units were not on the shelf to protect).
    outcomes = movements_record(
        movements=[
            MovementInput(
                reference=f"#supply/{supply.pk}/promise/{row.pk}/landed",
                type=(
                    MovementType.COMMIT
                    if row.owner_kind == Owner.ORDER_LINE
                    else MovementType.RESERVE
                ),
                sku=supply.sku,
                location=supply.location,
                quantity=row.units,
                occurred_at=now,
                channel=channels[row.channel_id],
                reason=f"Supply {supply.reference or supply.pk} landed",
            )
            for row in landed_rows
        ],
        actor=actor,
    )
    landings = []
    for row, outcome in zip(landed_rows, outcomes, strict=True):
        if outcome.outcome != Outcome.CREATED:
            # The shelf no longer holds them (a conflict is open there): the promise
            # stays open, and is laid again on the next supply or handed to a person.
            row.status = SupplyPromise.Status.OPEN
            row.closed_at = None
            row.save(update_fields=["status", "closed_at"])
            continue
        landings.append(
            Landing(
                owner_kind=row.owner_kind,
                owner_id=row.owner_id,
                units=row.units,
                supply=supply,
                movement=outcome.movement,
            )
        )
    return landings


def has_unsupplied(key: Key) -> bool:
    sku_id, location_id = key
    return SupplyPromise.objects.filter(
        sku_id=sku_id, location_id=location_id, status=SupplyPromise.Status.UNSUPPLIED
    ).exists()


def promises_rearrange(*, key: Key, why: str, now: datetime) -> list[PromiseMoved]:
    """Lay the open promises of a SKU at a location over its open dated supply again,
    the oldest promise first on the earliest supply; what no supply covers becomes
    ``unsupplied``. Writes only when something moved; the owners whose date (or
    cover) changed."""
    sku_id, location_id = key
    rows = list(
        SupplyPromise.objects.filter(
            sku_id=sku_id, location_id=location_id, status__in=OPEN_PROMISES
        )
        .select_related("sku", "location", "supply")
        .order_by("promised_at", "id")
    )
    if not rows:
        return []
    supplies = [
        supply
        for supply in Supply.objects.filter(
            sku_id=sku_id,
            location_id=location_id,
            status=Supply.Status.OPEN,
            expected_at__isnull=False,
        ).order_by("expected_at", "id")
    ]
    free = {supply.pk: supply.outstanding for supply in supplies}
    owners: dict[tuple[str, int], list[SupplyPromise]] = defaultdict(list)
    for row in rows:
        owners[(row.owner_kind, row.owner_id)].append(row)
    laid: list[SupplyPromise] = []
    moved: list[PromiseMoved] = []
    for (kind, owner_id), held in owners.items():
        first = held[0]
        wanted = sum(row.units for row in held)
        # The date the owner was told: as stored, before the supply under it moved.
        was = _promise_date(held, stored=True)
        was_unsupplied = sum(
            row.units for row in held if row.status == SupplyPromise.Status.UNSUPPLIED
        )
        mine: list[SupplyPromise] = []
        for supply in supplies:
            take = min(wanted, free[supply.pk])
            if take:
                free[supply.pk] -= take
                wanted -= take
                mine.append(_promise_row(first, supply, take))
            if not wanted:
                break
        if wanted:
            mine.append(_promise_row(first, None, wanted))
        date = _promise_date(mine)
        for row in mine:
            row.expected_at = date
        laid += mine
        if date != was or wanted != was_unsupplied:
            moved.append(
                PromiseMoved(
                    owner_kind=kind,
                    owner_id=owner_id,
                    sku=first.sku,
                    location=first.location,
                    was_expected_at=was,
                    expected_at=date,
                    unsupplied=wanted,
                    why=why,
                )
            )
    if not moved and _same(rows, laid):
        return []
    if _same(rows, laid):
        # The same supply under each promise, at a new date (a reschedule).
        for change in moved:
            SupplyPromise.objects.filter(
                pk__in=[row.pk for row in owners[(change.owner_kind, change.owner_id)]]
            ).update(expected_at=change.expected_at)
    else:
        SupplyPromise.objects.filter(pk__in=[row.pk for row in rows]).delete()
        SupplyPromise.objects.bulk_create(laid)
    for change in moved:
        if change.owner_kind == Owner.RESERVATION_LINE:
            ReservationLine.objects.filter(pk=change.owner_id).update(
                supply_expected_at=change.expected_at
            )
    return moved


def _promise_row(
    first: SupplyPromise, supply: Supply | None, units: int
) -> SupplyPromise:
    return SupplyPromise(
        supply=supply,
        channel_id=first.channel_id,
        sku_id=first.sku_id,
        location_id=first.location_id,
        owner_kind=first.owner_kind,
        owner_id=first.owner_id,
        units=units,
        status=(
            SupplyPromise.Status.OPEN
            if supply is not None
            else SupplyPromise.Status.UNSUPPLIED
        ),
        promised_at=first.promised_at,
        expected_at=supply.expected_at if supply is not None else None,
    )


def _promise_date(
    rows: Iterable[SupplyPromise], *, stored: bool = False
) -> datetime | None:
    """The date an owner's units are all due: the latest of its supply (``stored``:
    the promise date the rows recorded); None when some have none."""
    dates = []
    for row in rows:
        if row.supply_id is None and row.supply is None:
            return None
        dates.append(row.expected_at if stored else row.supply.expected_at)
    return max(dates) if dates else None


def _same(before: list[SupplyPromise], after: list[SupplyPromise]) -> bool:
    def shape(rows):
        return sorted(
            (row.owner_kind, row.owner_id, row.supply_id or 0, row.units, row.status)
            for row in rows
        )

    return shape(before) == shape(after)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
