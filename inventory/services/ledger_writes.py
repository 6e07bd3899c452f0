"""A ledger batch's writes, set-based: the entries, the conflicts and the changed
balances, one statement each (``posting_write``), and the tallies of events that
left no entry of their own (``event_tally_add``, after the commit). On PostgreSQL the
rows go as one JSON document per statement; elsewhere (the SQLite demo) through
Django's bulk calls."""

from collections import Counter
from collections.abc import Mapping

import orjson
from django.db import connection
from django.utils import timezone

from config import metrics

from ..models import EventTally, StockBalance, StockConflict, StockMovement
from ..movements import BUCKETS
from ..signals import announce_stock_moved, conflicts_recorded
from .ledger_rules import ENTRY_COLUMNS, Posting


def _column_type(model, column: str) -> str:
    """The SQL type a JSON row's value is read as, for ``json_to_recordset``."""
    field = model._meta.get_field(column.removesuffix("_id"))
    if field.is_relation:
        field = field.target_field
    return {
        "BigAutoField": "bigint",
        "AutoField": "integer",
        "BigIntegerField": "bigint",
        "IntegerField": "integer",
        "CharField": "text",
        "DateTimeField": "timestamptz",
    }[field.get_internal_type()]


BALANCE_FIELDS = (*BUCKETS, "last_count_at", "last_event_at", "updated_at")


def _balances_write(balances: list[StockBalance]) -> None:
    """Write the locked balances back in one statement. On PostgreSQL an UPDATE from
    the rows sent as one JSON document: Django's bulk_update builds a CASE per field
    and row, and even a VALUES list costs a parameter per field and row to send. Other
    databases (the SQLite demo) use bulk_update."""
    if connection.vendor != "postgresql":
        StockBalance.objects.bulk_update(balances, list(BALANCE_FIELDS))
        return
    rows = [
        {"id": balance.pk, **{name: getattr(balance, name) for name in BALANCE_FIELDS}}
        for balance in balances
    ]
    with connection.cursor() as cursor:
        cursor.execute(_BALANCES_UPDATE, [orjson.dumps(rows).decode()])


_BALANCES_UPDATE = (
    f"UPDATE {StockBalance._meta.db_table} AS b SET "
    + ", ".join(f"{name} = v.{name}" for name in BALANCE_FIELDS)
    + " FROM json_to_recordset(%s::json) AS v(id bigint, "
    + ", ".join(f"{name} {_column_type(StockBalance, name)}" for name in BALANCE_FIELDS)
    + ") WHERE b.id = v.id"
)


def _entries_insert(entries: list[StockMovement]) -> None:
    """Insert the entries and set their ids. On PostgreSQL one INSERT from the rows
    sent as one JSON document, which spares Django's per-field preparation of a
    thousand instances; elsewhere bulk_create. Either way a reference taken meanwhile
    raises IntegrityError (the unique index), and the batch is retried."""
    if connection.vendor != "postgresql":
        StockMovement.objects.bulk_create(entries)
        return
    rows = [
        {column: entry.__dict__[column] for column in _INSERTED} for entry in entries
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_INSERT, [orjson.dumps(rows).decode()])
        ids = {(channel, reference): pk for pk, channel, reference in cursor.fetchall()}
    for entry in entries:
        entry.id = ids[(entry.channel_id, entry.reference)]
        # Stored, as bulk_create marks what it inserted (the same two attributes):
        # Django has no public call that does it without inserting the rows itself.
        entry._state.adding = False
        entry._state.db = connection.alias


_INSERTED = tuple(column for column in ENTRY_COLUMNS if column != "id")


_ENTRIES_INSERT = (
    f"INSERT INTO {StockMovement._meta.db_table} ({', '.join(_INSERTED)}) "
    f"SELECT {', '.join(_INSERTED)} FROM json_to_recordset(%s::json) AS r("
    + ", ".join(
        f"{column} {_column_type(StockMovement, column)}" for column in _INSERTED
    )
    + ") RETURNING id, channel_id, reference"
)


def entries_insert_sql(values: Mapping[str, str]) -> str:
    """``INSERT INTO`` the ledger ``SELECT`` an entry's every column but ``id``, each
    the SQL expression ``values`` gives it by name and selected under that name (the
    caller adds ``FROM …``): for writers that make entries in SQL. A column missing
    or unknown raises at once: a column added to the ledger is given its value by
    every such writer, never the next one's value shifted into its place."""
    missing = [column for column in _INSERTED if column not in values]
    unknown = sorted(set(values) - set(_INSERTED))
    if missing or unknown:
        raise ValueError(
            f"An entry's columns: missing {missing or 'none'}, unknown "
            f"{unknown or 'none'}."
        )
    return (
        f"INSERT INTO {StockMovement._meta.db_table} ({', '.join(_INSERTED)}) SELECT "
        + ", ".join(f"{values[column]} AS {column}" for column in _INSERTED)
    )


def posting_write(posting: Posting) -> None:
    if posting.entries:
        # In one order (by source and reference), so two batches that share references
        # wait on the unique index for each other instead of deadlocking.
        _entries_insert(
            sorted(posting.entries, key=lambda e: (e.channel_id, e.reference))
        )
        metrics.movements_recorded(
            counts=Counter((entry.type, entry.status) for entry in posting.entries)
        )
    if posting.conflicts:
        for conflict in posting.conflicts:
            conflict.movement_id = conflict.movement.pk
        StockConflict.objects.bulk_create(posting.conflicts)
        conflicts_recorded.send(sender=StockConflict, conflicts=posting.conflicts)
        metrics.conflicts_raised(count=len(posting.conflicts))
    if posting.changed:
        changed = [posting.balances[key] for key in sorted(posting.changed)]
        for balance in changed:
            balance.updated_at = posting.recorded_at
        _balances_write(changed)
        announce_stock_moved()


def event_tally_add(*, counts: dict[tuple[int, str], int]) -> None:
    """Add ``counts`` ((channel id, column) → events) to this minute's tallies."""
    minute = timezone.now().replace(second=0, microsecond=0)
    by_channel: dict[int, dict[str, int]] = {}
    for (channel_id, column), number in counts.items():
        by_channel.setdefault(channel_id, {})[column] = number
    with connection.cursor() as cursor:
        for channel_id in sorted(by_channel):
            added = by_channel[channel_id]
            cursor.execute(
                _TALLY_ADD,
                [
                    channel_id,
                    connection.ops.adapt_datetimefield_value(minute),
                    added.get("duplicates", 0),
                    added.get("clashes", 0),
                    added.get("refused", 0),
                ],
            )


_TALLY_ADD = (
    f"INSERT INTO {EventTally._meta.db_table} AS tally "
    "(channel_id, minute, duplicates, clashes, refused) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (channel_id, minute) DO UPDATE SET "
    "duplicates = tally.duplicates + excluded.duplicates, "
    "clashes = tally.clashes + excluded.clashes, "
    "refused = tally.refused + excluded.refused"
)
