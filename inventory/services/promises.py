"""The lean way to place a checkout's hold: the flash-sale path, on PostgreSQL.

A new hold's ledger entries are all ``reserve`` moves under references that cannot
exist yet (``#reservation/<new id>/...``), so none of the ledger's general work is
needed to post them: no reference lookup, no count rule, no bucket to draw from, no
conflict (a promise is not a physical fact). What a hold does need is the promise
check, and that is the condition of one UPDATE per line:

1. one statement writes the reservation, its lines, their ledger entries and the
   first transition (``ON CONFLICT DO NOTHING`` on the reservation's reference: a
   resend, or a concurrent twin, writes nothing and is answered by the caller);
2. one conditional UPDATE per line, in (SKU, location) order like every balance lock
   (``inventory.locking``), adds the units to ``reserved`` only if what stays
   available covers the safety buffer; sent in one pipeline;
3. the caller commits.

The balance rows are locked only from step 2 to the commit, the same lock scope as a
raw-SQL reservation. If any line's UPDATE matches nothing (short, or no balance yet),
``HoldNeedsFullCheck`` is raised and the caller rolls everything back and places the
hold through ``movements_record``, which gives lapsed holds back and reports the
shortages. Either way the ledger entries and the balances are the ones
``movements_record`` would have written; ``rebuild_balances`` checks it.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.db import connection

from catalog.models import Channel

from ..models import MovementType, Reservation
from .ledger import MovementInput


class HoldNeedsFullCheck(Exception):
    """At least one line is short on the plain figures: the full ledger path decides
    (lapsed holds may cover it, or it is refused with its shortages)."""


@dataclass(frozen=True)
class HoldLine:
    sku_id: int
    location_id: int
    quantity: int
    keep_available: int  # the safety buffer that must stay available
    entry_digest: str  # the reserve entry's payload digest (MovementInput.digest)


@dataclass(frozen=True)
class PostedHold:
    reservation_id: int
    line_ids: list[int]  # in the order of the lines given


def is_available() -> bool:
    return connection.vendor == "postgresql"


def hold_lines(
    *, channel: Channel, lines: Sequence, now: datetime, keep: Sequence[int]
) -> list[HoldLine]:
    """The lines as the ledger would post them (the same digests as movements_record)."""
    return [
        HoldLine(
            sku_id=line.sku.pk,
            location_id=line.location.pk,
            quantity=line.quantity,
            keep_available=buffer,
            entry_digest=MovementInput(
                reference="",
                type=MovementType.RESERVE,
                sku=line.sku,
                location=line.location,
                quantity=line.quantity,
                occurred_at=now,
                channel=channel,
            ).digest(),
        )
        for line, buffer in zip(lines, keep, strict=True)
    ]


def hold_post(
    *,
    channel: Channel,
    reference: str,
    lines: Sequence[HoldLine],
    actor: str,
    ttl_seconds: int,
    expires_at: datetime,
    digest: str,
    now: datetime,
) -> PostedHold | None:
    """Write a new hold and take its units, inside the caller's transaction. None when
    the reference is already taken (nothing written); HoldNeedsFullCheck when a line
    is short (the caller must roll back)."""
    with _prepared_cursor() as cursor:
        cursor.execute(
            _WRITE_HOLD,
            {
                "channel": channel.pk,
                "reference": reference,
                "ttl": ttl_seconds,
                "expires_at": expires_at,
                "actor": actor,
                "digest": digest,
                "now": now,
                "skus": [line.sku_id for line in lines],
                "locations": [line.location_id for line in lines],
                "quantities": [line.quantity for line in lines],
                "entry_digests": [line.entry_digest for line in lines],
            },
        )
        written = cursor.fetchall()
        if not written:
            return None
        ordered = sorted(lines, key=lambda line: (line.sku_id, line.location_id))
        cursor.executemany(
            _TAKE_UNITS,
            [
                (line.quantity, now, now, line.sku_id, line.location_id)
                + (line.quantity, line.keep_available)
                for line in ordered
            ],
        )
        if cursor.rowcount != len(lines):
            raise HoldNeedsFullCheck
    line_ids = {number: line_id for _, line_id, number in written}
    return PostedHold(
        reservation_id=written[0][0],
        line_ids=[line_ids[number] for number in range(1, len(lines) + 1)],
    )


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


_WRITE_HOLD = f"""
WITH hold AS (
    INSERT INTO inventory_reservation (
        channel_id, reference, status, ttl_seconds, expires_at, created_by,
        payload_digest, created_at, updated_at)
    VALUES (%(channel)s, %(reference)s, '{Reservation.Status.ACTIVE}', %(ttl)s,
            %(expires_at)s, %(actor)s, %(digest)s, %(now)s, %(now)s)
    ON CONFLICT (channel_id, reference) DO NOTHING
    RETURNING id
), asked AS (
    SELECT * FROM unnest(
        %(skus)s::bigint[], %(locations)s::bigint[], %(quantities)s::bigint[],
        %(entry_digests)s::text[]
    ) WITH ORDINALITY AS asked(sku_id, location_id, quantity, entry_digest, number)
), line AS (
    INSERT INTO inventory_reservationline (reservation_id, sku_id, location_id, quantity)
    SELECT hold.id, asked.sku_id, asked.location_id, asked.quantity
    FROM hold CROSS JOIN asked ORDER BY asked.number
    RETURNING id, reservation_id, sku_id, location_id
), entry AS (
    INSERT INTO inventory_stockmovement (
        channel_id, reference, type, sku_id, location_id, other_location_id,
        quantity, reason, occurred_at, recorded_at, status, status_reason, actor,
        payload_digest, on_hand_delta, committed_delta, reserved_delta,
        damaged_delta, quality_control_delta, in_transit_delta, incoming_delta,
        other_location_in_transit_delta)
    SELECT %(channel)s,
           '#reservation/' || line.reservation_id || '/' || line.id
               || '/{MovementType.RESERVE}',
           '{MovementType.RESERVE}', line.sku_id, line.location_id, NULL,
           asked.quantity, '', %(now)s, %(now)s, 'applied', '', %(actor)s,
           asked.entry_digest, 0, 0, asked.quantity, 0, 0, 0, 0, 0
    FROM line JOIN asked USING (sku_id, location_id)
), transition AS (
    INSERT INTO inventory_reservationtransition (
        reservation_id, from_status, to_status, actor, at)
    SELECT hold.id, '', '{Reservation.Status.ACTIVE}', %(actor)s, %(now)s FROM hold
)
SELECT line.reservation_id, line.id, asked.number
FROM line JOIN asked USING (sku_id, location_id)
"""

# The promise check is the UPDATE's condition: under READ COMMITTED a writer queued on
# the row re-reads it once the lock is granted, so the check always sees the newest
# figures. Never below the buffer, whatever the concurrency.
_TAKE_UNITS = """
UPDATE inventory_stockbalance
SET reserved = reserved + %s,
    last_event_at = GREATEST(last_event_at, %s),
    updated_at = %s
WHERE sku_id = %s AND location_id = %s
  AND on_hand - committed - reserved - damaged - quality_control - %s >= %s
"""
