-- Availability in the database: what can be sold from a balance, and the units a
-- channel keeps back. GENERATED from inventory/availability.py: do not edit. Change
-- the Python rule, then regenerate and apply with a one-line migration:
--     .venv/bin/python -m inventory.availability > inventory/sql/availability.sql
--     operations = [apply_sql_files(availability="<the digest the tests print>")]
-- Owns: onestock_available(inventory_stockbalance),
--       onestock_safety_buffer(integer, integer, integer),
--       onestock_promisable(bigint, bigint, bigint, bigint),
--       onestock_velocity_buffer(bigint, bigint, bigint),
--       onestock_protections(bigint, bigint, bigint, timestamptz, bigint).
-- Applied by: inventory migration 0017 and every later migration that applies
-- "availability". PostgreSQL only (the demo's SQLite computes it in Python).

-- inventory.availability.available_from
CREATE OR REPLACE FUNCTION onestock_available(balance inventory_stockbalance)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT (balance.on_hand - balance.committed - balance.picked - balance.reserved - balance.damaged - balance.quality_control)
$$;

-- inventory.availability.safety_buffer: the SKU's own buffer, else the channel's
-- velocity buffer there, else the channel's own; no channel (NULL), nothing held back.
CREATE OR REPLACE FUNCTION onestock_safety_buffer(
    sku_buffer integer, channel_buffer integer, velocity_buffer integer
)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE WHEN channel_buffer IS NULL THEN 0 ELSE COALESCE(sku_buffer, velocity_buffer, channel_buffer) END
$$;

-- inventory.availability.promisable: the shared pool beyond the other channels'
-- protections, or the channel's own protection, less what it keeps back.
CREATE OR REPLACE FUNCTION onestock_promisable(
    available bigint, keep bigint, own bigint, others bigint
)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT GREATEST(0, GREATEST(LEAST(own, available), available - others) - keep)
$$;

-- A channel's velocity buffer at one SKU and location: NULL unless its policy is
-- velocity and one was computed (inventory.terms.channel_terms reads the same rows).
-- PL/pgSQL, so its plan is kept for the session: a SQL function that cannot be
-- inlined is planned again on every call, in the checkout's hot path.
CREATE OR REPLACE FUNCTION onestock_velocity_buffer(
    p_channel bigint, p_sku bigint, p_location bigint
)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT buffer.units FROM inventory_velocitybuffer buffer JOIN catalog_channel channel ON channel.id = buffer.channel_id AND channel.buffer_policy = 'velocity' WHERE true
                AND buffer.channel_id = p_channel AND buffer.sku_id = p_sku
                AND buffer.location_id = p_location);
END
$$;

-- The protections in force at one SKU and location, as inventory.terms.channel_terms
-- reads them: the channel's own, and the other channels' together.
-- ``p_except_hold``: a hold whose lines must not count as taken (0: none).
CREATE OR REPLACE FUNCTION onestock_protections(
    p_channel bigint, p_sku bigint, p_location bigint, p_now timestamptz,
    p_except_hold bigint, OUT own bigint, OUT others bigint
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    SELECT COALESCE(SUM(terms.in_force) FILTER (WHERE terms.channel_id = p_channel), 0),
           COALESCE(SUM(terms.in_force) FILTER (WHERE terms.channel_id <> p_channel), 0)
    INTO own, others
    FROM (
        SELECT allocation.channel_id, GREATEST(0, allocation.units - (SELECT CAST(COALESCE(SUM(line.quantity - line.future_quantity), 0) AS BIGINT) FROM inventory_reservation hold JOIN inventory_reservationline line ON line.reservation_id = hold.id AND line.sku_id = allocation.sku_id AND line.location_id = allocation.location_id WHERE hold.channel_id = allocation.channel_id AND hold.status = 'active' AND hold.expires_at > p_now AND hold.id <> p_except_hold)) AS in_force
        FROM inventory_allocation allocation JOIN catalog_channel owner ON owner.id = allocation.channel_id AND owner.is_active WHERE allocation.units > 0 AND (NOT EXISTS (SELECT 1 FROM inventory_networklocation network WHERE network.channel_id = owner.id) OR EXISTS (SELECT 1 FROM inventory_networklocation network WHERE network.channel_id = owner.id AND network.location_id = allocation.location_id))
            AND allocation.sku_id = p_sku AND allocation.location_id = p_location
    ) terms;
END
$$;
