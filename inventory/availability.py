"""What can be sold from a balance, and what a channel keeps back from it: the one
definition, in Python, from which the SQL that the database functions use is
generated.

- ``AVAILABILITY_SIGN``: the buckets that count, each with its sign. Units in transit
  or incoming are not on the shelf yet, so they do not count at all.
- ``available_from(quantities)``: the figure, from a balance (or a change that copied
  its quantities). ``StockBalance.available`` and ``AvailabilityChange.available``.
- ``safety_buffer_for(sku=, channel=)``: the SKU's own buffer if it has one, else the
  channel's; with no channel, nothing is held back.
- ``available_sql(alias)``: the same figure as a SQL expression over a balance row's
  columns, for queries that compute it in the database (reconciliation.dashboard).
- ``availability_sql_file()``: the text of ``inventory/sql/availability.sql``, which
  defines ``onestock_available(inventory_stockbalance)`` and
  ``onestock_safety_buffer(integer, integer)`` for the functions that run inside
  PostgreSQL (the hold).

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


def safety_buffer(sku_buffer: int | None, channel_buffer: int | None) -> int:
    """The units kept back, from the SKU's own buffer (None: not set) and the
    channel's (None: no channel). ``onestock_safety_buffer`` in SQL."""
    if channel_buffer is None:
        return 0
    return channel_buffer if sku_buffer is None else sku_buffer


def safety_buffer_for(*, sku: Sku, channel: Channel | None) -> int:
    """A SKU's own buffer overrides the channel's; with no channel, nothing is held."""
    return safety_buffer(
        sku.safety_buffer, None if channel is None else channel.safety_buffer
    )


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


# The buffer rule in SQL: the same three cases as ``safety_buffer``.
SAFETY_BUFFER_SQL = (
    "CASE WHEN channel_buffer IS NULL THEN 0 "
    "ELSE COALESCE(sku_buffer, channel_buffer) END"
)


def availability_sql_file() -> str:
    """The text of inventory/sql/availability.sql, generated from this module. Each
    function is one expression, IMMUTABLE, so the planner inlines it into the query
    that calls it: calling it costs what the written-out formula costs."""
    return f"""\
-- Availability in the database: what can be sold from a balance, and the units a
-- channel keeps back. GENERATED from inventory/availability.py: do not edit. Change
-- the Python rule, then regenerate and apply with a one-line migration:
--     .venv/bin/python -m inventory.availability > inventory/sql/availability.sql
--     operations = [apply_sql_files(availability="<the digest the tests print>")]
-- Owns: onestock_available(inventory_stockbalance),
--       onestock_safety_buffer(integer, integer).
-- Applied by: inventory migration 0017 and every later migration that applies
-- "availability". PostgreSQL only (the demo's SQLite computes it in Python).

-- inventory.availability.available_from
CREATE OR REPLACE FUNCTION onestock_available(balance inventory_stockbalance)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT {available_sql("balance")}
$$;

-- inventory.availability.safety_buffer: the SKU's own buffer, else the channel's; no
-- channel (NULL), nothing held back.
CREATE OR REPLACE FUNCTION onestock_safety_buffer(
    sku_buffer integer, channel_buffer integer
)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT {SAFETY_BUFFER_SQL}
$$;
"""


if __name__ == "__main__":
    print(availability_sql_file(), end="")
