"""Statements planned once per connection, for the few hot reads and writes that
repeat on every checkout (PostgreSQL only).

Django's cursors bind parameters on the client, so PostgreSQL plans every statement
afresh; for a short statement the planning costs more than running it (for a hold's
five-table write 0.74 ms against 0.30 ms, for a cart's code look-up 0.35 ms against
0.13 ms). ``prepared_cursor`` runs on Django's own connection and transaction and is
wrapped like any Django cursor, so its queries are logged and counted."""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from django.db import DEFAULT_DB_ALIAS, DataError, connection, connections
from psycopg import pq


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, each statement prepared on its first run."""

    logged = False  # Django is keeping a log of queries (DEBUG, tests)

    def execute(self, query, params=None, **options):
        super().execute(query, params, prepare=True, **options)
        if self.logged and self._query is None:
            # psycopg keeps no text for a prepared run; Django's log reads it here.
            self._query = self._convert_query(query, params)
        return self


def can_prepare() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def prepared_cursor() -> Iterator:
    """Only for statements whose text does not grow with their input (pass a list as
    one array parameter, ``= ANY(%s)``): each distinct text stays prepared.

    One cursor per connection, kept: a fresh psycopg cursor (and its wrapping) cost
    30-50 µs of Python a statement, a third of what the hold's call itself costs.
    Django's thread-local connection stays the key, so threads never share it."""
    database = connections[DEFAULT_DB_ALIAS]  # one thread-local look-up, not six
    database.ensure_connection()
    preparing = getattr(database, "_onestock_preparing", None)
    if preparing is None or preparing.connection is not database.connection:
        preparing = _PreparingCursor(database.connection)
        database._onestock_preparing = preparing
    preparing.logged = database.queries_logged
    yield database._prepare_cursor(preparing)


# -- one statement straight through libpq ----------------------------------------------

# PostgreSQL's "no such prepared statement": psycopg deallocates every prepared
# statement of the session after a rollback, ours with its own.
_NOT_PREPARED = b"26000"


def is_between_transactions() -> bool:
    """No transaction is open on Django's connection, nor one of Django's atomic
    blocks: a statement may commit by itself (a ``CALL`` of a procedure that does)."""
    database = connections[DEFAULT_DB_ALIAS]
    if database.in_atomic_block:
        return False
    database.ensure_connection()
    return database.connection.pgconn.transaction_status == pq.TransactionStatus.IDLE


def call_between_transactions(
    name: str, statement: str, parameters: Sequence[str]
) -> tuple[str | None, ...]:
    """Run ``statement`` (``$1``, ``$2``… for ``parameters``, all given as text and
    cast by the server) prepared as ``name``, and return its one row as text.

    For the one statement a flash sale repeats per buyer: psycopg's cursor, however
    lean, spends some 150 µs of Python a call adapting thirteen parameters and reading
    the result, three times what the database's own work costs the client here, and
    that Python competes for the cores with the database under load. Only between
    transactions (``is_between_transactions``): a statement that turns out not to be
    prepared on this session fails, and is prepared and run again, which would spoil
    an open transaction. Errors are Django's, as from a cursor, and the statement is
    logged like any other when Django logs queries."""
    database = connections[DEFAULT_DB_ALIAS]
    database.ensure_connection()
    encoded = []
    for parameter in parameters:
        if "\x00" in parameter:
            raise DataError("A text value cannot contain NUL (0x00) characters.")
        encoded.append(parameter.encode())
    started = time.monotonic()
    with database.wrap_database_errors:
        pgconn = database.connection.pgconn
        result = pgconn.exec_prepared(name.encode(), encoded)
        if result.error_field(pq.DiagnosticField.SQLSTATE) == _NOT_PREPARED:
            prepared = pgconn.prepare(name.encode(), statement.encode())
            if prepared.status != pq.ExecStatus.COMMAND_OK:
                raise psycopg.errors.error_from_result(prepared)
            result = pgconn.exec_prepared(name.encode(), encoded)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise psycopg.errors.error_from_result(result)
    if database.queries_logged:
        database.queries_log.append(
            {
                "sql": f"{statement} -- {name}: {list(parameters)!r}",
                "time": f"{time.monotonic() - started:.3f}",
            }
        )
    return tuple(
        None if value is None else value.decode()
        for value in (result.get_value(0, column) for column in range(result.nfields))
    )
