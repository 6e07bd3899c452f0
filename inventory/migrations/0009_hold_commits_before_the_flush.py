"""``onestock_place_hold`` learns to commit without waiting for the disk while the hot
balance is locked (``p_unflushed``); inventory.services.promises then waits for the
disk itself, after the lock is gone, before it answers (docs/reservations.md).
"""

import importlib

from django.db import migrations

SHORT_SQLSTATE = "OS001"

CREATE = f"""
CREATE OR REPLACE FUNCTION onestock_place_hold(
    p_channel bigint, p_reference text, p_ttl integer, p_expires_at timestamptz,
    p_actor text, p_digest text, p_now timestamptz, p_skus bigint[],
    p_locations bigint[], p_quantities bigint[], p_keep bigint[],
    p_entry_digests text[], p_unflushed boolean
) RETURNS TABLE (out_reservation bigint, out_line bigint, out_number bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_hold bigint;
    v_number bigint;
BEGIN
    IF p_unflushed THEN
        -- Let the commit release the hot balance without waiting for the disk: the
        -- caller waits for it afterwards, unlocked (promises.hold_post says why).
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    INSERT INTO inventory_reservation (
        channel_id, reference, status, ttl_seconds, expires_at, created_by,
        payload_digest, created_at, updated_at)
    VALUES (p_channel, p_reference, 'active', p_ttl, p_expires_at, p_actor, p_digest,
            p_now, p_now)
    ON CONFLICT (channel_id, reference) DO NOTHING
    RETURNING id INTO v_hold;
    IF v_hold IS NULL THEN
        RETURN;  -- the reference is taken: the caller answers from the stored hold
    END IF;

    RETURN QUERY
    WITH asked AS (
        SELECT * FROM unnest(p_skus, p_locations, p_quantities, p_entry_digests)
            WITH ORDINALITY AS a(sku, place, units, entry_digest, number)
    ), line AS (
        INSERT INTO inventory_reservationline (
            reservation_id, sku_id, location_id, quantity)
        SELECT v_hold, asked.sku, asked.place, asked.units
        FROM asked ORDER BY asked.number
        RETURNING id, sku_id, location_id
    ), entry AS (
        INSERT INTO inventory_stockmovement (
            channel_id, reference, type, sku_id, location_id, other_location_id,
            quantity, reason, occurred_at, recorded_at, status, status_reason, actor,
            payload_digest, on_hand_delta, committed_delta, reserved_delta,
            damaged_delta, quality_control_delta, in_transit_delta, incoming_delta,
            other_location_in_transit_delta)
        SELECT p_channel, '#reservation/' || v_hold || '/' || line.id || '/reserve',
               'reserve', line.sku_id, line.location_id, NULL, asked.units, '',
               p_now, p_now, 'applied', '', p_actor, asked.entry_digest,
               0, 0, asked.units, 0, 0, 0, 0, 0
        FROM line JOIN asked ON asked.sku = line.sku_id AND asked.place = line.location_id
    )
    SELECT v_hold, line.id, asked.number
    FROM line JOIN asked ON asked.sku = line.sku_id AND asked.place = line.location_id;

    INSERT INTO inventory_reservationtransition (
        reservation_id, from_status, to_status, actor, at)
    VALUES (v_hold, '', 'active', p_actor, p_now);

    -- Django's foreign keys are checked at commit, which would put nine look-ups
    -- (and their key-share locks on the SKU, location and channel rows every buyer
    -- shares) inside the hot balance's lock. Check them now, then defer again for
    -- whatever the caller's transaction does next.
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;

    -- The units last, in (sku, location) order like every balance lock, so the rows
    -- stay locked only until the commit of this same call. The condition is the
    -- promise check; a queued writer re-reads the row once it has the lock.
    FOR v_number IN
        SELECT a.number FROM unnest(p_skus, p_locations) WITH ORDINALITY AS a(sku, place, number)
        ORDER BY a.sku, a.place
    LOOP
        UPDATE inventory_stockbalance
        SET reserved = reserved + p_quantities[v_number],
            last_event_at = GREATEST(last_event_at, p_now),
            updated_at = p_now
        WHERE sku_id = p_skus[v_number] AND location_id = p_locations[v_number]
          AND on_hand - committed - reserved - damaged - quality_control
              - p_quantities[v_number] >= p_keep[v_number];
        IF NOT FOUND THEN
            -- Undoes everything above: the general path decides (lapsed holds, or
            -- the shortages to report).
            RAISE EXCEPTION USING ERRCODE = '{SHORT_SQLSTATE}',
                MESSAGE = 'short on the plain figures';
        END IF;
    END LOOP;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS onestock_place_hold(
    bigint, text, integer, timestamptz, text, text, timestamptz, bigint[], bigint[],
    bigint[], bigint[], text[], boolean);
"""


FORMER = importlib.import_module("inventory.migrations.0008_place_hold_function")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORMER.DROP)
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(FORMER.CREATE)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0008_place_hold_function")]

    operations = [migrations.RunPython(create, drop)]
