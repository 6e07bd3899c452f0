"""Stock stated by a file, one page at a time, for the imports app's stock kinds:
opening stock (``opening_stock_write``), written set-based here, and counts
(``counts_write``), posted through the ledger's own batch (``ledger.movements_record``,
whose writes are set-based already) so the count rule lives in one place
(``ledger_rules``). Each call writes one page of checked rows inside the caller's
transaction (the job's page), and ``stock_history_at`` is the read the opening-stock
rule is checked by.

What an opening-stock page does is what the ledger's batch would do with the same
receipts, in a handful of statements for the whole page instead of a few per row:
the rows go to a scratch table (COPY on PostgreSQL), the balances are locked in the
one lock order (``inventory.locking``: the page's existing balances at once in (sku,
location) order, then the missing ones created), then the ledger entries go in with
one INSERT … SELECT in (channel, reference) order and the balances change with one
INSERT … SELECT (new ones) or UPDATE … FROM. The availability outbox and the
balances' sequences follow by themselves (the database's triggers,
inventory/sql/balance_outbox.sql), and the channels hear of it after the commit
(``announce_stock_moved``), as after any posting.

- **Opening stock** is a ``receipt`` (the simulator's and the demo's opening stock
  is received the same way) with the reason ``Opening stock``, and only where the
  SKU has no stock history at that location (``_MOVED``: a balance that ever moved,
  or a ledger entry there). A row whose own entry is in the ledger (its reference,
  from its channel: the same file written before) is written already, whatever
  moved there since. That is checked again under the balances' lock, so a till
  sale that came in between the job's check and its write wins: the row is left out
  (``BulkWritten.refused``), never added on top of live trading. A row of 0 units
  posts nothing (the API refuses a receipt of 0): it is done, and leaves no history.
  A fresh location has no purchase order waiting, so the receipt settles no supply.
- **A count** is a ``count`` posted by ``movements_record`` in batches of at most
  ``COUNTS_PER_BATCH``: the count rule, conflicts, duplicates and clashes, the tills'
  marker and the sync health's tally are the ledger's.

References are the caller's (the imports app uses ``import:<file digest>:<line>``)
and unique per source channel, and each entry has the fingerprint a single posting
of the same event has (``ledger_inputs.movement_digests``): a page written again
finds its entries under the lock and writes nothing; a reference already used for
another movement is a clash (``inventory.errors.ReferenceClash``, the page written
not at all).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from catalog.models import Channel, Sku
from config import metrics
from config.access import Actor

from ..errors import ReferenceClash
from ..locking import BalanceKey
from ..models import Location, MovementType, StockBalance, StockMovement
from ..movements import BUCKETS
from ..signals import announce_stock_moved
from .ledger import movements_record
from .ledger_inputs import MovementInput, Outcome, movement_digests
from .ledger_writes import entries_insert_sql

__all__ = [
    "ALREADY_STOCKED",
    "COUNTS_PER_BATCH",
    "BulkWritten",
    "CountRow",
    "OPENING_STOCK_REASON",
    "OpeningStockRow",
    "counts_write",
    "opening_stock_write",
    "stock_history_at",
]

OPENING_STOCK_REASON = "Opening stock"
# Why a row of opening stock is refused, at the check or under the lock.
ALREADY_STOCKED = "{sku} already has stock at {location}; send a count instead."
# Counts per call of the ledger's batch: what ``POST /api/v1/movements/`` takes.
COUNTS_PER_BATCH = 1_000
REASON_LENGTH = StockMovement._meta.get_field("reason").max_length

BALANCES = StockBalance._meta.db_table
LEDGER = StockMovement._meta.db_table
# The ledger's unique (channel, reference) index: a reference taken already.
REFERENCE_INDEX = "stock_movement_reference_unique_per_source"


class OpeningStockRow(NamedTuple):
    """``quantity`` units of a SKU on hand at a location, where it has none yet (a
    file's line; a tuple, as a million of them are made per file)."""

    line: int
    sku_id: int
    location_id: int
    quantity: int
    sku_code: str
    location_code: str


class CountRow(NamedTuple):
    """On-hand of a SKU at a location was ``counted`` at ``counted_at``."""

    line: int
    sku_id: int
    location_id: int
    counted: int
    counted_at: datetime
    sku_code: str
    location_code: str


@dataclass
class BulkWritten:
    """What a page wrote: its rows done now (a new entry each, or nothing to post:
    opening stock of 0 units), and the lines left out, each with why (opening stock
    where stock moved since the file was checked, a count whose reference names
    another movement). Rows written before (the page written again) are neither."""

    written: int = 0
    refused: dict[int, str] = field(default_factory=dict)


# Stock has moved at a balance's pair (``{b}``, a balance row) when the balance
# holds or ever held anything (one only created, by a refused promise, is still
# quiet) or an entry names the pair (a rejected one moved nothing but is history all
# the same; a posting creates the balance of every pair it touches, so a pair with no
# balance has no entry). The opening-stock rule, at the check and under the lock.
_MOVED = (
    "(NOT ("
    + " AND ".join(f"{{b}}.{bucket} = 0" for bucket in BUCKETS)
    + " AND {b}.last_event_at IS NULL AND {b}.last_count_at IS NULL) "
    f"OR EXISTS (SELECT 1 FROM {LEDGER} AS m WHERE m.sku_id = {{b}}.sku_id "
    "AND m.location_id = {b}.location_id))"
)
# A checked row (``w``) meets stock history: its pair's balance moved, and the row's
# own entry (``w.reference`` from the channel given) is not there.
_HISTORY = (
    f"EXISTS (SELECT 1 FROM {BALANCES} AS b WHERE b.sku_id = w.sku_id "
    f"AND b.location_id = w.location_id AND {_MOVED.format(b='b')}) "
    f"AND NOT EXISTS (SELECT 1 FROM {LEDGER} AS o WHERE o.channel_id = %s "
    "AND o.reference = w.reference AND o.sku_id = w.sku_id "
    "AND o.location_id = w.location_id)"
)


def stock_history_at(
    *, references: Mapping[BalanceKey, str], channel: Channel
) -> set[BalanceKey]:
    """The (SKU, location) pairs among those of ``references`` where stock has a
    history (``_HISTORY``: one probe of the balance's unique index per pair, and of
    the ledger's for a balance that exists); each pair's entry under its reference
    from ``channel`` is its row written before, not history."""
    wanted = sorted(references)
    # Only the SKUs with a balance somewhere can have a history at a location (a
    # posting creates the balance of every pair it touches): a new range is one
    # probe per SKU, not per pair.
    stocked = _skus_with_balances({sku for sku, _ in wanted})
    wanted = [pair for pair in wanted if pair[0] in stocked]
    found: set[BalanceKey] = set()
    if not wanted:
        return found
    if connection.vendor == "postgresql":
        # One statement for the page, the pairs sent as arrays.
        statements = [
            (
                "SELECT w.sku_id, w.location_id FROM unnest(%s::bigint[], "
                "%s::bigint[], %s::text[]) AS w(sku_id, location_id, reference) "
                "WHERE ",
                [
                    [sku for sku, _ in wanted],
                    [location for _, location in wanted],
                    [references[pair] for pair in wanted],
                ],
            )
        ]
    else:
        # A few thousand pairs a statement: SQLite allows 32,766 parameters.
        statements = []
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start : start + 5000]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            statements.append(
                (
                    f"WITH w(sku_id, location_id, reference) AS (VALUES {values}) "
                    "SELECT w.sku_id, w.location_id FROM w WHERE ",
                    [value for pair in chunk for value in (*pair, references[pair])],
                )
            )
    for statement, params in statements:
        with connection.cursor() as cursor:
            cursor.execute(statement + _HISTORY, [*params, channel.pk])
            found.update((int(s), int(loc)) for s, loc in cursor.fetchall())
    return found


