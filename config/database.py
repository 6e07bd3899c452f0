"""Statements planned once per connection, for the few hot reads and writes that
repeat on every checkout (PostgreSQL only).

Django's cursors bind parameters on the client, so PostgreSQL plans every statement
afresh; for a short statement the planning costs more than running it (for a hold's
five-table write 0.74 ms against 0.30 ms, for a cart's code look-up 0.35 ms against
0.13 ms). ``prepared_cursor`` hands out a psycopg cursor that binds on the server and
prepares each statement on its first run, on Django's own connection and transaction,
wrapped as Django wraps its cursors: queries are logged and counted, instrumentation
(``connection.execute_wrapper``) sees them, and errors are Django's.

psycopg keeps the statements it prepared, and forgets (and deallocates) them on a
rollback, where the server may have lost them: a statement is never run under a name
the server does not know. Only public APIs of Django and psycopg are used.

Also here: reading rows the same way on either database (``read_rows``), a raw
timestamp as an aware datetime and its age, and telling a database out of reach from a statement
it refused (``database_unreachable``).
"""

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    InterfaceError,
    OperationalError,
    connections,
    transaction,
)
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from psycopg.pq import TransactionStatus


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, each statement prepared on its first run."""

    def execute(self, query, params=None, **options):
        return super().execute(query, params, prepare=True, **options)


# One cursor per connection, kept on Django's connection object with the psycopg
# connection it belongs to: a fresh cursor (and its wrapping) costs 30-50 µs of Python
# a statement, a third of what a hold's call costs. A reconnect starts afresh, and
# threads (each with its own Django connection) never share one.
_KEPT = "onestock_prepared_cursor"


def can_prepare(using: str = DEFAULT_DB_ALIAS) -> bool:
    """PostgreSQL, and prepared statements not switched off for a pooler that cannot
    keep them (``DATABASE_PREPARED_STATEMENTS``): then every statement takes the
    path it takes on SQLite."""
    return (
        connections[using].vendor == "postgresql"
        and settings.DATABASE_PREPARED_STATEMENTS
    )


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator:
    """Only for statements whose text does not grow with their input (pass a list as
    one array parameter, ``= ANY(%s)``): each distinct text stays prepared. ``using``:
    the database alias (a read replica's, config.replicas)."""
    database = connections[using]
    database.ensure_connection()
    raw = database.connection
    kept = getattr(database, _KEPT, None)
    if kept is None or kept[0] is not raw or kept[1].closed:
        kept = (raw, _PreparingCursor(raw))
        setattr(database, _KEPT, kept)
    cursor = kept[1]
    yield (
        _Logged(cursor, database)
        if database.queries_logged
        else database.make_cursor(cursor)
    )


class _Logged(CursorDebugWrapper):
    """Django's debug cursor (query log, timing, the ``django.db.backends`` logger)
    for a cursor that binds on the server: Django's reads the text a client-side
    cursor composed, which this one never does, so the statement is composed for the
    log here (only while Django keeps one)."""

    def execute(self, sql, params=None):
        with self.debug_sql(_composed(self.db, sql, params), params):
            return CursorWrapper.execute(self, sql, params)


def _composed(database, sql, params) -> str:
    try:
        return database.ops.compose_sql(sql, params)
    except Exception:  # noqa: BLE001 (the log never hides the real error)
        return sql


def is_between_transactions() -> bool:
    """No transaction is open on Django's connection, nor one of Django's atomic
    blocks: a statement may commit by itself (a ``CALL`` of a procedure that does)."""
    if not transaction.get_autocommit():
        return False
    database = connections[DEFAULT_DB_ALIAS]
    database.ensure_connection()
    return database.connection.info.transaction_status == TransactionStatus.IDLE


def prepared_rows(
    statement: str, parameters: Sequence = (), *, using: str = DEFAULT_DB_ALIAS
) -> list[tuple]:
    """Run ``statement`` (``%s`` for each of ``parameters``), prepared once per
    connection, and return its rows."""
    with prepared_cursor(using) as cursor:
        cursor.execute(statement, parameters)
        return cursor.fetchall() if cursor.description else []


def among(column: str, values: Collection, params: list, *, using: str) -> str:
    """``column = ANY(%s)`` on PostgreSQL, one array parameter, so the statement's text
    is the same for any number of values and stays prepared (and psycopg takes longer
    to split a query of a thousand placeholders than the database takes to answer
    it); ``column IN (...)`` elsewhere. Appends the parameters to ``params``."""
    if can_prepare(using):
        params.append(sorted(values))
        return f"{column} = ANY(%s)"
    params.extend(sorted(values))
    return f"{column} IN ({', '.join(['%s'] * len(values)) or 'NULL'})"


def read_rows(statement: str, params: Sequence, *, using: str) -> list[tuple]:
    """The rows of a read, on ``using``: prepared once per connection on PostgreSQL
    (for a short read the planning costs more than the answer), a plain cursor
    elsewhere. A statement built with ``among`` has the same text on PostgreSQL
    whatever its values."""
    if can_prepare(using):
        return prepared_rows(statement, params, using=using)
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def moment_from_row(value) -> datetime | None:
    """A timestamp as a raw cursor gives it, as an aware datetime: PostgreSQL's is
    one already (or text with its offset, when cast), SQLite's is text in UTC."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def age_seconds(moment: datetime | None) -> int | None:
    """How long ago ``moment`` was, in whole seconds (None for none)."""
    if moment is None:
        return None
    return max(0, round((timezone.now() - moment).total_seconds()))


# A server that answered this is going away or cannot take us: admin or crash
# shutdown, starting up, too many connections. Class 08 is the connection's own.
_GONE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached (no connection, or it
    was lost), as opposed to a statement it refused (a deadlock, a timeout, a
    constraint): only the first is answered 503 (``config.unavailable``)."""
    if isinstance(error, InterfaceError):  # the connection was already closed
        return True
    if not isinstance(error, OperationalError):
        return False
    state = getattr(error.__cause__, "sqlstate", None)
    # No state at all: the client's own failure to connect, or a connection lost
    # mid-statement, before any answer of the server's.
    return state is None or state.startswith("08") or state in _GONE_SQLSTATES
