"""``onestock_place_hold_durably``: a hold placed on its own, in one call (PostgreSQL).

The procedure places the hold through ``onestock_place_hold`` and commits it without
waiting for the disk, which lets the hot balance go at once; it then commits one small
durable record, whose flush covers the hold's commit before it. Both commits happen
inside one ``CALL``, so the buyer's answer costs one round trip instead of two
(inventory.services.promises, docs/reservations.md).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE PROCEDURE onestock_place_hold_durably(
    p_channel bigint, p_reference text, p_ttl integer, p_expires_at timestamptz,
    p_actor text, p_digest text, p_now timestamptz, p_skus bigint[],
    p_locations bigint[], p_quantities bigint[], p_keep bigint[],
    p_entry_digests text[],
    INOUT out_reservation bigint DEFAULT NULL,
    INOUT out_lines bigint[] DEFAULT NULL
)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT min(placed.out_reservation),
           array_agg(placed.out_line ORDER BY placed.out_number)
    INTO out_reservation, out_lines
    FROM onestock_place_hold(
        p_channel, p_reference, p_ttl, p_expires_at, p_actor, p_digest, p_now,
        p_skus, p_locations, p_quantities, p_keep, p_entry_digests, true) AS placed;
    IF out_reservation IS NULL THEN
        RETURN;  -- the reference is taken: nothing was written, nothing to wait for
    END IF;
    -- The hold's commit, without waiting for the disk (the function asked for that
    -- for its own transaction only): the hot balance is free from here on.
    COMMIT;
    -- The smallest write that takes a transaction id; the CALL's own commit of it
    -- waits for the disk, and that flush covers the hold's commit, logged before it.
    PERFORM pg_logical_emit_message(true, 'onestock', 'hold');
END
$$;
"""

DROP = """
DROP PROCEDURE IF EXISTS onestock_place_hold_durably(
    bigint, text, integer, timestamptz, text, text, timestamptz, bigint[], bigint[],
    bigint[], bigint[], text[], bigint, bigint[]);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0009_hold_commits_before_the_flush")]

    operations = [migrations.RunPython(create, drop)]