def _skus_with_balances(sku_ids: set[int]) -> set[int]:
    """Those of ``sku_ids`` with a balance at any location (one probe each of the
    balances' unique index, which starts with the SKU)."""
    ids = sorted(sku_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        found.update(
            Sku.objects.filter(pk__in=chunk)
            .filter(Exists(StockBalance.objects.filter(sku_id=OuterRef("pk"))))
            .values_list("pk", flat=True)
        )
    return found


# ---------------------------------------------------------------- opening stock

OPENING = "bulk_stock_opening"
PAGE_MEMORY = "64MB"


@transaction.atomic
def opening_stock_write(
    *,
    rows: Sequence[OpeningStockRow],
    reference_prefix: str,
    channel: Channel,
    occurred_at: datetime,
    actor: Actor,
) -> BulkWritten:
    """One page of opening stock, each row a receipt from ``channel`` where the SKU
    has no stock history at that location yet (checked again under the lock; a row
    whose pair moved meanwhile is left out, in ``refused``). Entries are referenced
    ``reference_prefix`` followed by the row's line; a row whose entry is there
    already (the page written before) is skipped, and one whose reference names
    another movement raises ``ReferenceClash``, nothing of the page written. The
    caller's check gave each pair one row at most (in the whole file)."""
    result = BulkWritten()
    # Nothing to post for 0 units (a receipt is of 1 or more): done as they are.
    moving = [row for row in rows if row.quantity]
    result.written = len(rows) - len(moving)
    if not moving:
        return result
    _stage(moving, occurred_at)
    params = {
        "channel": channel.pk,
        "prefix": reference_prefix,
        "type": MovementType.RECEIPT.value,
        "reason": OPENING_STOCK_REASON,
        "moment": connection.ops.adapt_datetimefield_value(occurred_at),
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "status": StockMovement.Status.APPLIED.value,
        "actor": actor.name,
    }
    with connection.cursor() as cursor:
        # 1. The balances the page names that exist, locked in (sku, location) order,
        # whether stock moved at each noted, and the rows whose entry is in the
        # ledger already (the page written before) found, under the lock. None for a
        # new range, which one probe per SKU tells (a balance created after it meets
        # step 2's ON CONFLICT, and is then locked and looked at like these).
        found = 0
        if _skus_with_balances({row.sku_id for row in moving}):
            found = _balances_lock(cursor)
            if found:
                _entries_found(cursor, params)
        # 2. The missing balances, created with their stock (which locks them), and
        # the entries of those created, in one statement, in the lock order: the
        # balances in (sku, location) order, then the entries in reference order.
        if connection.vendor == "postgresql":
            made = (
                f"{OPENING} AS s JOIN made ON made.sku_id = s.sku_id "
                "AND made.location_id = s.location_id"
            )
            posted = _entries_post(
                cursor,
                f"WITH made AS ({_OPENING_BALANCES} RETURNING sku_id, location_id) "
                + _opening_entries(made),
                params,
            )
        else:
            # SQLite has one writer at a time: every missing balance is ours.
            cursor.execute(_OPENING_BALANCES, params)
            posted = _entries_post(
                cursor,
                _opening_entries(f"{OPENING} AS s WHERE s.balance_id IS NULL"),
                params,
            )
        if posted + found < len(moving):
            # Another writer created some of the missing balances meanwhile (a till
            # sale): those pairs are locked now and looked at like the others.
            more = _balances_lock(cursor)
            if more:
                _entries_found(cursor, params)
            found += more
        if found:
            # 3. The existing balances where stock never moved, and whose row is not
            # written already: their stock added, their entries.
            fresh = "NOT s.moved AND s.stored_digest IS NULL"
            cursor.execute(
                f"UPDATE {BALANCES} AS b SET on_hand = b.on_hand + s.quantity, "
                f"last_event_at = %(moment)s, updated_at = %(now)s FROM {OPENING} AS s "
                f"WHERE s.balance_id = b.id AND {fresh}",
                params,
            )
            posted += _entries_post(
                cursor, _opening_entries(f"{OPENING} AS s WHERE {fresh}"), params
            )
            cursor.execute(
                f"SELECT line FROM {OPENING} WHERE moved AND stored_digest IS NULL", []
            )
            left_out = {line for (line,) in cursor.fetchall()}
            for row in moving:
                if row.line in left_out:
                    result.refused[row.line] = ALREADY_STOCKED.format(
                        sku=row.sku_code, location=row.location_code
                    )
        cursor.execute(f"DROP TABLE {OPENING}")
    result.written += posted
    if posted:
        metrics.movements_recorded(
            counts={
                (MovementType.RECEIPT.value, StockMovement.Status.APPLIED.value): posted
            }
        )
        announce_stock_moved()
    return result


def _stage(rows: list[OpeningStockRow], occurred_at: datetime) -> None:
    """The page's rows, each with its entry's fingerprint, into a scratch table of
    this connection: on PostgreSQL with COPY (the fastest way in), elsewhere one
    INSERT for all. Dropped at the end of the write; temporary tables are
    transactional, so a failed page leaves none."""
    digests = movement_digests(
        ((row.sku_code, row.location_code, row.quantity) for row in rows),
        type=MovementType.RECEIPT.value,
        occurred_at=occurred_at,
        reason=OPENING_STOCK_REASON,
    )
    staged = [
        (row.line, row.sku_id, row.location_id, row.quantity, digest)
        for row, digest in zip(rows, digests, strict=True)
    ]
    columns = "line, sku_id, location_id, quantity, payload_digest"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # For this transaction (the page): a page's sorts stay in memory, and
            # no statement is compiled for a plan's cost that is mostly the writes.
            cursor.execute(f"SET LOCAL work_mem = '{PAGE_MEMORY}'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {OPENING} (line integer, sku_id bigint, "
            "location_id bigint, quantity bigint, payload_digest text, "
            "balance_id bigint, moved boolean, stored_digest text)"
        )
        if connection.vendor == "postgresql":
            # As COPY's text in one go: the values are whole numbers and hex
            # digests, none with a character COPY would need escaped.
            with cursor.copy(f"COPY {OPENING} ({columns}) FROM STDIN") as copy:
                line = "{}\t{}\t{}\t{}\t{}\n"
                copy.write("".join([line.format(*row) for row in staged]))
        else:
            cursor.executemany(
                f"INSERT INTO {OPENING} ({columns}) VALUES (%s, %s, %s, %s, %s)",
                staged,
            )


def _balances_lock(cursor) -> int:
    """The existing balances of the page's pairs not locked yet, locked in (sku,
    location) order (FOR NO KEY UPDATE, as every posting locks them:
    inventory.locking), each one's id and whether stock moved there (``_MOVED``)
    noted. Answers how many were found. SQLite has one writer at a time and no row
    locks."""
    if connection.vendor != "postgresql":
        cursor.execute(
            f"UPDATE {OPENING} AS t SET balance_id = b.id, moved = "
            f"{_MOVED.format(b='b')} FROM {BALANCES} AS b WHERE t.balance_id IS NULL "
            "AND b.sku_id = t.sku_id AND b.location_id = t.location_id",
            [],
        )
        return cursor.rowcount
    # The page's pairs in (sku, location) order, each one probe of the balances'
    # unique index, locked as it is found: in that order, and never a hash of
    # every balance, whatever the planner makes of a scratch table it has no
    # statistics of.
    cursor.execute(
        f"WITH locked AS MATERIALIZED (SELECT b.* FROM (SELECT sku_id, location_id "
        f"FROM {OPENING} WHERE balance_id IS NULL ORDER BY sku_id, location_id) AS s "
        f"CROSS JOIN LATERAL (SELECT * FROM {BALANCES} AS x WHERE x.sku_id = s.sku_id "
        f"AND x.location_id = s.location_id FOR NO KEY UPDATE) AS b) "
        f"UPDATE {OPENING} AS t SET balance_id = l.id, moved = {_MOVED.format(b='l')} "
        f"FROM locked AS l WHERE l.sku_id = t.sku_id AND l.location_id = t.location_id",
        [],
    )
    return cursor.rowcount


def _entries_found(cursor, params: dict) -> None:
    """Note the fingerprint of each row's entry already in the ledger, among the
    rows whose balance is locked (only there can a row's own entry be: a receipt
    made its balance); a fingerprint other than the row's is a clash, and nothing
    of the page stays.
    One probe of the (channel, reference) index per row, asked per row so that no
    plan ever scans the ledger for a scratch table it has no statistics of."""
    cursor.execute(
        f"UPDATE {OPENING} AS s SET stored_digest = (SELECT m.payload_digest FROM "
        f"{LEDGER} AS m WHERE m.channel_id = %(channel)s AND m.reference = "
        f"{REFERENCE_SQL}) WHERE s.balance_id IS NOT NULL AND s.stored_digest IS NULL",
        params,
    )
    cursor.execute(
        f"SELECT line FROM {OPENING} WHERE stored_digest <> payload_digest "
        "ORDER BY line",
        [],
    )
    clashes = [line for (line,) in cursor.fetchall()]
    if clashes:
        lines = ", ".join(str(line) for line in clashes[:10])
        raise ReferenceClash(
            f"Line {lines}: the reference {params['prefix']}<line> names another "
            "movement in the ledger already; nothing of the page was written."
        )


def _entries_post(cursor, statement: str, params: dict) -> int:
    """Run a statement that inserts the page's entries; answers how many. A
    reference taken at another pair than the row's is found by the ledger's unique
    index as they go in: a clash, and the page's savepoint rolled back whole."""
    try:
        cursor.execute(statement, params)
    except IntegrityError as error:
        said = str(error)
        # PostgreSQL names the index; SQLite the columns.
        if REFERENCE_INDEX not in said and f"{LEDGER}.reference" not in said:
            raise
        detail = getattr(getattr(error.__cause__, "diag", None), "message_detail", "")
        raise ReferenceClash(
            "A reference of this file names another movement in the ledger "
            f"already{f' ({detail})' if detail else ''}; nothing of the page was "
            "written."
        ) from None
    return cursor.rowcount


_OPENING_BALANCES = (
    f"INSERT INTO {BALANCES} (sku_id, location_id, {', '.join(BUCKETS)}, "
    "last_event_at, updated_at) SELECT s.sku_id, s.location_id, "
    + ", ".join("s.quantity" if b == "on_hand" else "0" for b in BUCKETS)
    + f", %(moment)s, %(now)s FROM {OPENING} AS s WHERE s.balance_id IS NULL "
    "ORDER BY s.sku_id, s.location_id ON CONFLICT (sku_id, location_id) DO NOTHING"
)
# A row's reference: the caller's prefix and the row's line in its file.
REFERENCE_SQL = "CAST(%(prefix)s AS text) || CAST(s.line AS text)"
# The receipt each row (``s``) is, as a single posting of it would be.
_ENTRIES = entries_insert_sql(
    {
        "channel_id": "%(channel)s",
        "reference": REFERENCE_SQL,
        "type": "%(type)s",
        "sku_id": "s.sku_id",
        "location_id": "s.location_id",
        "other_location_id": "NULL",
        "quantity": "s.quantity",
        "reason": "%(reason)s",
        "expected_at": "NULL",
        "supply_reference": "''",
        "occurred_at": "%(moment)s",
        "recorded_at": "%(now)s",
        "status": "%(status)s",
        "status_reason": "''",
        "actor": "%(actor)s",
        "payload_digest": "s.payload_digest",
        **{f"{b}_delta": "s.quantity" if b == "on_hand" else "0" for b in BUCKETS},
        "other_location_in_transit_delta": "0",
    }
)


def _opening_entries(source: str) -> str:
    """The entries of the rows ``source`` gives (as ``s``), in reference order; a
    reference taken already fails the page on the unique index, and nothing of it
    stays."""
    return f"{_ENTRIES} FROM {source} ORDER BY reference"


# ---------------------------------------------------------------- counts


@transaction.atomic
def counts_write(
    *,
    rows: Sequence[CountRow],
    reference_prefix: str,
    channel: Channel,
    actor: Actor,
    reason: str,
) -> BulkWritten:
    """One page of counts, each a ``count`` from ``channel`` posted by the ledger's
    batch (``movements_record``, ``COUNTS_PER_BATCH`` at a time, in the caller's
    transaction): the count rule, a conflict where a count leaves availability
    below zero, a count written before (its reference and fingerprint in the
    ledger) changing nothing. A row whose reference names another movement is left
    out (``refused``)."""
    result = BulkWritten()
    if not rows:
        return result
    skus = Sku.objects.in_bulk({row.sku_id for row in rows})
    places = Location.objects.in_bulk({row.location_id for row in rows})
    reason = reason[:REASON_LENGTH]
    for start in range(0, len(rows), COUNTS_PER_BATCH):
        batch = rows[start : start + COUNTS_PER_BATCH]
        outcomes = movements_record(
            movements=[
                MovementInput(
                    reference=f"{reference_prefix}{row.line}",
                    type=MovementType.COUNT.value,
                    sku=skus[row.sku_id],
                    location=places[row.location_id],
                    quantity=row.counted,
                    occurred_at=row.counted_at,
                    channel=channel,
                    reason=reason,
                )
                for row in batch
            ],
            actor=actor,
        )
        for row, outcome in zip(batch, outcomes, strict=True):
            if outcome.outcome == Outcome.CREATED:
                result.written += 1
            elif outcome.outcome == Outcome.REFERENCE_CLASH:
                result.refused[row.line] = (
                    f"The reference {reference_prefix}{row.line} names another "
                    "movement in the ledger already; this count was not posted."
                )
            elif outcome.outcome == Outcome.REFUSED:
                result.refused[row.line] = outcome.refusal
    return result
