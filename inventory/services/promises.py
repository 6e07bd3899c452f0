"""A checkout's hold in one server call: the API's fast path, on PostgreSQL.

The one fast path in the code base, and only the API's checkout takes it
(``checkout.reservation_place_by_codes``); every other caller places a hold
through the general service (``reservations.reservation_place``, a ledger batch).

A new hold's ledger entries are all ``reserve`` moves under references that cannot
exist yet (``#reservation/<new id>/...``), so none of the ledger's general work is
needed to post them: no reference lookup, no count rule, no bucket to draw from, no
conflict (a promise is not a physical fact). What a hold does need is the promise
check, and that is the condition of one UPDATE per line, written with the one
definition of availability and of the buffer that applies (``onestock_available`` and
``onestock_safety_buffer``, generated from ``inventory.availability``).

``onestock_place_hold_by_codes`` (``inventory/sql/place_hold.sql``) reads the channel,
SKUs and locations behind the cart's codes, steps aside unless every code is known and
open, writes the reservation, its lines, their ledger entries and its first timeline
entry (``ON CONFLICT DO NOTHING`` on the reference: a resend writes nothing), then takes the
units line by line in (SKU, location) order, like every balance lock
(``inventory.locking`` states the one lock order). Its foreign keys are checked before
the balances are locked, so the key-share locks they take on the channel, SKU and
location rows come first, as the lock order says.

The disk is waited for after the lock, not under it. A durable commit holds the hot
row until the commit record is flushed, so every buyer of a flash sale would queue
behind one flush after another. Placed on its own (between transactions), the hold
goes through the ``onestock_place_hold_by_codes_durably`` procedure: it commits the
hold without that wait (``synchronous_commit`` off for that transaction only), which
releases the row at once, then commits a one-record transaction of its own in the
normal, durable way, all in one ``CALL``. PostgreSQL's log is one sequence: that flush
covers the hold's commit record, which came before it, so a hold is on disk before
anyone is told it is placed. Inside a caller's transaction the function is called
under a savepoint and the caller's commit makes it durable.

The statements are prepared by psycopg (``config.database.prepared_cursor``), which
forgets them on a rollback: a refused hold never leaves a statement the server does
not know.

If any line is short on the plain figures (or has no balance yet), the function raises
``SHORT_SQLSTATE`` and nothing it wrote survives; if a code is unknown or closed (or a
kit's: a cart's kits come taken apart into their components' lines, with the
definition they were taken apart by, which must still be the kit's), it raises
``NEEDS_CHECK_SQLSTATE`` before writing anything. ``HoldNeedsFullCheck`` tells
the caller to read the records and place the hold through the general service, which
gives lapsed holds back and reports the shortages, or says what is wrong. Either way
the ledger entries and the balances are the ones ``movements_record`` would have
written; ``rebuild_balances`` checks it, and tests/inventory/test_hold_lean_path.py
compares the two paths.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import DatabaseError, transaction

from config import metrics
from config.access import Actor
from config.database import can_prepare, is_between_transactions, prepared_cursor

from ..models import MovementType, StockMovement
from ..signals import announce_stock_moved

# Raised by the hold's function (inventory/sql/place_hold.sql): a line is short, or a
# code is unknown or closed.
SHORT_SQLSTATE = "OS001"
NEEDS_CHECK_SQLSTATE = "OS002"
# What each line of a hold writes to the ledger, as /metrics counts it.
RESERVED = (MovementType.RESERVE, StockMovement.Status.APPLIED)


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
class CartKit:
    """A kit the caller took apart into the cart's lines (``services.kits``): written
    beside the hold only while the SKU of that code is still that kit (``kit_id``) at
    ``revision``."""

    kit_code: str
    kit_id: int
    location_code: str
    quantity: int
    revision: int
    components: list[dict]


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


def hold_post_by_codes(
    *,
    channel_code: str,
    reference: str,
    lines: Sequence[CartLine],
    actor: Actor,
    ttl_seconds: int | None,
    ttl_bounds: tuple[int, int],
    digest: str,
    now: datetime,
    kits: Sequence[CartKit] = (),
) -> PostedHold | None:
    """Write a new hold from the codes a cart names and take its units, in one server
    call; ``ttl_seconds`` None for the channel's own; ``kits``: what the kits the
    cart named took (their units are on ``lines``), written beside it. None when the reference is
    already taken (nothing written); HoldNeedsFullCheck when a line is short on the
    plain figures, a code is unknown or closed, or the TTL out of ``ttl_bounds``
    (nothing written either). Between transactions the call commits by itself, so the
    balances are locked only while the database finishes it, and returns once the
    hold is on disk; inside one, a savepoint keeps a refusal from spoiling the
    caller's transaction, whose own commit makes it durable."""
    arguments = [
        channel_code,
        reference,
        ttl_seconds,
        *ttl_bounds,
        actor.name,
        actor.source,
        digest,
        now,
        # The lines as one JSON document: a single parameter whatever the cart,
        # cheaper to send than four arrays psycopg would inspect element by element.
        orjson.dumps(
            [
                {
                    "sku": line.sku_code,
                    "location": line.location_code,
                    "quantity": line.quantity,
                    "digest": line.entry_digest,
                }
                for line in lines
            ]
            # After the lines, so each line keeps its number.
            + [
                {
                    "kit": kit.kit_code,
                    "kit_id": kit.kit_id,
                    "location": kit.location_code,
                    "quantity": kit.quantity,
                    "revision": kit.revision,
                    "components": kit.components,
                }
                for kit in kits
            ]
        ).decode(),
    ]
    try:
        if is_between_transactions():
            with prepared_cursor() as cursor:
                cursor.execute(_DURABLY, arguments)
                written = cursor.fetchone()
        else:
            with transaction.atomic(), prepared_cursor() as cursor:
                cursor.execute(_IN_TRANSACTION, arguments)
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
    metrics.hold_placed(entries={RESERVED: len(lines)})
    return PostedHold(*written)


# Typed here, so the server never guesses which function is meant.
_ARGUMENTS = (
    "%s::text, %s::text, %s::integer, %s::integer, %s::integer, %s::text, %s::text, "
    "%s::text, %s::timestamptz, %s::jsonb"
)
# Its six outputs: reservation, lines, channel, TTL, SKUs, locations.
_DURABLY = f"CALL onestock_place_hold_by_codes_durably({_ARGUMENTS}{', NULL' * 6})"
_IN_TRANSACTION = f"SELECT * FROM onestock_place_hold_by_codes({_ARGUMENTS}, false)"
