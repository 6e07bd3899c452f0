"""The database's code from its files (inventory/sql): availability in SQL,
``onestock_available`` and ``onestock_safety_buffer``, generated from
inventory.availability, for the functions that run inside PostgreSQL; and the trigger
files applied again, so that a database built before they were files ends with their
text exactly.

A later change to a file adds a migration like this one, naming only that file with
its new digest (inventory.sql says why)."""

from django.db import migrations

from inventory.sql import apply_sql_files

DROP_AVAILABILITY = """
DROP FUNCTION IF EXISTS onestock_available(inventory_stockbalance);
DROP FUNCTION IF EXISTS onestock_safety_buffer(integer, integer);
"""


def drop_availability(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_AVAILABILITY)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0016_availability_outbox")]

    operations = [
        apply_sql_files(
            ledger_append_only="6c195ae71738", balance_outbox="2b0e5e0d0c1b"
        ),
        apply_sql_files(availability="ccf107f3b226", reverse_code=drop_availability),
    ]
