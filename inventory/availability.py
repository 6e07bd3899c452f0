"""What can be sold from a balance, and what a channel keeps back from it: the one
definition, in Python, from which the SQL that the database functions use is
generated.

- ``AVAILABILITY_SIGN``: the buckets that count, each with its sign. Units in transit
  or incoming are not on the shelf yet, so they do not count at all.
- ``available_from(quantities)``: the figure, from a balance (or a change that copied
  its quantities). ``StockBalance.available`` and ``AvailabilityChange.available``.
- ``safety_buffer_for(sku=, channel=)``: the SKU's own buffer if it has one, else the
  channel's velocity buffer at that location (``velocity`` policy, when computed),
  else the channel's own; with no channel, nothing is held back.
- ``protection_in_force(units, held)``: what stays protected for a channel at a SKU
  and location: its allocation less its own active holds there (they take from it
  first).
- ``promisable(available=, keep=, own=, others=)``: what a channel may promise: the
  shared pool beyond every protection, plus its own protection (never more than is
  there), less what it keeps back. ``AvailabilityRow.available_to_promise``, and the
  check every hold and commitment passes under the balance's lock.
- ``available_sql(alias)``: the same figure as a SQL expression over a balance row's
  columns, for queries that compute it in the database (reconciliation.dashboard).
- ``availability_sql_file()``: the text of ``inventory/sql/availability.sql``, which
  defines ``onestock_available(inventory_stockbalance)``,
  ``onestock_safety_buffer(integer, integer, integer)``, ``onestock_promisable``,
  ``onestock_velocity_buffer`` and ``onestock_protections`` for the functions that
  run inside PostgreSQL (the hold).

Change the rule here, then regenerate the file and apply it with a one-line migration
(``operations = [apply_sql_files(availability="<digest>")]``, see ``inventory.sql``;
the failing test prints the line)::

    .venv/bin/python -m inventory.availability > inventory/sql/availability.sql

tests/inventory/test_database_code.py fails until the file matches this module, and
compares the database functions with these ones on every combination of buckets.

Imports nothing from the project, so ``inventory.models`` can import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog.models import Channel, Sku

# How each bucket counts in availability; a bucket not named here does not count.
AVAILABILITY_SIGN = {
    "on_hand": +1,
    "committed": -1,
    "picked": -1,
    "reserved": -1,
    "damaged": -1,
    "quality_control": -1,
}
_TERMS = tuple(AVAILABILITY_SIGN.items())


def available_from(quantities) -> int:
    """What can be sold from a balance's quantities (a balance, or a change that
    copied them): derived, never stored."""
    return sum(sign * getattr(quantities, bucket) for bucket, sign in _TERMS)


def safety_buffer(
    sku_buffer: int | None,
    channel_buffer: int | None,
    velocity_buffer: int | None = None,
) -> int:
    """The units kept back, from the SKU's own buffer (None: not set), the channel's
    velocity buffer at the location (None: not under that policy, or not computed)
    and the channel's own (None: no channel). ``onestock_safety_buffer`` in SQL."""
    if channel_buffer is None:
        return 0
    if sku_buffer is not None:
        return sku_buffer
    return channel_buffer if velocity_buffer is None else velocity_buffer


def safety_buffer_for(
    *, sku: Sku, channel: Channel | None, velocity_buffer: int | None = None
) -> int:
    """A SKU's own buffer overrides the channel's; with no channel, nothing is held."""
    return safety_buffer(
        sku.safety_buffer,
        None if channel is None else channel.safety_buffer,
        velocity_buffer,
    )


def protection_in_force(units: int, held: int) -> int:
    """What stays protected of an allocation of ``units``: its channel's active holds
    there (``held``) took from it first."""
    return max(0, units - held)


def promisable(*, available: int, keep: int, own: int = 0, others: int = 0) -> int:
    """What a channel may promise at a SKU and location: everything beyond the other
    channels' protections in force (``others``), or its own protection (``own``) when
    the stock has fallen below the protections (never more than is there), less the
    units it keeps back (``keep``: its buffer). With no protection: ``available -
    keep``. ``onestock_promisable`` in SQL."""
    return max(0, max(min(own, available), available - others) - keep)


def available_sql(alias: str) -> str:
    """Availability as a SQL expression over the balance columns of ``alias`` (a table
    alias or a row variable), in parentheses, for PostgreSQL and SQLite alike."""
    terms = []
    for bucket, sign in _TERMS:
        if sign not in (+1, -1):
            raise ValueError(f"{bucket}: a sign is +1 or -1, not {sign}")
        column = f"{alias}.{bucket}"
        if not terms:
            terms.append(column if sign > 0 else f"-{column}")
        else:
            terms.append(f"{'+' if sign > 0 else '-'} {column}")
    return f"({' '.join(terms)})"


