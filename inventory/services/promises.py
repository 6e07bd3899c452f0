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

The disk is waited for after the lock, not under it. A durable commit holds the hot
row until the commit record is flushed (an fdatasync, about 0.15 ms here), so every
buyer of a flash sale queues behind one flush after another. Placed on its own, the
hold goes through the ``onestock_place_hold_durably`` procedure (migration inventory
0010): it commits the hold without that wait (``synchronous_commit`` off for that
transaction only), which releases the row at once, then commits a one-record
transaction of its own in the normal, durable way, all in one ``CALL``. PostgreSQL's
log is one sequence: that flush covers the hold's commit record, which came before it,
and the buyers waiting for the disk share one flush instead of queueing for it. So a
hold is on disk before anyone is told it is placed, as before. Others may see the hold
before it is on disk; if the database stopped in that instant, the hold and its balance
change would be lost together (nobody was told it was placed), and anything durable
that built on it would have flushed it first. The call goes straight through libpq
(``config.database.run_between_transactions``): on two cores the client's Python
competes with the database for the same cores, and psycopg's cursor spent three times
the Python of the call itself adapting its parameters.

If any line is short on the plain figures (or has no balance yet), the function raises
``SHORT_SQLSTATE`` and nothing it wrote survives; ``HoldNeedsFullCheck`` tells the
caller to place the hold through ``movements_record``, which gives lapsed holds back
and reports the shortages. Either way the ledger entries and the balances are the ones
``movements_record`` would have written; ``rebuild_balances`` checks it, and
tests/inventory/test_hold_lean_path.py compares the two paths.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, transaction

from catalog.models import Channel
from config.database import (
    can_prepare,
    is_between_transactions,
    prepared_cursor,
    run_between_transactions,
)

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
    return can_prepare()


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
    plain figures (nothing written either). Between transactions the call commits by
    itself, so the balances are locked only while the database finishes it, and
    returns once the hold is on disk; inside one, a savepoint keeps a shortage from
    spoiling the caller's transaction, whose own commit makes it durable."""
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
        if is_between_transactions():
            written = _place_hold_durably(arguments)
        else:
            with transaction.atomic():
                written = _place_hold(arguments)
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) == SHORT_SQLSTATE:
            raise HoldNeedsFullCheck from error
        raise
    if written is None:
        return None
    reservation_id, line_ids = written
    return PostedHold(reservation_id=reservation_id, line_ids=line_ids)


def _place_hold(arguments: list) -> tuple[int, list[int]] | None:
    """Inside the caller's transaction, whose commit makes the hold durable."""
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT * FROM onestock_place_hold("
            + ", ".join(["%s"] * (len(arguments) + 1))
            + ")",
            [*arguments, False],
        )
        written = cursor.fetchall()
    if not written:
        return None
    line_ids = {number: line_id for _, line_id, number in written}
    return written[0][0], [line_ids[number] for number in range(1, len(written) + 1)]


def _place_hold_durably(arguments: list) -> tuple[int, list[int]] | None:
    """On its own: the procedure commits the hold, then waits for the disk unlocked
    (migration inventory 0010), all in one call."""
    [(reservation_id, line_ids)] = run_between_transactions(
        "CALL onestock_place_hold_durably("
        + ", ".join(["%s"] * len(arguments))
        + ", NULL, NULL)",
        arguments,
    )
    if reservation_id is None:
        return None
    return int(reservation_id), [int(line_id) for line_id in line_ids[1:-1].split(",")]
