"""The database itself refuses to change or delete a ledger entry: a correction is a
new entry, never an edit. (TRUNCATE, as the test suite's flush uses, is not a row
change and stays possible for whoever owns the database.)

The function and triggers are in inventory/sql/ledger_append_only.sql (and its SQLite
version), applied from the file as it is now."""

from django.db import migrations

from inventory.sql import apply_sql_files

POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS inventory_stockmovement_append_only "
    "ON inventory_stockmovement;",
    "DROP FUNCTION IF EXISTS inventory_ledger_append_only();",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS inventory_stockmovement_no_update;",
    "DROP TRIGGER IF EXISTS inventory_stockmovement_no_delete;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_stock_ledger")]

    operations = [
        apply_sql_files(
            "ledger_append_only",
            reverse_code=_run(
                {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}
            ),
        )
    ]
