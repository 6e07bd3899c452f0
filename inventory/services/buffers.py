"""Velocity buffers, live: for a channel whose ``buffer_policy`` is ``velocity``, the
units it keeps back at each SKU-location, set from how fast the SKU sells there on
that channel (``inventory.models.VelocityBuffer``), by the tiers of
``inventory.velocity``.

Which SKU-locations: every one with a balance at a location of the channel's network
(``inventory.networks``). The rate of sale is the units the channel sold there (till
sales and orders leaving, ``inventory.movements.SOLD``, applied or superseded by a
later count) over the trailing ``SALES_RATE_DAYS``, per day: one grouped statement
over the ledger's sales, by the partial index ``stock_movement_sold``. A SKU-location
that sold nothing there gets the slow movers' tier.

- ``buffers_preview``: what a recompute would change, read only: each SKU-location
  whose buffer would move (worst first: the most available-to-promise lost), the
  units the buffers keep out of the channel's available-to-promise today before and
  after, and the SKUs that would newly show zero online (some available-to-promise
  in the network now, none after).
- ``buffers_recompute``: writes the channel's rows, replacing last night's in one
  transaction under the channel's row lock (two recomputes of one channel queue),
  then announces the balances whose buffer moved (``terms_announce``), so the
  channels' webhooks and feed carry the new figures.
- ``buffers_recompute_every``: the nightly job: every active velocity channel, each in
  its own transaction.

A SKU's own ``safety_buffer`` always wins (``inventory.availability.safety_buffer``):
its row is still written, and takes effect if the SKU's own buffer is cleared. A
SKU-location that gained its balance after the last recompute keeps the channel's own
buffer until the next one.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.models import Channel
from config.access import Actor
from config.errors import Conflict

from ..availability import promisable, safety_buffer
from ..locking import BalanceKey
from ..models import Location, StockBalance, StockMovement, VelocityBuffer
from ..movements import SOLD, SOLD_STATUSES
from ..networks import network_locations
from ..selectors import (
    LocationRef,
    SkuRef,
    SourceStates,
    availability_rows,
    source_states,
)
from ..terms import NO_TERMS, channel_terms
from ..velocity import velocity_buffer
from .terms import terms_announce

log = logging.getLogger(__name__)

# Pairs read for availability at a time in a preview.
PREVIEW_CHUNK = 2_000


class NotUnderVelocity(Conflict):
    """Velocity buffers are computed only for a channel under the velocity policy."""

    code = "buffer_policy_not_velocity"
    message = (
        "This channel's buffer policy is not velocity: its buffers are not computed "
        "from its sales."
    )


@dataclass(frozen=True)
class Planned:
    """One SKU-location's buffer as it is and as a recompute would set it."""

    sku_id: int
    location_id: int
    sku_code: str
    location_code: str
    sku_buffer: int | None  # the SKU's own, which wins
    old_units: int | None  # the velocity row now (None: none)
    rate: float  # units a day sold on the channel here
    units: int  # its tier

    @property
    def key(self) -> BalanceKey:
        return (self.sku_id, self.location_id)


@dataclass(frozen=True)
class BufferChange:
    """A SKU-location whose buffer moves: the units kept back before and after (the
    SKU's own buffer, else the velocity row, else the channel's), and what the channel
    may promise there before and after (a preview's; a recompute's are None)."""

    sku: str
    location: str
    before: int
    after: int
    rate: float
    available_to_promise_before: int | None = None
    available_to_promise_after: int | None = None

    @property
    def lost(self) -> int:
        """Available-to-promise the change takes away (negative: gives)."""
        if self.available_to_promise_before is None:
            return 0
        return self.available_to_promise_before - (self.available_to_promise_after or 0)


@dataclass(frozen=True)
class Preview:
    channel: Channel
    rate_days: int
    sku_locations: int  # how many would have a velocity buffer
    changes: list[BufferChange]  # worst first
    held_back_before: int  # units the buffers keep out of ATP today
    held_back_after: int
    newly_zero: list[str] = field(default_factory=list)  # SKU codes


@dataclass(frozen=True)
class Result:
    channel: Channel
    computed_at: datetime
    written: int  # the channel's rows now
    removed: int  # rows at SKU-locations no longer in its network
    changes: list[BufferChange]
    announced: int  # balances announced again

    @property
    def raised(self) -> int:
        return sum(1 for change in self.changes if change.after > change.before)

    @property
    def lowered(self) -> int:
        return sum(1 for change in self.changes if change.after < change.before)


