"""What a buyer (or the ERP) decides about a purchase order on its way: a new date for
all of it (``supply_reschedule``), or calling off what has not come
(``supply_call_off``). Neither changes a quantity on the shelf; each is on the
ledger's trail: a ``supply_rescheduled`` entry with the new date, or a
``supply_called_off`` entry taking the outstanding units out of ``incoming``. Either way
the promises made against it are laid again over the supply left
(``supply.promises_rearrange``): the owners' apps are told the new promise date, or
that no supply is left for some units (a ``supply_delayed`` case for a person).

Each call is one transaction: the balances of every SKU and location the order
covers are locked first (inventory.locking), then its supply rows; the same call
again changes nothing."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog.models import Channel
from config.access import Actor
from config.errors import Conflict, InvalidInput, NotFound
from config.transitions import record_event

from ..locking import balances_lock
from ..models import MovementType, Supply
from ..signals import supply_promises_moved
from .ledger import MovementInput, movements_record
from .supply import PromiseMoved, promises_rearrange

Status = Supply.Status


def supply_reschedule(
    *,
    reference: str,
    expected_at: datetime,
    actor: Actor,
    channel: Channel | None = None,
    note: str = "",
) -> list[Supply]:
    """Every open line of purchase order ``reference`` is due at ``expected_at`` now;
    the lines as they stand. ``channel``: the source whose order it is (None: any,
    as long as only one has that reference)."""
    with transaction.atomic():
        supplies = _locked(reference, channel, statuses=(Status.OPEN,))
        now = timezone.now()
        changed = [supply for supply in supplies if supply.expected_at != expected_at]
        # Each line's new date on the ledger's trail (nothing moves).
        changed and movements_record(
            movements=[
                MovementInput(
                    reference=f"#supply/{supply.pk}/reschedule/"
                    f"{supply.events.filter(action='supply_reschedule').count() + 1}",
                    type=MovementType.SUPPLY_RESCHEDULED,
                    sku=supply.sku,
                    location=supply.location,
                    quantity=supply.outstanding,
                    occurred_at=now,
                    channel=supply.channel,
                    reason=(note or f"Rescheduled to {_day(expected_at)}")[:200],
                    expected_at=expected_at,
                    supply_reference=reference,
                )
                for supply in changed
            ],
            actor=actor,
        )
        for supply in changed:
            was = supply.expected_at
            supply.expected_at = expected_at
            supply.save(update_fields=["expected_at"])
            record_event(
                supply,
                actor=actor,
                action="supply_reschedule",
                from_status=supply.status,
                to_status=supply.status,
                at=now,
                note=note
                or f"Due {_day(expected_at)} instead of {_day(was) or 'undated'}.",
                detail={"from": _iso(was), "to": _iso(expected_at)},
            )
        why = f"Purchase order {reference} rescheduled to {_day(expected_at)}."
        _rearranged(changed, why=why, actor=actor, now=now)
    return supplies


def supply_call_off(
    *, reference: str, reason: str, actor: Actor, channel: Channel | None = None
) -> list[Supply]:
    """What purchase order ``reference`` still had to bring will not come: its open
    lines are called off, their outstanding units no longer incoming. Called off
    already: answered as it stands."""
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the purchase order is called off."]})
    with transaction.atomic():
        supplies = _locked(
            reference, channel, statuses=(Status.OPEN, Status.CALLED_OFF)
        )
        now = timezone.now()
        calling = [supply for supply in supplies if supply.status == Status.OPEN]
        movements_record(
            movements=[
                MovementInput(
                    reference=f"#supply/{supply.pk}/call-off",
                    type=MovementType.SUPPLY_CALLED_OFF,
                    sku=supply.sku,
                    location=supply.location,
                    quantity=supply.outstanding,
                    occurred_at=now,
                    channel=supply.channel,
                    reason=reason.strip()[:200],
                )
                for supply in calling
                if supply.outstanding
            ],
            actor=actor,
        )
        for supply in calling:
            supply.status = Status.CALLED_OFF
            supply.closed_at = now
            supply.closed_by = actor.name
            supply.save(update_fields=["status", "closed_at", "closed_by"])
            record_event(
                supply,
                actor=actor,
                action="supply_call_off",
                from_status=Status.OPEN,
                to_status=Status.CALLED_OFF,
                at=now,
                note=reason.strip(),
                detail={"outstanding": supply.outstanding},
            )
        _rearranged(
            calling,
            why=f"Purchase order {reference} called off: {reason.strip().rstrip('.')}.",
            actor=actor,
            now=now,
        )
    return supplies


def _locked(
    reference: str, channel: Channel | None, *, statuses: tuple[str, ...]
) -> list[Supply]:
    """The purchase order's supply in ``statuses``, its balances locked first, then
    its rows; 404 when it has none, 400 when two sources use the reference."""
    found = Supply.objects.filter(kind=Supply.Kind.PURCHASE, reference=reference)
    if channel is not None:
        found = found.filter(channel=channel)
    sources = set(
        found.filter(status__in=statuses).values_list("channel__code", flat=True)
    )
    if len(sources) > 1:
        raise InvalidInput(
            {
                "channel": [
                    f"Purchase order {reference!r} comes from several sources "
                    f"({', '.join(sorted(sources))}): name the channel."
                ]
            }
        )
    keys = set(found.filter(status__in=statuses).values_list("sku_id", "location_id"))
    if not keys:
        raise NotFound(
            f"No purchase order {reference!r} on its way"
            + (" (every line is received or called off)" if found.exists() else "")
            + "."
        )
    balances_lock(keys=keys)
    rows = list(
        found.filter(status__in=statuses)
        .select_for_update(no_key=True, of=("self",))
        .select_related("sku", "location", "channel")
        .order_by("id")
    )
    if not {(row.sku_id, row.location_id) for row in rows} <= keys:
        # A line announced between the look and the lock, at a balance not locked:
        # locking it now would break the one lock order. Nothing was changed.
        raise Conflict(
            f"Purchase order {reference!r} changed while this was asked; send it again."
        )
    return rows


def _rearranged(
    supplies: list[Supply], *, why: str, actor: Actor, now: datetime
) -> list[PromiseMoved]:
    moved: list[PromiseMoved] = []
    for key in sorted({(supply.sku_id, supply.location_id) for supply in supplies}):
        moved += promises_rearrange(key=key, why=why, now=now)
    if moved:
        supply_promises_moved.send(sender=Supply, moves=moved, actor=actor)
    return moved


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when is not None else ""


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
