-- A checkout's hold in one server call: the API's fast path (inventory.services.promises
-- says why, and how Python calls it). Applied by migrations inventory 0018 and 0020
-- (which gave it the actor's source: a new argument, so 0020 drops the former
-- signatures first), 0025 and 0030 (kits); a change of text alone edits this file and
-- adds a one-line migration that applies it again.
--
-- onestock_place_hold writes a new hold (by ids) and takes its units;
-- onestock_place_hold_by_codes reads the records behind a cart's codes first;
-- onestock_place_hold_by_codes_durably commits the hold without waiting for the disk,
-- then commits one durable record whose flush covers it, all in one CALL.
-- A line's promise check is the channel's: its buffer (the SKU's own, else its velocity
-- buffer there, else its own) and the protections in force there, by
-- onestock_velocity_buffer, onestock_protections and onestock_promisable (generated
-- from inventory/availability.py). Where anything is protected, the protections are
-- read again once the balance is locked: a hold placed or released meanwhile is
-- counted, so no channel takes units protected for another.
-- Errors: OS001 a line is short on the plain figures; OS002 a code is unknown or
-- closed (or a kit's, which the caller did not take apart or took apart from a
-- definition since changed), or the TTL out of bounds. Either way nothing written
-- survives.

CREATE OR REPLACE FUNCTION onestock_place_hold(
    p_channel bigint, p_reference text, p_ttl integer, p_expires_at timestamptz,
    p_actor text, p_source text, p_digest text, p_now timestamptz, p_skus bigint[],
    p_locations bigint[], p_quantities bigint[], p_keep bigint[],
    p_entry_digests text[], p_unflushed boolean
) RETURNS TABLE (out_reservation bigint, out_line bigint, out_number bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_hold bigint;
    v_number bigint;
    v_own bigint;
    v_others bigint;
BEGIN
    IF p_unflushed THEN
        -- Let the commit release the hot balance without waiting for the disk: the
        -- procedure below waits for it afterwards, unlocked.
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
            payload_digest, on_hand_delta, committed_delta, picked_delta,
            reserved_delta, damaged_delta, quality_control_delta, in_transit_delta,
            incoming_delta, other_location_in_transit_delta)
        SELECT p_channel, '#reservation/' || v_hold || '/' || line.id || '/reserve',
               'reserve', line.sku_id, line.location_id, NULL, asked.units, '',
               p_now, p_now, 'applied', '', p_actor, asked.entry_digest,
               0, 0, 0, asked.units, 0, 0, 0, 0, 0
        FROM line JOIN asked ON asked.sku = line.sku_id AND asked.place = line.location_id
    )
    SELECT v_hold, line.id, asked.number
    FROM line JOIN asked ON asked.sku = line.sku_id AND asked.place = line.location_id;

    -- The hold's first entry on its timeline, as reservation_place writes it
    -- (inventory.services.reservations).
    INSERT INTO inventory_reservationtransition (
        reservation_id, kind, action, from_status, to_status, actor, source, note,
        detail, at)
    VALUES (v_hold, '', 'reservation_place', '', 'active', p_actor, p_source, '',
            '{}', p_now);

    -- Django's foreign keys are checked at commit, which would put nine look-ups
    -- inside the hot balance's lock. Check them now: their key-share locks on the
    -- channel, SKU and location rows come before the balances, as the lock order
    -- (inventory/locking.py) says; then defer again for the caller's transaction.
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;

    -- The units last, in (sku, location) order like every balance lock, so the rows
    -- stay locked only until the commit of this same call. The condition is the
    -- promise check; a queued writer re-reads the row once it has the lock.
    FOR v_number IN
        SELECT a.number
        FROM unnest(p_skus, p_locations) WITH ORDINALITY AS a(sku, place, number)
        ORDER BY a.sku, a.place
    LOOP
        v_own := 0;
        v_others := 0;
        IF EXISTS (SELECT 1 FROM inventory_allocation AS allocation
                   WHERE allocation.sku_id = p_skus[v_number]
                     AND allocation.location_id = p_locations[v_number]
                     AND allocation.units > 0) THEN
            -- Something is protected here: lock the balance, then read the
            -- protections in force (a new statement sees what committed while it
            -- waited), this hold's own lines left out.
            PERFORM 1 FROM inventory_stockbalance AS balance
            WHERE balance.sku_id = p_skus[v_number]
              AND balance.location_id = p_locations[v_number]
            FOR NO KEY UPDATE;
            SELECT terms.own, terms.others INTO v_own, v_others
            FROM onestock_protections(p_channel, p_skus[v_number],
                                      p_locations[v_number], p_now, v_hold) AS terms;
        END IF;
        UPDATE inventory_stockbalance AS balance
        SET reserved = balance.reserved + p_quantities[v_number],
            last_event_at = GREATEST(balance.last_event_at, p_now),
            updated_at = p_now
        WHERE balance.sku_id = p_skus[v_number]
          AND balance.location_id = p_locations[v_number]
          AND onestock_promisable(onestock_available(balance), p_keep[v_number],
                                  v_own, v_others) >= p_quantities[v_number];
        IF NOT FOUND THEN
            -- Undoes everything above: the general path decides (lapsed holds, or
            -- the shortages to report).
            RAISE EXCEPTION USING ERRCODE = 'OS001',
                MESSAGE = 'short on the plain figures';
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION onestock_place_hold_by_codes(
    p_channel_code text, p_reference text, p_ttl integer, p_ttl_min integer,
    p_ttl_max integer, p_actor text, p_source text, p_digest text,
    p_now timestamptz, p_lines jsonb, p_unflushed boolean
) RETURNS TABLE (
    out_reservation bigint, out_lines bigint[], out_channel bigint, out_ttl integer,
    out_skus bigint[], out_locations bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    v_channel bigint;
    v_ttl integer;
    v_buffer integer;
    v_policy text;
    v_skus bigint[];
    v_locations bigint[];
    v_keep bigint[];
    v_quantities bigint[];
    v_entry_digests text[];
    v_asked integer;
    v_kits_asked integer;
    v_kits_current integer;
    v_hold bigint;
    v_lines bigint[];
BEGIN
    SELECT channel.id, COALESCE(p_ttl, channel.reservation_ttl_seconds),
           channel.safety_buffer, channel.buffer_policy
    INTO v_channel, v_ttl, v_buffer, v_policy
    FROM catalog_channel AS channel
    WHERE channel.code = p_channel_code AND channel.is_active;
    -- The cart's lines, one JSON document: {"sku", "location", "quantity",
    -- "digest" (of its ledger entry)} each, in the cart's order; then the kits the
    -- caller took apart into those lines (inventory.services.kits), {"kit",
    -- "kit_id", "location", "quantity", "revision", "components"} each. A kit named as a line
    -- is not found (a kit holds no stock): the general path takes it apart.
    SELECT array_agg(sku.id ORDER BY asked.number),
           array_agg(place.id ORDER BY asked.number),
           array_agg(onestock_safety_buffer(
                         sku.safety_buffer, v_buffer,
                         CASE WHEN v_policy = 'velocity' THEN
                             onestock_velocity_buffer(v_channel, sku.id, place.id)
                         END)
                     ORDER BY asked.number),
           array_agg(asked.quantity ORDER BY asked.number),
           array_agg(asked.digest ORDER BY asked.number)
    INTO v_skus, v_locations, v_keep, v_quantities, v_entry_digests
    FROM ROWS FROM (jsonb_to_recordset(p_lines)
            AS (sku text, location text, quantity bigint, digest text))
            WITH ORDINALITY AS asked(sku_code, location_code, quantity, digest, number)
    JOIN catalog_sku AS sku
        ON sku.code = asked.sku_code AND sku.is_active AND NOT sku.is_kit
    JOIN inventory_location AS place
        ON place.code = asked.location_code AND place.is_active;
    SELECT count(*) FILTER (WHERE asked.kit IS NULL),
           count(*) FILTER (WHERE asked.kit IS NOT NULL)
    INTO v_asked, v_kits_asked
    FROM jsonb_to_recordset(p_lines) AS asked(kit text);
    v_kits_current := 0;
    IF v_kits_asked > 0 THEN
        -- Each kit only as the caller read it: a kit redefined since steps aside.
        -- LATERAL: one probe of the unique code per kit, whatever the catalogue.
        SELECT count(*) INTO v_kits_current
        FROM jsonb_to_recordset(p_lines)
                AS asked(kit text, kit_id bigint, revision integer),
        LATERAL (SELECT 1 FROM catalog_sku AS sku
                 WHERE sku.code = asked.kit AND sku.id = asked.kit_id AND sku.is_kit
                   AND sku.is_active AND sku.kit_revision = asked.revision) AS current
        WHERE asked.kit IS NOT NULL;
    END IF;
    IF v_channel IS NULL OR v_ttl NOT BETWEEN p_ttl_min AND p_ttl_max
       OR cardinality(v_skus) IS DISTINCT FROM v_asked
       OR v_kits_current <> v_kits_asked
       -- A location outside the channel's network, when it names one.
       OR EXISTS (
           SELECT 1 FROM unnest(v_locations) AS wanted(location_id)
           WHERE EXISTS (SELECT 1 FROM inventory_networklocation network
                         WHERE network.channel_id = v_channel)
             AND NOT EXISTS (SELECT 1 FROM inventory_networklocation network
                             WHERE network.channel_id = v_channel
                               AND network.location_id = wanted.location_id)) THEN
        -- Unknown or closed, outside the channel's network, or a TTL out of bounds:
        -- the general path says which.
        RAISE EXCEPTION USING ERRCODE = 'OS002',
            MESSAGE = 'the cart needs its records read';
    END IF;

    SELECT min(placed.out_reservation),
           array_agg(placed.out_line ORDER BY placed.out_number)
    INTO v_hold, v_lines
    FROM onestock_place_hold(
        v_channel, p_reference, v_ttl, p_now + make_interval(secs => v_ttl), p_actor,
        p_source, p_digest, p_now, v_skus, v_locations, v_quantities, v_keep,
        v_entry_digests, p_unflushed) AS placed;
    IF v_hold IS NULL THEN
        RETURN;  -- the reference is taken: nothing was written
    END IF;
    IF v_kits_asked > 0 THEN
        -- What each kit took, beside the lines that hold its units.
        INSERT INTO inventory_reservationkit (
            reservation_id, sku_id, location_id, quantity, components)
        SELECT v_hold, sku.id, place.id, asked.quantity, asked.components
        FROM ROWS FROM (jsonb_to_recordset(p_lines)
                AS (kit text, location text, quantity bigint, components jsonb))
                WITH ORDINALITY AS asked(kit, location, quantity, components, number),
        LATERAL (SELECT id FROM catalog_sku WHERE code = asked.kit) AS sku,
        LATERAL (SELECT id FROM inventory_location WHERE code = asked.location) AS place
        WHERE asked.kit IS NOT NULL
        ORDER BY asked.number;
    END IF;
    RETURN QUERY SELECT v_hold, v_lines, v_channel, v_ttl, v_skus, v_locations;
END
$$;

CREATE OR REPLACE PROCEDURE onestock_place_hold_by_codes_durably(
    p_channel_code text, p_reference text, p_ttl integer, p_ttl_min integer,
    p_ttl_max integer, p_actor text, p_source text, p_digest text,
    p_now timestamptz, p_lines jsonb,
    INOUT out_reservation bigint DEFAULT NULL, INOUT out_lines bigint[] DEFAULT NULL,
    INOUT out_channel bigint DEFAULT NULL, INOUT out_ttl integer DEFAULT NULL,
    INOUT out_skus bigint[] DEFAULT NULL, INOUT out_locations bigint[] DEFAULT NULL
)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT * INTO out_reservation, out_lines, out_channel, out_ttl, out_skus,
        out_locations
    FROM onestock_place_hold_by_codes(
        p_channel_code, p_reference, p_ttl, p_ttl_min, p_ttl_max, p_actor, p_source,
        p_digest, p_now, p_lines, true);
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
