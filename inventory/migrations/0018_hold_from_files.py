"""The checkout's hold from its file (inventory/sql/place_hold.sql), its promise check
written with the one definition of availability; the procedure that placed a hold by
ids is dropped (only the API's checkout, by codes, takes the fast path now).

Migrations 0008-0011 used to carry the hold's SQL; they do nothing now, and a
database built before keeps its old functions until this migration replaces them."""

from django.db import migrations

from inventory.sql import apply_sql_files

DROP_FORMER = """
DROP FUNCTION IF EXISTS onestock_place_hold(
    bigint, text, integer, timestamptz, text, text, timestamptz, bigint[], bigint[],
    bigint[], bigint[], text[]);
DROP PROCEDURE IF EXISTS onestock_place_hold_durably(
    bigint, text, integer, timestamptz, text, text, timestamptz, bigint[], bigint[],
    bigint[], bigint[], text[], bigint, bigint[]);
"""

# The checkout's call as migration 0011 wrote it: the cart's lines in four arrays (the
# file takes them as one JSON document).
DROP_BY_ARRAYS = """
DROP PROCEDURE IF EXISTS onestock_place_hold_by_codes_durably(
    text, text, integer, integer, integer, text, text, timestamptz, text[], text[],
    bigint[], text[], bigint, bigint[], bigint, integer, bigint[], bigint[]);
DROP FUNCTION IF EXISTS onestock_place_hold_by_codes(
    text, text, integer, integer, integer, text, text, timestamptz, text[], text[],
    bigint[], text[], boolean);
"""

DROP_HOLD = """
DROP PROCEDURE IF EXISTS onestock_place_hold_by_codes_durably(
    text, text, integer, integer, integer, text, text, timestamptz, jsonb, bigint,
    bigint[], bigint, integer, bigint[], bigint[]);
DROP FUNCTION IF EXISTS onestock_place_hold_by_codes(
    text, text, integer, integer, integer, text, text, timestamptz, jsonb, boolean);
DROP FUNCTION IF EXISTS onestock_place_hold(
    bigint, text, integer, timestamptz, text, text, timestamptz, bigint[], bigint[],
    bigint[], bigint[], text[], boolean);
"""


def drop_former(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FORMER)
        schema_editor.execute(DROP_BY_ARRAYS)


def drop_hold(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_HOLD)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0017_database_code_from_files")]

    operations = [
        migrations.RunPython(drop_former, migrations.RunPython.noop),
        apply_sql_files(place_hold="6a01ed3d3b20", reverse_code=drop_hold),
    ]
