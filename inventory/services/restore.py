"""After a point-in-time restore of the database (docs/deployment.md, backups): the
balances' sequences jump past any a channel may have been sent.

A restored database has forgotten the changes made after its restore point, but the
channels have not: a receiver keeps the highest ``sequence`` it has seen per SKU and
location and drops anything older, so without a jump it would drop every change
until the sequences caught up with the forgotten ones. Each jump is an update of the
balance's sequence alone, which the outbox's trigger (inventory/sql/balance_outbox.sql)
keeps and announces like any change: every balance goes out again, current, with a
sequence above anything sent before. The quantities are not touched."""

from django.db import connection, transaction

from ..models import StockBalance

BALANCES = StockBalance._meta.db_table
_SKIP = f"UPDATE {BALANCES} SET sequence = sequence + %s WHERE id > %s AND id <= %s"


def balance_sequences_skip(*, by: int, chunk: int = 10_000) -> int:
    """Every balance's sequence plus ``by``, ``chunk`` balances per transaction (a
    chain's millions of balances are not one statement's locks and WAL); how many
    balances moved. Running it again jumps again: harmless."""
    if by < 1:
        raise ValueError("by: at least 1")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {BALANCES}")
        (last,) = cursor.fetchone()
    moved = 0
    for start in range(0, last, chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_SKIP, [by, start, start + chunk])
            moved += cursor.rowcount
    return moved
