"""The checkout's hold from its file (inventory/sql/place_hold.sql) again: its first
timeline entry now carries what every timeline records (the action, and the actor's
source, a new argument). The former signatures are dropped first, so the database
holds only the file's functions."""

from django.db import migrations

from inventory.sql import apply_sql_files

# As migration 0018 created them: without the source.
DROP_SOURCELESS = """
DROP PROCEDURE IF EXISTS onestock_place_hold_by_codes_durably(
    text, text, integer, integer, integer, text, text, timestamptz, jsonb, bigint,
    bigint[], bigint, integer, bigint[], bigint[]);
DROP FUNCTION IF EXISTS onestock_place_hold_by_codes(
    text, text, integer, integer, integer, text, text, timestamptz, jsonb, boolean);
DROP FUNCTION IF EXISTS onestock_place_hold(
    bigint, text, integer, timestamptz, text, text, timestamptz, bigint[], bigint[],
    bigint[], bigint[], text[], boolean);
"""

DROP_HOLD = """
DROP PROCEDURE IF EXISTS onestock_place_hold_by_codes_durably(
    text, text, integer, integer, integer, text, text, text, timestamptz, jsonb,
    bigint, bigint[], bigint, integer, bigint[], bigint[]);
DROP FUNCTION IF EXISTS onestock_place_hold_by_codes(
    text, text, integer, integer, integer, text, text, text, timestamptz, jsonb,
    boolean);
DROP FUNCTION IF EXISTS onestock_place_hold(
    bigint, text, integer, timestamptz, text, text, text, timestamptz, bigint[],
    bigint[], bigint[], bigint[], text[], boolean);
"""


def drop_sourceless(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SOURCELESS)


def drop_hold(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_HOLD)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0019_timelines")]

    operations = [
        migrations.RunPython(drop_sourceless, migrations.RunPython.noop),
        apply_sql_files(place_hold="0296d3a5a652", reverse_code=drop_hold),
    ]
