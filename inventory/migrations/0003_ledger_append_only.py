"""The database itself refuses to change or delete a ledger entry: a correction is a
new entry, never an edit. (TRUNCATE, as the test suite's flush uses, is not a row
change and stays possible for whoever owns the database.)"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION inventory_ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'The stock ledger is append-only: ' || TG_OP || ' refused.';
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER inventory_stockmovement_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_ledger_append_only();
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS inventory_stockmovement_append_only "
    "ON inventory_stockmovement;",
    "DROP FUNCTION IF EXISTS inventory_ledger_append_only();",
]
SQLITE = [
    f"""
    CREATE TRIGGER inventory_stockmovement_no_{operation.lower()}
    BEFORE {operation} ON inventory_stockmovement
    BEGIN SELECT RAISE(ABORT, 'The stock ledger is append-only: {operation} refused.');
    END;
    """
    for operation in ("UPDATE", "DELETE")
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
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
