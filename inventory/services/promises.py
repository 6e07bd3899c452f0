"""The lean way to place a checkout's hold: the flash-sale path, on PostgreSQL.

A new hold's ledger entries are all ``reserve`` moves under references that cannot
exist yet (``#reservation/<new id>/...``), so none of the ledger's general work is
needed to post them: no reference lookup, no count rule, no bucket to draw from, no
conflict (a promise is not a physical fact). What a hold does need is the promise
check, and that is the condition of one UPDATE per line.

All of it is one server call. ``onestock_place_hold_by_codes`` (migration inventory
0011) reads the channel, SKUs and locations behind the cart's codes, so a checkout
needs no look-up of its own first, and steps aside unless every code is known and
open. ``onestock_place_hold`` (migration 0008) then writes the reservation, its lines,
their ledger entries and the first transition (``ON CONFLICT DO NOTHING`` on the
reference: a resend writes nothing), then takes the units line by line in (SKU,
location) order, like every balance lock (``inventory.locking``). Called outside a
transaction the call commits by itself, so a hot balance row is locked only from its
UPDATE to the end of that call, with no round trip to Python in between: the same
lock scope as a raw-SQL reservation. Its statements are planned once per connection.

The disk is waited for after the lock, not under it. A durable commit holds the hot
row until the commit record is flushed (an fdatasync, about 0.15 ms here), so every
buyer of a flash sale queues behind one flush after another. Placed on its own, the
hold goes through the ``onestock_place_hold_by_codes_durably`` procedure (migration
inventory 0011): it commits the hold without that wait (``synchronous_commit`` off
for that transaction only), which releases the row at once, then commits a one-record
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
``SHORT_SQLSTATE`` and nothing it wrote survives; if a code is unknown or closed, it
raises ``NEEDS_CHECK_SQLSTATE`` before writing anything. ``HoldNeedsFullCheck`` tells
the caller to read the records and place the hold through ``movements_record``, which
gives lapsed holds back and reports the shortages, or to report what is wrong. Either
way the ledger entries and the balances are the ones ``movements_record`` would have
written; ``rebuild_balances`` checks it, and tests/inventory/test_hold_lean_path.py
compares the two paths.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction

from catalog.models import Channel
from config.database import (
    can_prepare,
    is_between_transactions,
    prepared_cursor,
    run_between_transactions,
)

from ..signals import announce_stock_moved
from .ledger import MovementInput

# Raised by the hold's functions (their migrations state them too): a line is short,
# or a code is unknown or closed.
SHORT_SQLSTATE = "OS001"
NEEDS_CHECK_SQLSTATE = "OS002"


class HoldNeedsFullCheck(Exception):
    """A line is short on the plain figures, or a code is unknown or closed: the full
    path decides (lapsed holds may cover a shortage, or the cart is refused with what
    is wrong)."""


@dataclass(frozen=True)
class CartLine:
    sku_code: str
    location_code: str
    quantity: int
    entry_digest: str  # of its ledger entry (ledger.movement_digest)


@dataclass(frozen=True)
class PostedHold:
    """What the database chose and wrote; lists in the order of the lines given."""

    reservation_id: int
    line_ids: list[int]
    channel_id: int
    ttl_seconds: int
    sku_ids: list[int]
    location_ids: list[int]


def is_available() -> bool:
    return can_prepare()


def hold_post(
    *,
    channel: Channel,
    reference: str,
    moves: Sequence[MovementInput],
    actor: str,
    ttl_seconds: int,
    digest: str,
    now: datetime,
) -> PostedHold | None:
    """Write a new hold and take its units in one server call, for a caller that has
    read the records: ``moves`` are its lines' ``reserve`` moves, each with the
    buffer to keep available (the function writes their references, which need the
    new ids). None when the reference is already taken (nothing written);
    HoldNeedsFullCheck when a line is short on the plain figures (nothing written
    either). Between transactions the call commits by itself, so the balances are
    locked only while the database finishes it, and returns once the hold is on
    disk; inside one, a savepoint keeps a refusal from spoiling the caller's
    transaction, whose own commit makes it durable."""
    written = _post(
        function="onestock_place_hold",
        procedure="onestock_place_hold_durably",
        outputs=("out_reservation", "out_lines"),
        arguments=[
            channel.pk,
            reference,
            ttl_seconds,
            now + timedelta(seconds=ttl_seconds),
            actor,
            digest,
            now,
            [move.sku.pk for move in moves],
            [move.location.pk for move in moves],
            [move.quantity for move in moves],
            [move.keep_available for move in moves],
            [move.digest() for move in moves],
        ],
    )
    if written is None:
        return None
    reservation, lines = written
    return PostedHold(
        reservation_id=reservation,
        line_ids=lines,
        channel_id=channel.pk,
        ttl_seconds=ttl_seconds,
        sku_ids=[move.sku.pk for move in moves],
        location_ids=[move.location.pk for move in moves],
    )


def hold_post_by_codes(
    *,
    channel_code: str,
    reference: str,
    lines: Sequence[CartLine],
    actor: str,
    ttl_seconds: int | None,
    ttl_bounds: tuple[int, int],
    digest: str,
    now: datetime,
) -> PostedHold | None:
    """``hold_post`` from the codes a cart names, the records read in the same call;
    ``ttl_seconds`` None for the channel's own. HoldNeedsFullCheck also when a code is
    unknown or closed, or the TTL out of ``ttl_bounds``."""
    written = _post(
        function="onestock_place_hold_by_codes",
        procedure="onestock_place_hold_by_codes_durably",
        outputs=(
            "out_reservation",
            "out_lines",
            "out_channel",
            "out_ttl",
            "out_skus",
            "out_locations",
        ),
        arguments=[
            channel_code,
            reference,
            ttl_seconds,
            *ttl_bounds,
            actor,
            digest,
            now,
            [line.sku_code for line in lines],
            [line.location_code for line in lines],
            [line.quantity for line in lines],
            [line.entry_digest for line in lines],
        ],
    )
    return None if written is None else PostedHold(*written)


def _post(
    *, function: str, procedure: str, outputs: tuple[str, ...], arguments: list
) -> tuple | None:
    """One hold through ``procedure`` between transactions, or ``function`` inside
    one (its last argument: commit without waiting for the disk, false here). Both
    answer ``outputs``, a number or a list of numbers each, in the order of the
    lines; nothing when the reference is taken."""
    placeholders = ", ".join(["%s"] * len(arguments))
    try:
        if is_between_transactions():
            [row] = run_between_transactions(
                f"CALL {procedure}({placeholders}{', NULL' * len(outputs)})", arguments
            )
            written = tuple(_number_or_numbers(value) for value in row)
        else:
            # The function answers a row per line; a savepoint keeps a refusal from
            # spoiling the caller's transaction.
            with transaction.atomic(), prepared_cursor() as cursor:
                cursor.execute(
                    _AGGREGATED[function].format(placeholders=placeholders),
                    [*arguments, False],
                )
                written = cursor.fetchone()
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) in {
            SHORT_SQLSTATE,
            NEEDS_CHECK_SQLSTATE,
        }:
            raise HoldNeedsFullCheck from error
        raise
    if written is None or written[0] is None:
        return None
    announce_stock_moved()
    return written


# Each function's answer, one row as its procedure answers it.
_AGGREGATED = {
    "onestock_place_hold": (
        "SELECT min(out_reservation), array_agg(out_line ORDER BY out_number) "
        "FROM onestock_place_hold({placeholders}, %s) HAVING count(*) > 0"
    ),
    "onestock_place_hold_by_codes": (
        "SELECT * FROM onestock_place_hold_by_codes({placeholders}, %s)"
    ),
}


def _number_or_numbers(text: str | None) -> int | list[int] | None:
    """A procedure's output, in PostgreSQL's text form: a bigint or a bigint[]."""
    if text is None:
        return None
    if text.startswith("{"):
        return [int(number) for number in text[1:-1].split(",")]
    return int(text)
