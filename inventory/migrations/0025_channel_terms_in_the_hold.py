"""A hold's promise check reads the channel's terms at each SKU and location (its
velocity buffer, the protections in force) and keeps to its network:
inventory/sql/availability.sql and place_hold.sql applied again; on SQLite (the demo)
a jump of the sequence alone is announced too (balance_outbox.sql). The two-argument
``onestock_safety_buffer`` gives way to the three-argument one."""

from django.db import migrations

from inventory.sql import apply_sql_files


def drop_two_argument_buffer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS onestock_safety_buffer(integer, integer)"
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0024_channel_networks_allocations_velocity_buffers")]

    operations = [
        apply_sql_files(
            availability="399a52c30c5c",
            place_hold="ae43da095179",
            balance_outbox="a2ba28593421",
        ),
        migrations.RunPython(drop_two_argument_buffer, migrations.RunPython.noop),
    ]
