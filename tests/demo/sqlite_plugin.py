"""What the run of the stories marked ``sqlite_too`` on SQLite needs beyond the usual
fixtures; tests/demo/test_sqlite.py loads it (``-p tests.demo.sqlite_plugin``).

Django empties the tables after a story that commits (``transactional_db``): on
PostgreSQL by TRUNCATE, which the ledger's append-only trigger lets through, on SQLite
by DELETE, which the SQLite trigger refuses. So on SQLite the flush drops that trigger
first and puts it back, from its file, in the same transaction: every story still runs
against a ledger that refuses to be edited."""

import pytest

LEDGER = "inventory_stockmovement"


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_ledger_guard(django_db_setup):
    from django.db import connection

    from inventory.sql import sql_path, sqlite_statements

    operations = type(connection.ops)
    delete_everything = operations.sql_flush
    guard = sqlite_statements(
        sql_path("ledger_append_only", "sqlite").read_text(encoding="utf-8")
    )

    def sql_flush(self, style, tables, **options):
        statements = delete_everything(self, style, tables, **options)
        if LEDGER not in tables:
            return statements
        return [
            f"DROP TRIGGER IF EXISTS {LEDGER}_no_delete",
            *statements,
            *guard,
        ]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = delete_everything