def buffers_preview(*, channel: Channel) -> Preview:
    """What ``buffers_recompute`` would change now (reads only). Refused with
    ``NotUnderVelocity`` unless the channel's policy is velocity. Availability is
    read as ``GET /api/v1/availability/`` reads it, a chunk of pairs at a time."""
    _ensure_velocity(channel)
    now = timezone.now()
    locations = {place.pk: place for place in network_locations(channel=channel)}
    plan, _ = _plan(channel, now, locations)
    promise: dict[BalanceKey, tuple[int, int]] = {}
    held: list[int] = [0, 0]
    sources = source_states()
    for start in range(0, len(plan), PREVIEW_CHUNK):
        chunk = plan[start : start + PREVIEW_CHUNK]
        _promise(channel, chunk, locations, (now, sources), promise, held)
    changes, by_sku = [], defaultdict(lambda: [0, 0])
    for row in plan:
        before, after = promise[row.key]
        by_sku[row.sku_code][0] += before
        by_sku[row.sku_code][1] += after
        change = _change(channel, row, before, after)
        if change is not None:
            changes.append(change)
    changes.sort(key=lambda c: (-c.lost, c.before - c.after, c.sku, c.location))
    return Preview(
        channel=channel,
        rate_days=_rate_days(),
        sku_locations=len(plan),
        changes=changes,
        held_back_before=held[0],
        held_back_after=held[1],
        newly_zero=sorted(
            sku for sku, (before, after) in by_sku.items() if before > 0 and after == 0
        ),
    )


