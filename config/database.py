"""Statements planned once per connection, for the few hot reads and writes that
repeat on every checkout (PostgreSQL only).

Django's cursors bind parameters on the client, so PostgreSQL plans every statement
afresh; for a short statement the planning costs more than running it (for a hold's
five-table write 0.74 ms against 0.30 ms, for a cart's code look-up 0.35 ms against
0.13 ms). ``prepared_cursor`` runs on Django's own connection and transaction and is
wrapped like any Django cursor, so its queries are logged and counted."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


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
    one array parameter, ``= ANY(%s)``): each distinct text stays prepared."""
    connection.ensure_connection()
    preparing = _PreparingCursor(connection.connection)
    preparing.logged = connection.queries_logged
    cursor = connection._prepare_cursor(preparing)
    try:
        yield cursor
    finally:
        cursor.close()
