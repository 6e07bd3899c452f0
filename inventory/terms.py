"""A channel's terms at each SKU and location: what it keeps back there under the
``velocity`` policy, and the protections in force (``inventory.models.channels``).

``channel_terms`` reads them for a set of balances in one statement, on PostgreSQL and
SQLite alike, from the same SQL fragments the database's own
``onestock_velocity_buffer`` and ``onestock_protections`` are generated from
(``inventory.availability``): the checkout's fast path reads them there, every other
promise and every read here. Allocations are sparse (a row only where a manager
protected units); a velocity channel has a buffer at every SKU-location of its
network. Each is read by its (sku, location) index, the exact pairs asked for.

A promise reads them once the balances are locked (``reservations``,
``commitments``): a hold placed or released meanwhile is then counted, so no channel
takes units protected for another.
"""

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections

from config.database import among, can_prepare, read_rows

from .availability import (
    ALLOCATIONS_FROM_SQL,
    HELD_SQL,
    VELOCITY_BUFFERS_FROM_SQL,
    promisable,
    protection_in_force,
    safety_buffer,
)
from .locking import BalanceKey


class Terms(NamedTuple):
    """One channel's terms at one SKU and location."""

    velocity_buffer: int | None = None  # None: the channel's own buffer applies
    own: int = 0  # its protection in force
    others: int = 0  # the other channels' protections in force
    # False at a location outside the channel's network: it promises nothing there.
    sells_here: bool = True


NO_TERMS = Terms()


class Protection(NamedTuple):
    """One allocation as it stands: the units protected, and how many of them the
    channel's active holds have taken."""

    channel_id: int
    sku_id: int
    location_id: int
    units: int
    held: int

    @property
    def in_force(self) -> int:
        return protection_in_force(self.units, self.held)


def protections(
    *, keys: Collection[BalanceKey], now: datetime, using: str = DEFAULT_DB_ALIAS
) -> list[Protection]:
    """Every allocation in force at these (SKU, location) pairs, every channel's."""
    keys = set(keys)
    if not keys:
        return []
    params: list = []
    statement = _allocations(keys, now, params, using)
    return [
        Protection(*row)
        for row in read_rows(statement, params, using=using)
        if (row[1], row[2]) in keys
    ]


def channel_terms(
    *,
    channel_id: int | None,
    keys: Collection[BalanceKey],
    now: datetime,
    using: str = DEFAULT_DB_ALIAS,
) -> dict[BalanceKey, Terms]:
    """The terms of ``channel_id`` at each of ``keys`` that has any (absent: none,
    ``NO_TERMS``), in one statement. With no channel there are none: a reading for
    nobody in particular keeps nothing back and protects nothing."""
    keys = set(keys)
    if channel_id is None or not keys:
        return {}
    params: list = []
    # The velocity buffers as rows of their own (no channel, their units, no holds),
    # and the locations of the channel's network (no SKU).
    statement = (
        f"{_allocations(keys, now, params, using)} UNION ALL "
        f"SELECT NULL, buffer.sku_id, buffer.location_id, buffer.units, NULL "
        f"FROM {VELOCITY_BUFFERS_FROM_SQL} AND buffer.channel_id = %s "
        f"AND {_pairs('buffer', keys, [channel_id], params, using)} UNION ALL "
        "SELECT NULL, NULL, network.location_id, NULL, NULL "
        "FROM inventory_networklocation network WHERE network.channel_id = %s"
    )
    params.append(channel_id)
    own: dict[BalanceKey, int] = {}
    others: dict[BalanceKey, int] = {}
    velocity: dict[BalanceKey, int] = {}
    network: set[int] = set()
    for owner, sku, place, units, held in read_rows(statement, params, using=using):
        key = (sku, place)
        if sku is None:
            network.add(place)
        elif key not in keys:
            continue
        elif owner is None:
            velocity[key] = units
        else:
            side = own if owner == channel_id else others
            side[key] = side.get(key, 0) + protection_in_force(units, held)
    outside = {key for key in keys if network and key[1] not in network}
    return {
        key: Terms(
            velocity.get(key), own.get(key, 0), others.get(key, 0), key not in outside
        )
        for key in velocity.keys() | own.keys() | others.keys() | outside
    }


def _allocations(keys: set[BalanceKey], now: datetime, params: list, using: str) -> str:
    """The allocations counting at these pairs (or more: callers keep the pairs they
    asked for), as (channel, SKU, location, units, held)."""
    held = HELD_SQL.format(
        sku="allocation.sku_id",
        location="allocation.location_id",
        channel="allocation.channel_id",
        now="%s",
        except_hold="0",
    )
    return (
        "SELECT allocation.channel_id, allocation.sku_id, allocation.location_id, "
        f"allocation.units, {held} FROM {ALLOCATIONS_FROM_SQL} AND "
        + _pairs(
            "allocation",
            keys,
            [connections[using].ops.adapt_datetimefield_value(now)],
            params,
            using,
        )
    )


def _pairs(
    alias: str, keys: set[BalanceKey], first: list, params: list, using: str
) -> str:
    """``alias``'s (SKU, location) one of ``keys``, after the parameters ``first``.
    On PostgreSQL exactly the pairs, as two arrays (one probe of the (sku, location)
    index each: a channel's velocity buffers cover its whole network, and every SKU
    of a page against every location would read far more than the page); elsewhere
    (SQLite) the two lists, every pair of them: callers keep the pairs they asked
    for."""
    params.extend(first)
    if can_prepare(using):
        params += [[sku for sku, _ in keys], [place for _, place in keys]]
        return (
            f"({alias}.sku_id, {alias}.location_id) IN (SELECT wanted.sku_id, "
            "wanted.location_id FROM unnest(%s::bigint[], %s::bigint[]) "
            "AS wanted(sku_id, location_id))"
        )
    skus = among(f"{alias}.sku_id", {sku for sku, _ in keys}, params, using=using)
    places = among(
        f"{alias}.location_id", {place for _, place in keys}, params, using=using
    )
    return f"{skus} AND {places}"


def promise_under(
    terms: Terms, *, available: int, sku_buffer: int | None, channel_buffer: int | None
) -> tuple[int, int]:
    """The units a channel keeps back at one SKU and location, and what it may
    promise there (``inventory.availability``'s rule, under its ``terms``): nothing
    outside its network."""
    buffer = safety_buffer(sku_buffer, channel_buffer, terms.velocity_buffer)
    if not terms.sells_here:
        return buffer, 0
    return buffer, promisable(
        available=available, keep=buffer, own=terms.own, others=terms.others
    )