def buffers_recompute(*, channel: Channel, actor: Actor) -> Result:
    """Set the channel's velocity buffers from its sales: its rows replaced in one
    transaction (each with its ``rate`` and ``computed_at``), under the channel's row
    lock, taken before any balance's (the order every change of a channel's terms
    keeps); then the balances whose buffer moved are announced again, in the same
    transaction. Refused with ``NotUnderVelocity`` unless the channel's policy, read
    under the lock, is velocity; nothing is written then."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update(no_key=True).get(pk=channel.pk)
        _ensure_velocity(channel)
        now = timezone.now()
        locations = {place.pk: place for place in network_locations(channel=channel)}
        plan, dropped = _plan(channel, now, locations)
        VelocityBuffer.objects.filter(channel=channel).delete()
        VelocityBuffer.objects.bulk_create(
            [
                VelocityBuffer(
                    channel=channel,
                    sku_id=row.sku_id,
                    location_id=row.location_id,
                    units=row.units,
                    rate=row.rate,
                    computed_at=now,
                )
                for row in plan
            ],
            batch_size=2_000,
        )
        changes, moved = [], set()
        for row in plan:
            change = _change(channel, row, None, None)
            if change is not None:
                changes.append(change)
                moved.add(row.key)
        # A location that left the network: the channel's own buffer applies there
        # again, where the velocity row had set another.
        keeps = channel.safety_buffer
        moved.update(
            key
            for key, (units, own) in dropped.items()
            if safety_buffer(own, keeps, units) != safety_buffer(own, keeps, None)
        )
        announced = terms_announce(keys=moved)
    log.info(
        "%s recomputed %s's velocity buffers: %d rows, %d changed, %d removed",
        actor.name, channel.code, len(plan), len(changes), len(dropped),
    )  # fmt: skip
    return Result(
        channel=channel,
        computed_at=now,
        written=len(plan),
        removed=len(dropped),
        changes=changes,
        announced=announced,
    )


def buffers_recompute_every(*, actor: Actor) -> list[Result]:
    """Every active channel under the velocity policy, in code order, each in its own
    transaction; a channel whose policy changed meanwhile is passed over."""
    results = []
    for channel in Channel.objects.filter(
        is_active=True, buffer_policy=Channel.BufferPolicy.VELOCITY
    ).order_by("code"):
        try:
            results.append(buffers_recompute(channel=channel, actor=actor))
        except NotUnderVelocity:
            continue
    return results


def _ensure_velocity(channel: Channel) -> None:
    if channel.buffer_policy != Channel.BufferPolicy.VELOCITY:
        raise NotUnderVelocity(
            f"Channel {channel.code!r} keeps a fixed buffer (buffer_policy "
            f"{channel.buffer_policy!r}): set it to 'velocity' to compute its buffers "
            "from its sales.",
            channel=channel.code,
            buffer_policy=channel.buffer_policy,
        )


def _rate_days() -> int:
    return max(1, settings.SALES_RATE_DAYS)


def _plan(
    channel: Channel, now: datetime, locations: dict[int, Location]
) -> tuple[list[Planned], dict[BalanceKey, tuple[int, int | None]]]:
    """Each SKU-location of the channel's network with a balance, in (SKU, location)
    order, with its buffer now and as a recompute would set it; and the channel's
    rows elsewhere (``{key: (units, the SKU's own buffer)}``), which it would drop.
    Three statements: the balances, the channel's rows, its sales by SKU-location."""
    days = _rate_days()
    old = {
        (sku, place): (units, sku_buffer)
        for sku, place, units, sku_buffer in VelocityBuffer.objects.filter(
            channel=channel
        ).values_list("sku_id", "location_id", "units", "sku__safety_buffer")
    }
    sold = {
        (row["sku_id"], row["location_id"]): row["units"]
        for row in StockMovement.objects.filter(
            type__in=SOLD,
            status__in=SOLD_STATUSES,
            channel=channel,
            occurred_at__gte=now - timedelta(days=days),
            occurred_at__lt=now,
        )
        .order_by()
        .values("sku_id", "location_id")
        .annotate(units=Sum("quantity"))
    }
    plan = []
    for sku, place, sku_code, place_code, sku_buffer in (
        StockBalance.objects.filter(location_id__in=list(locations))
        .order_by("sku_id", "location_id")
        .values_list(
            "sku_id", "location_id", "sku__code", "location__code", "sku__safety_buffer"
        )
    ):
        rate = max(0, sold.get((sku, place), 0)) / days
        previous = old.pop((sku, place), None)
        plan.append(
            Planned(
                sku_id=sku,
                location_id=place,
                sku_code=sku_code,
                location_code=place_code,
                sku_buffer=sku_buffer,
                old_units=None if previous is None else previous[0],
                rate=rate,
                units=velocity_buffer(rate),
            )
        )
    return plan, old


def _change(
    channel: Channel,
    row: Planned,
    promise_before: int | None,
    promise_after: int | None,
) -> BufferChange | None:
    """The SKU-location's change of buffer, or None if what it keeps back stays."""
    before = safety_buffer(row.sku_buffer, channel.safety_buffer, row.old_units)
    after = safety_buffer(row.sku_buffer, channel.safety_buffer, row.units)
    if before == after:
        return None
    return BufferChange(
        sku=row.sku_code,
        location=row.location_code,
        before=before,
        after=after,
        rate=row.rate,
        available_to_promise_before=promise_before,
        available_to_promise_after=promise_after,
    )


def _promise(
    channel: Channel,
    chunk: Sequence[Planned],
    locations: dict[int, Location],
    when: tuple[datetime, SourceStates],
    promise: dict[BalanceKey, tuple[int, int]],
    held: list[int],
) -> None:
    """What the channel may promise at each of ``chunk`` with its buffer now and
    after (into ``promise``), and the units the buffers keep out of it (added to
    ``held``): the availability API's rows, and the same rule with the new buffer.
    ``when``: the moment read as of, and the sources' health read once for all."""
    now, sources = when
    rows = availability_rows(
        pairs=[
            (
                SkuRef(row.sku_id, row.sku_code, row.sku_buffer),
                LocationRef(
                    row.location_id,
                    row.location_code,
                    locations[row.location_id].kind,
                    locations[row.location_id].pos_last_event_at,
                ),
            )
            for row in chunk
        ],
        channel=channel,
        sources=sources,
    )
    terms = channel_terms(
        channel_id=channel.pk, keys={row.key for row in chunk}, now=now
    )
    for row, read in zip(chunk, rows, strict=True):
        _, own, others, _ = terms.get(row.key, NO_TERMS)
        after_keep = safety_buffer(row.sku_buffer, channel.safety_buffer, row.units)
        unbuffered = promisable(
            available=read.available, keep=0, own=own, others=others
        )
        after = promisable(
            available=read.available, keep=after_keep, own=own, others=others
        )
        promise[row.key] = (read.available_to_promise, after)
        held[0] += unbuffered - read.available_to_promise
        held[1] += unbuffered - after
