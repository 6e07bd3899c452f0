"""A hold placed by the codes a checkout names (PostgreSQL only).

``onestock_place_hold_by_codes`` reads the channel, SKUs and locations behind the codes
and places the hold through ``onestock_place_hold`` in the same call, so a checkout
costs one round trip, not a look-up and then a hold. It decides only the plain case:
every code known and open, the TTL in its bounds; anything else raises
``NEEDS_CHECK_SQLSTATE`` with nothing written, and inventory.services reads the records
and reports exactly what is wrong. The units to keep available are the SKU's own
safety buffer, else the channel's (``inventory.selectors.safety_buffer_for``; the lean
and general paths are compared in tests/inventory/test_hold_lean_path.py).

``onestock_place_hold_by_codes_durably`` is to it what ``onestock_place_hold_durably``
(migration 0010, for a caller that holds the records already) is to
``onestock_place_hold``: the hold committed without waiting for the disk, then one
durable record whose flush covers it, all in one ``CALL``.
"""

from django.db import migrations

NEEDS_CHECK_SQLSTATE = "OS002"

CREATE = f"""
CREATE OR REPLACE FUNCTION onestock_place_hold_by_codes(
    p_channel_code text, p_reference text, p_ttl integer, p_ttl_min integer,
    p_ttl_max integer, p_actor text, p_digest text, p_now timestamptz,
    p_sku_codes text[], p_location_codes text[], p_quantities bigint[],
    p_entry_digests text[], p_unflushed boolean
) RETURNS TABLE (
    out_reservation bigint, out_lines bigint[], out_channel bigint, out_ttl integer,
    out_skus bigint[], out_locations bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    v_channel bigint;
    v_ttl integer;
    v_buffer integer;
    v_skus bigint[];
    v_locations bigint[];
    v_keep bigint[];
BEGIN
    SELECT channel.id, COALESCE(p_ttl, channel.reservation_ttl_seconds),
           channel.safety_buffer
    INTO v_channel, v_ttl, v_buffer
    FROM catalog_channel AS channel
    WHERE channel.code = p_channel_code AND channel.is_active;
    SELECT array_agg(sku.id ORDER BY asked.number),
           array_agg(place.id ORDER BY asked.number),
           array_agg(COALESCE(sku.safety_buffer, v_buffer) ORDER BY asked.number)
    INTO v_skus, v_locations, v_keep
    FROM unnest(p_sku_codes, p_location_codes)
            WITH ORDINALITY AS asked(sku_code, location_code, number)
    JOIN catalog_sku AS sku ON sku.code = asked.sku_code AND sku.is_active
    JOIN inventory_location AS place
        ON place.code = asked.location_code AND place.is_active;
    IF v_channel IS NULL OR v_ttl NOT BETWEEN p_ttl_min AND p_ttl_max
       OR cardinality(v_skus) IS DISTINCT FROM cardinality(p_sku_codes) THEN
        -- Unknown or closed, or a TTL out of bounds: the general path says which.
        RAISE EXCEPTION USING ERRCODE = '{NEEDS_CHECK_SQLSTATE}',
            MESSAGE = 'the cart needs its records read';
    END IF;

    RETURN QUERY
    SELECT min(placed.out_reservation),
           array_agg(placed.out_line ORDER BY placed.out_number),
           v_channel, v_ttl, v_skus, v_locations
    FROM onestock_place_hold(
        v_channel, p_reference, v_ttl, p_now + make_interval(secs => v_ttl), p_actor,
        p_digest, p_now, v_skus, v_locations, p_quantities, v_keep, p_entry_digests,
        p_unflushed) AS placed
    HAVING count(*) > 0;  -- no row: the reference is taken, nothing was written
END
$$;

CREATE OR REPLACE PROCEDURE onestock_place_hold_by_codes_durably(
    p_channel_code text, p_reference text, p_ttl integer, p_ttl_min integer,
    p_ttl_max integer, p_actor text, p_digest text, p_now timestamptz,
    p_sku_codes text[], p_location_codes text[], p_quantities bigint[],
    p_entry_digests text[],
    INOUT out_reservation bigint DEFAULT NULL, INOUT out_lines bigint[] DEFAULT NULL,
    INOUT out_channel bigint DEFAULT NULL, INOUT out_ttl integer DEFAULT NULL,
    INOUT out_skus bigint[] DEFAULT NULL, INOUT out_locations bigint[] DEFAULT NULL
)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT * INTO out_reservation, out_lines, out_channel, out_ttl, out_skus,
        out_locations
    FROM onestock_place_hold_by_codes(
        p_channel_code, p_reference, p_ttl, p_ttl_min, p_ttl_max, p_actor, p_digest,
        p_now, p_sku_codes, p_location_codes, p_quantities, p_entry_digests, true);
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
DROP PROCEDURE IF EXISTS onestock_place_hold_by_codes_durably(
    text, text, integer, integer, integer, text, text, timestamptz, text[], text[],
    bigint[], text[], bigint, bigint[], bigint, integer, bigint[], bigint[]);
DROP FUNCTION IF EXISTS onestock_place_hold_by_codes(
    text, text, integer, integer, integer, text, text, timestamptz, text[], text[],
    bigint[], text[], boolean);
"""

def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0010_place_hold_durably")]

    operations = [migrations.RunPython(create, drop)]
