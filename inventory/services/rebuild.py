"""Rebuilding the balances from the ledger, and saying what differed.

The ledger is the truth; a balance is the sum of the deltas of the entries at its SKU
and location (plus, for ``in_transit``, the transfers sent to it). Anything stored
twice drifts eventually, so this check can run at any time, stock still moving: it
recomputes the balances, repairs any that differ and reports each difference.

Why nothing has to stop: the comparison is one statement, so it reads the ledger and
the balances as of one moment, and a posting commits its entry and its balance
together, so that moment holds both or neither; a difference there is drift, never a
posting half-seen. The repair then adds the difference (ledger − stored as of that
moment) to the balance as it is by then, so a sale posted in between is kept, not
overwritten; the moments (``last_count_at``, ``last_event_at``) of the balances that
differed are read from the ledger afresh once those rows are locked. Only a second
rebuild must wait, or both would add the same correction.

The work is done in the database, set-based: the ledger is summed in one grouped
query and compared with the balances there, so a million entries take about as long
as summing them, and only the balances that differ come back to Python. The same SQL
runs on PostgreSQL and on the demo's SQLite (3.39 or later, for FULL OUTER JOIN and
IS DISTINCT FROM).
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Sku

from ..models import Location, MovementType, StockBalance, StockMovement
from ..movements import BUCKETS
from ..signals import announce_stock_moved

TRACKED = (*BUCKETS, "last_count_at", "last_event_at")
MOMENTS = ("last_count_at", "last_event_at")
_STATUSES = {
    "count": MovementType.COUNT.value,
    "applied": StockMovement.Status.APPLIED.value,
    "rejected": StockMovement.Status.REJECTED.value,
}

# A scratch table of this connection: the ledger's truth is computed once, for the
# report and for the repair, and only for the balances that differ.
DIFFERENCES = "rebuild_balance_difference"


@dataclass(frozen=True)
class BalanceDifference:
    sku_code: str
    location_code: str
    field: str
    stored: object
    from_ledger: object


def balances_rebuild(*, repair: bool = True) -> list[BalanceDifference]:
    """Compare every balance with the ledger; with ``repair``, make it agree."""
    with transaction.atomic(), connection.cursor() as cursor:
        if repair:
            _one_rebuild_at_a_time()
        _balances_from_ledger()
        cursor.execute(_report_sql())
        differences = [
            difference for row in cursor.fetchall() for difference in _itemise(row)
        ]
        if repair and differences:
            now = timezone.now()
            if connection.vendor == "postgresql":
                # In the order postings lock them, so neither waits on the other
                # in a circle.
                cursor.execute(_lock_sql())
            cursor.execute(_repair_sql(), [now])
            cursor.execute(_restore_sql(), [now])
            cursor.execute(_moments_sql(), {**_STATUSES, "now": now})
            announce_stock_moved()
        cursor.execute(f"DROP TABLE {DIFFERENCES}")
        return differences


def _one_rebuild_at_a_time() -> None:
    """SHARE UPDATE EXCLUSIVE conflicts with itself and not with the row locks of
    postings or plain reads: stock keeps moving during a rebuild (see the module's
    docstring), a second rebuild waits. SQLite (the demo) has one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {StockBalance._meta.db_table} IN SHARE UPDATE EXCLUSIVE MODE"
            )


# Memory for grouping the ledger, for this transaction only: at 10 million entries
# the default 4 MB spills a gigabyte to disk and holds the balances' lock 2 s longer
# (bench/reconcile.py).
GROUPING_MEMORY = "64MB"