# The buffer rule in SQL: the same cases as ``safety_buffer``.
SAFETY_BUFFER_SQL = (
    "CASE WHEN channel_buffer IS NULL THEN 0 "
    "ELSE COALESCE(sku_buffer, velocity_buffer, channel_buffer) END"
)
# ``promisable`` and ``protection_in_force`` in SQL.
PROMISABLE_SQL = (
    "GREATEST(0, GREATEST(LEAST(own, available), available - others) - keep)"
)
PROTECTION_IN_FORCE_SQL = "GREATEST(0, {units} - {held})"
# Units of a channel's active holds at a SKU and location, by the partial index on its
# active holds (``{now}``, ``{channel}``, ``{sku}``, ``{location}``: SQL), leaving out
# one hold (``{except_hold}``: the one being placed, whose lines exist already in the
# checkout's function; 0 for none); a pre-order's units still to come hold nothing.
# The same text in inventory.terms (Python's read) and in onestock_protections.
HELD_SQL = (
    "(SELECT CAST(COALESCE(SUM(line.quantity - line.future_quantity), 0) AS BIGINT) "
    "FROM inventory_reservation hold "
    "JOIN inventory_reservationline line ON line.reservation_id = hold.id "
    "AND line.sku_id = {sku} AND line.location_id = {location} "
    "WHERE hold.channel_id = {channel} AND hold.status = 'active' "
    "AND hold.expires_at > {now} AND hold.id <> {except_hold})"
)
# An allocation counts while its channel is open, it protects something, and its
# location is in the channel's network (one that names none sells from everywhere):
# a protection left outside a redrawn network keeps nothing from anyone.
ALLOCATIONS_FROM_SQL = (
    "inventory_allocation allocation JOIN catalog_channel owner "
    "ON owner.id = allocation.channel_id AND owner.is_active "
    "WHERE allocation.units > 0 AND (NOT EXISTS (SELECT 1 FROM "
    "inventory_networklocation network WHERE network.channel_id = owner.id) "
    "OR EXISTS (SELECT 1 FROM inventory_networklocation network "
    "WHERE network.channel_id = owner.id "
    "AND network.location_id = allocation.location_id))"
)
# A velocity buffer counts while its channel's policy is velocity.
VELOCITY_BUFFERS_FROM_SQL = (
    "inventory_velocitybuffer buffer JOIN catalog_channel channel "
    "ON channel.id = buffer.channel_id AND channel.buffer_policy = 'velocity' "
    "WHERE true"
)


def availability_sql_file() -> str:
    """The text of inventory/sql/availability.sql, generated from this module. Each
    rule is one expression, IMMUTABLE, so the planner inlines it into the query that
    calls it: calling it costs what the written-out formula costs. The two reads of a
    channel's terms are PL/pgSQL, their plans kept for the session."""
    return f"""\
-- Availability in the database: what can be sold from a balance, and the units a
-- channel keeps back. GENERATED from inventory/availability.py: do not edit. Change
-- the Python rule, then regenerate and apply with a one-line migration:
--     .venv/bin/python -m inventory.availability > inventory/sql/availability.sql
--     operations = [apply_sql_files(availability="<the digest the tests print>")]
-- Owns: onestock_available(inventory_stockbalance),
--       onestock_safety_buffer(integer, integer, integer),
--       onestock_promisable(bigint, bigint, bigint, bigint),
--       onestock_velocity_buffer(bigint, bigint, bigint),
--       onestock_protections(bigint, bigint, bigint, timestamptz, bigint).
-- Applied by: inventory migration 0017 and every later migration that applies
-- "availability". PostgreSQL only (the demo's SQLite computes it in Python).

-- inventory.availability.available_from
CREATE OR REPLACE FUNCTION onestock_available(balance inventory_stockbalance)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT {available_sql("balance")}
$$;

-- inventory.availability.safety_buffer: the SKU's own buffer, else the channel's
-- velocity buffer there, else the channel's own; no channel (NULL), nothing held back.
CREATE OR REPLACE FUNCTION onestock_safety_buffer(
    sku_buffer integer, channel_buffer integer, velocity_buffer integer
)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT {SAFETY_BUFFER_SQL}
$$;

-- inventory.availability.promisable: the shared pool beyond the other channels'
-- protections, or the channel's own protection, less what it keeps back.
CREATE OR REPLACE FUNCTION onestock_promisable(
    available bigint, keep bigint, own bigint, others bigint
)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT {PROMISABLE_SQL}
$$;

-- A channel's velocity buffer at one SKU and location: NULL unless its policy is
-- velocity and one was computed (inventory.terms.channel_terms reads the same rows).
-- PL/pgSQL, so its plan is kept for the session: a SQL function that cannot be
-- inlined is planned again on every call, in the checkout's hot path.
CREATE OR REPLACE FUNCTION onestock_velocity_buffer(
    p_channel bigint, p_sku bigint, p_location bigint
)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT buffer.units FROM {VELOCITY_BUFFERS_FROM_SQL}
                AND buffer.channel_id = p_channel AND buffer.sku_id = p_sku
                AND buffer.location_id = p_location);
END
$$;

-- The protections in force at one SKU and location, as inventory.terms.channel_terms
-- reads them: the channel's own, and the other channels' together.
-- ``p_except_hold``: a hold whose lines must not count as taken (0: none).
CREATE OR REPLACE FUNCTION onestock_protections(
    p_channel bigint, p_sku bigint, p_location bigint, p_now timestamptz,
    p_except_hold bigint, OUT own bigint, OUT others bigint
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    SELECT COALESCE(SUM(terms.in_force) FILTER (WHERE terms.channel_id = p_channel), 0),
           COALESCE(SUM(terms.in_force) FILTER (WHERE terms.channel_id <> p_channel), 0)
    INTO own, others
    FROM (
        SELECT allocation.channel_id, {_in_force_sql()} AS in_force
        FROM {ALLOCATIONS_FROM_SQL}
            AND allocation.sku_id = p_sku AND allocation.location_id = p_location
    ) terms;
END
$$;
"""


def _in_force_sql() -> str:
    held = HELD_SQL.format(
        sku="allocation.sku_id",
        location="allocation.location_id",
        channel="allocation.channel_id",
        now="p_now",
        except_hold="p_except_hold",
    )
    return PROTECTION_IN_FORCE_SQL.format(units="allocation.units", held=held)


if __name__ == "__main__":
    print(availability_sql_file(), end="")
