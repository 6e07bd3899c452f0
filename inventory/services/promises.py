"""The lean way to place a checkout's hold: the flash-sale path, on PostgreSQL.

A new hold's ledger entries are all ``reserve`` moves under references that cannot
exist yet (``#reservation/<new id>/...``), so none of the ledger's general work is
needed to post them: no reference lookup, no count rule, no bucket to draw from, no
conflict (a promise is not a physical fact). What a hold does need is the promise
check, and that is the condition of one UPDATE per line.

All of it is one server call, the ``onestock_place_hold`` function (migration
inventory 0008): it writes the reservation, its lines, their ledger entries and the
first transition (``ON CONFLICT DO NOTHING`` on the reference: a resend writes
nothing), then takes the units line by line in (SKU, location) order, like every
balance lock (``inventory.locking``). Called outside a transaction it commits by
itself, so a hot balance row is locked only from its UPDATE to the end of that call,
with no round trip to Python in between: the same lock scope as a raw-SQL
reservation. Its statements are planned once per connection.

If any line is short on the plain figures (or has no balance yet), the function raises
``SHORT_SQLSTATE`` and nothing it wrote survives; ``HoldNeedsFullCheck`` tells the
caller to place the hold through ``movements_record``, which gives lapsed holds back
and reports the shortages. Either way the ledger entries and the balances are the ones
``movements_record`` would have written; ``rebuild_balances`` checks it, and
tests/inventory/test_hold_lean_path.py compares the two paths.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.db import DatabaseError, connection, transaction

from catalog.models import Channel

from .ledger import MovementInput

# Raised by onestock_place_hold when a line is short (the migration states it too).
SHORT_SQLSTATE = "OS001"


class HoldNeedsFullCheck(Exception):
    """At least one line is short on the plain figures: the full ledger path decides
    (lapsed holds may cover it, or it is refused with its shortages)."""


@dataclass(frozen=True)
class PostedHold:
    reservation_id: int
    line_ids: list[int]  # in the order of the lines given


def is_available() -> bool:
    return connection.vendor == "postgresql"


def hold_post(
    *,
    channel: Channel,
    reference: str,
    moves: Sequence[MovementInput],
    actor: str,
    ttl_seconds: int,
    expires_at: datetime,
    digest: str,
    now: datetime,
) -> PostedHold | None:
    """Write a new hold and take its units in one server call: ``moves`` are its
    lines' ``reserve`` moves, each with the buffer to keep available (the function
    writes their references, which need the new ids). None when the reference
    is already taken (nothing written); HoldNeedsFullCheck when a line is short on the
    plain figures (nothing written either). Outside a transaction the call commits by
    itself, so the balances are locked only while the database finishes it; inside
    one, a savepoint keeps a shortage from spoiling the caller's transaction."""
    arguments = [
        channel.pk,
        reference,
        ttl_seconds,
        expires_at,
        actor,
        digest,
        now,
        [move.sku.pk for move in moves],
        [move.location.pk for move in moves],
        [move.quantity for move in moves],
        [move.keep_available for move in moves],
        [move.digest() for move in moves],
    ]
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                written = _place_hold(arguments)
        else:
            written = _place_hold(arguments)
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) == SHORT_SQLSTATE:
            raise HoldNeedsFullCheck from error
        raise
    if not written:
        return None
    line_ids = {number: line_id for _, line_id, number in written}
    return PostedHold(
        reservation_id=written[0][0],
        line_ids=[line_ids[number] for number in range(1, len(moves) + 1)],
    )


def _place_hold(arguments: list) -> list[tuple]:
    with _prepared_cursor() as cursor:
        cursor.execute(
            "SELECT * FROM onestock_place_hold("
            + ", ".join(["%s"] * len(arguments))
            + ")",
            arguments,
        )
        return cursor.fetchall()


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, each statement prepared once per connection: planning the
    hold's five-table statement costs more than running it."""

    def execute(self, query, params=None, **options):
        return super().execute(query, params, prepare=True, **options)


@contextmanager
def _prepared_cursor() -> Iterator:
    # Django's cursors bind on the client (so nothing can be prepared); this one runs
    # on the same connection and transaction, wrapped like any Django cursor so its
    # queries are logged and counted.
    connection.ensure_connection()
    cursor = connection._prepare_cursor(_PreparingCursor(connection.connection))
    try:
        yield cursor
    finally:
        cursor.close()