def _balances_from_ledger() -> None:
    """Into the scratch table: what the ledger says of each balance that differs.
    Temporary tables are transactional on both databases, so if anything after this
    fails, the rollback takes the table away with everything else."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{GROUPING_MEMORY}'")
        cursor.execute(_differences_sql(), _STATUSES)


def _differences_sql() -> str:
    """Every balance the ledger disagrees with, and every one it knows that is missing
    (even at zero: posting creates a balance for each SKU and location an entry
    touches, rejected ones included). Each field as stored and as the ledger has it; a
    side that has no row stands for zeros and no dates, as a fresh balance would."""
    movement = StockMovement._meta.db_table
    deltas = ", ".join(f"{bucket}_delta AS {bucket}" for bucket in BUCKETS)
    sent_to = ", ".join(
        "other_location_in_transit_delta" if bucket == "in_transit" else "0"
        for bucket in BUCKETS
    )
    # PostgreSQL sums bigints as numeric; the balances hold bigints.
    sums = ", ".join(f"CAST(SUM({bucket}) AS BIGINT) AS {bucket}" for bucket in BUCKETS)
    sides = ", ".join(
        f"balance.{name} AS stored_{name}, ledger.{name} AS ledger_{name}"
        if name in MOMENTS
        else f"COALESCE(balance.{name}, 0) AS stored_{name}, "
        f"COALESCE(ledger.{name}, 0) AS ledger_{name}"
        for name in TRACKED
    )
    differ = " OR ".join(
        f"stored_{name} IS DISTINCT FROM ledger_{name}" for name in TRACKED
    )
    return f"""
        CREATE TEMPORARY TABLE {DIFFERENCES} AS
        WITH share AS (
            SELECT sku_id, location_id, {deltas},
                   CASE WHEN type = %(count)s AND status = %(applied)s
                        THEN occurred_at END AS last_count_at,
                   CASE WHEN status <> %(rejected)s
                        THEN occurred_at END AS last_event_at
            FROM {movement}
            UNION ALL
            -- A transfer out also puts its units in transit to the receiver, whose
            -- balance therefore last moved no earlier than it.
            SELECT sku_id, other_location_id, {sent_to}, NULL, occurred_at
            FROM {movement}
            -- Written so the partial index of transfers answers it, not a second
            -- scan of the whole ledger.
            WHERE other_location_id IS NOT NULL
              AND other_location_in_transit_delta <> 0
        ), ledger AS (
            SELECT sku_id, location_id, {sums},
                   MAX(last_count_at) AS last_count_at,
                   MAX(last_event_at) AS last_event_at
            FROM share
            GROUP BY sku_id, location_id
        )
        SELECT * FROM (
            SELECT COALESCE(ledger.sku_id, balance.sku_id) AS sku_id,
                   COALESCE(ledger.location_id, balance.location_id) AS location_id,
                   balance.id AS balance_id, {sides}
            FROM ledger
            FULL OUTER JOIN {StockBalance._meta.db_table} AS balance
              ON balance.sku_id = ledger.sku_id
             AND balance.location_id = ledger.location_id
        ) AS pair
        WHERE balance_id IS NULL OR {differ}
    """


def _report_sql() -> str:
    sides = ", ".join(f"d.stored_{name}, d.ledger_{name}" for name in TRACKED)
    return f"""
        SELECT sku.code, location.code, {sides}
        FROM {DIFFERENCES} AS d
        JOIN {Sku._meta.db_table} AS sku ON sku.id = d.sku_id
        JOIN {Location._meta.db_table} AS location ON location.id = d.location_id
        ORDER BY d.sku_id, d.location_id
    """


def _lock_sql() -> str:
    return f"""
        SELECT balance.id FROM {StockBalance._meta.db_table} AS balance
        JOIN {DIFFERENCES} AS d ON d.balance_id = balance.id
        ORDER BY balance.sku_id, balance.location_id
        FOR NO KEY UPDATE OF balance
    """


def _repair_sql() -> str:
    """Each bucket gets the difference added, not the ledger's figure written: a
    posting committed since the comparison moved both the ledger and the balance, and
    stays. (The moments are put right afterwards, by ``_moments_sql``.)"""
    assign = ", ".join(
        f"{name} = balance.{name} + (d.ledger_{name} - d.stored_{name})"
        for name in BUCKETS
    )
    return f"""
        UPDATE {StockBalance._meta.db_table} AS balance
        SET {assign}, updated_at = %s
        FROM {DIFFERENCES} AS d
        WHERE balance.id = d.balance_id
    """


def _restore_sql() -> str:
    """A missing balance is inserted; if a posting created it since the comparison,
    the ledger's figure as of the comparison is added to what that posting wrote."""
    table = StockBalance._meta.db_table
    added = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in BUCKETS)
    return f"""
        INSERT INTO {table} (sku_id, location_id, {", ".join(BUCKETS)}, updated_at)
        SELECT sku_id, location_id, {", ".join(f"ledger_{n}" for n in BUCKETS)}, %s
        FROM {DIFFERENCES}
        WHERE balance_id IS NULL
        ORDER BY sku_id, location_id
        ON CONFLICT (sku_id, location_id) DO UPDATE SET {added},
            updated_at = excluded.updated_at
    """


def _moments_sql() -> str:
    """The moments of every balance that differed, read from the ledger afresh: the
    rows are locked by now, so the ledger cannot move under them, and a posting made
    since the comparison is in it. A moment cannot be repaired by a difference."""
    movement = StockMovement._meta.db_table
    return f"""
        UPDATE {StockBalance._meta.db_table} AS balance SET
            last_count_at = (
                SELECT MAX(e.occurred_at) FROM {movement} AS e
                WHERE e.sku_id = balance.sku_id
                  AND e.location_id = balance.location_id
                  AND e.type = %(count)s AND e.status = %(applied)s
            ),
            last_event_at = (
                SELECT MAX(moment) FROM (
                    SELECT MAX(e.occurred_at) AS moment FROM {movement} AS e
                    WHERE e.sku_id = balance.sku_id
                      AND e.location_id = balance.location_id
                      AND e.status <> %(rejected)s
                    UNION ALL
                    SELECT MAX(t.occurred_at) FROM {movement} AS t
                    WHERE t.sku_id = balance.sku_id
                      AND t.other_location_id = balance.location_id
                      AND t.other_location_in_transit_delta <> 0
                ) AS latest
            ),
            updated_at = %(now)s
        FROM {DIFFERENCES} AS d
        WHERE balance.sku_id = d.sku_id AND balance.location_id = d.location_id
    """


def _itemise(row: tuple) -> list[BalanceDifference]:
    sku_code, location_code, *sides = row
    found = []
    for index, name in enumerate(TRACKED):
        stored, from_ledger = (
            _moment(value) for value in sides[2 * index : 2 * index + 2]
        )
        if stored != from_ledger:
            found.append(
                BalanceDifference(sku_code, location_code, name, stored, from_ledger)
            )
    return found


def _moment(value: object) -> object:
    """SQLite answers a raw query's timestamps as the text Django stored them as."""
    if isinstance(value, str):
        return timezone.make_aware(parse_datetime(value), connection.timezone)
    return value
