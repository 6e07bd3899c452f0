"""Statements planned once per connection, for the few hot reads and writes that
repeat on every checkout (PostgreSQL only).

Django's cursors bind parameters on the client, so PostgreSQL plans every statement
afresh; for a short statement the planning costs more than running it (for a hold's
five-table write 0.74 ms against 0.30 ms, for a cart's code look-up 0.35 ms against
0.13 ms). ``prepared_cursor`` runs on Django's own connection and transaction and is
wrapped like any Django cursor, so its queries are logged and counted.
``run_between_transactions`` goes further for a statement run outside any transaction
(a checkout's hold): straight through libpq, its parameters as text, still on
Django's connection, with Django's errors and query log."""

import datetime
import functools
import hashlib
import itertools
import re
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

# PostgreSQL's "no such prepared statement".
_NOT_PREPARED = b"26000"


def is_between_transactions() -> bool:
    """No transaction is open on Django's connection, nor one of Django's atomic
    blocks: a statement may commit by itself (a ``CALL`` of a procedure that does)."""
    database = connections[DEFAULT_DB_ALIAS]
    if database.in_atomic_block:
        return False
    database.ensure_connection()
    return database.connection.pgconn.transaction_status == pq.TransactionStatus.IDLE


def run_between_transactions(
    statement: str, parameters: Sequence = ()
) -> list[tuple[str | None, ...]]:
    """Run ``statement`` (``%s`` for each of ``parameters``, sent in PostgreSQL's text
    form, ``as_text``, and typed by the server), prepared once per session, and
    return its rows as text.

    For the statements a flash sale repeats per buyer: psycopg's cursor, however
    lean, spends some 150 µs of Python a call adapting a hold's thirteen parameters
    and reading the result, three times what libpq itself costs the client here, and
    that Python competes for the two cores with the database under load. Only between
    transactions (``is_between_transactions``): a statement that turns out not to be
    prepared on this session (psycopg deallocates every prepared statement after a
    rollback) fails, and is prepared and run again, which would spoil an open
    transaction. Errors are Django's, as from a cursor, and the statement is logged
    like any other when Django logs queries."""
    database = connections[DEFAULT_DB_ALIAS]
    database.ensure_connection()
    texts = [as_text(parameter) for parameter in parameters]
    encoded = [None if text is None else text.encode() for text in texts]
    name, native = _prepared_form(statement)
    started = time.monotonic()
    with database.wrap_database_errors:
        pgconn = database.connection.pgconn
        result = pgconn.exec_prepared(name, encoded)
        if result.error_field(pq.DiagnosticField.SQLSTATE) == _NOT_PREPARED:
            prepared = pgconn.prepare(name, native)
            if prepared.status != pq.ExecStatus.COMMAND_OK:
                raise psycopg.errors.error_from_result(prepared)
            result = pgconn.exec_prepared(name, encoded)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise psycopg.errors.error_from_result(result)
    if database.queries_logged:
        database.queries_log.append(
            {
                "sql": f"{statement} -- {texts!r}",
                "time": f"{time.monotonic() - started:.3f}",
            }
        )
    value = result.get_value
    columns = range(result.nfields)
    return [
        tuple(
            None if (cell := value(row, column)) is None else cell.decode()
            for column in columns
        )
        for row in range(result.ntuples)
    ]


@functools.cache
def _prepared_form(statement: str) -> tuple[bytes, bytes]:
    """A name for the statement on the server, and its text with libpq's ``$n``."""
    numbers = itertools.count(1)
    native = re.sub("%s", lambda _: f"${next(numbers)}", statement)
    name = "onestock_" + hashlib.sha1(native.encode()).hexdigest()[:20]
    return name.encode(), native.encode()


def as_text(value) -> str | None:
    """PostgreSQL's text form of a parameter, which the server parses into the type
    the statement gives it: what a typed parameter would have been."""
    if value is None:
        return None
    if isinstance(value, str):
        if "\x00" in value:
            raise DataError("A text value cannot contain NUL (0x00) characters.")
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list | tuple):
        return "{" + ",".join(_array_element(element) for element in value) + "}"
    if isinstance(value, datetime.date):  # a datetime too
        return value.isoformat()
    return str(value)


def _array_element(value) -> str:
    text = as_text(value)
    if text is None:
        return "NULL"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
