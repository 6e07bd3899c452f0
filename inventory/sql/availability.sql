-- Availability in the database: what can be sold from a balance, and the units a
-- channel keeps back. GENERATED from inventory/availability.py: do not edit. Change
-- the Python rule, then regenerate and apply with a one-line migration:
--     .venv/bin/python -m inventory.availability > inventory/sql/availability.sql
--     operations = [apply_sql_files(availability="<the digest the tests print>")]
-- Owns: onestock_available(inventory_stockbalance),
--       onestock_safety_buffer(integer, integer).
-- Applied by: inventory migration 0017 and every later migration that applies
-- "availability". PostgreSQL only (the demo's SQLite computes it in Python).

-- inventory.availability.available_from
CREATE OR REPLACE FUNCTION onestock_available(balance inventory_stockbalance)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT (balance.on_hand - balance.committed - balance.picked - balance.reserved - balance.damaged - balance.quality_control)
$$;

-- inventory.availability.safety_buffer: the SKU's own buffer, else the channel's; no
-- channel (NULL), nothing held back.
CREATE OR REPLACE FUNCTION onestock_safety_buffer(
    sku_buffer integer, channel_buffer integer
)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE WHEN channel_buffer IS NULL THEN 0 ELSE COALESCE(sku_buffer, channel_buffer) END
$$;
