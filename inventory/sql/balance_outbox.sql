-- The outbox of availability changes (inventory_availabilitychange), written by the
-- database: a change of any of a balance's quantities counts up its sequence and
-- copies the new quantities into the outbox in the same statement, whichever path
-- moved the stock (the ledger's batch, the hold function, the rebuild's repair).
-- Owns: onestock_balance_sequence(), onestock_outbox_after_update(),
--       onestock_outbox_after_insert() and their triggers on inventory_stockbalance.
-- Applied by: inventory migrations 0016 and 0017, and every later migration that
-- applies "balance_outbox". The outbox's BRIN index on changed_at is schema: it is
-- created in migration 0016. SQLite (the demo): sqlite/balance_outbox.sql.
-- The quantities copied are every bucket (inventory.movements.BUCKETS): a channel
-- sees them all, so a change to any of them is a change of availability.

CREATE OR REPLACE FUNCTION onestock_balance_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.sequence := CASE
            WHEN NEW.on_hand <> 0 OR NEW.committed <> 0 OR NEW.picked <> 0
                OR NEW.reserved <> 0 OR NEW.damaged <> 0 OR NEW.quality_control <> 0
                OR NEW.in_transit <> 0 OR NEW.incoming <> 0
            THEN 1 ELSE 0 END;
    ELSIF NEW.on_hand IS DISTINCT FROM OLD.on_hand
        OR NEW.committed IS DISTINCT FROM OLD.committed
        OR NEW.picked IS DISTINCT FROM OLD.picked
        OR NEW.reserved IS DISTINCT FROM OLD.reserved
        OR NEW.damaged IS DISTINCT FROM OLD.damaged
        OR NEW.quality_control IS DISTINCT FROM OLD.quality_control
        OR NEW.in_transit IS DISTINCT FROM OLD.in_transit
        OR NEW.incoming IS DISTINCT FROM OLD.incoming THEN
        NEW.sequence := OLD.sequence + 1;
    ELSIF NEW.sequence > OLD.sequence THEN
        -- A jump forward after a point-in-time restore (inventory.services.restore):
        -- kept, and announced by the outbox trigger like any change.
        NULL;
    ELSE
        NEW.sequence := OLD.sequence;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER onestock_balance_sequence
BEFORE INSERT OR UPDATE ON inventory_stockbalance
FOR EACH ROW EXECUTE FUNCTION onestock_balance_sequence();

-- One INSERT per statement, from the rows the statement changed: a batch of a
-- thousand events writes its thousand changes in one go.
CREATE OR REPLACE FUNCTION onestock_outbox_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, on_hand, committed, picked, reserved,
         damaged, quality_control, in_transit, incoming, changed_at)
    SELECT n.sku_id, n.location_id, n.sequence, n.on_hand, n.committed, n.picked,
           n.reserved, n.damaged, n.quality_control, n.in_transit, n.incoming,
           clock_timestamp()
    FROM changed_new AS n JOIN changed_old AS o ON o.id = n.id
    WHERE n.sequence <> o.sequence
    ORDER BY n.sku_id, n.location_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER onestock_outbox_after_update
AFTER UPDATE ON inventory_stockbalance
REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
FOR EACH STATEMENT EXECUTE FUNCTION onestock_outbox_after_update();

CREATE OR REPLACE FUNCTION onestock_outbox_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, on_hand, committed, picked, reserved,
         damaged, quality_control, in_transit, incoming, changed_at)
    SELECT n.sku_id, n.location_id, n.sequence, n.on_hand, n.committed, n.picked,
           n.reserved, n.damaged, n.quality_control, n.in_transit, n.incoming,
           clock_timestamp()
    FROM inserted AS n
    WHERE n.sequence > 0
    ORDER BY n.sku_id, n.location_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER onestock_outbox_after_insert
AFTER INSERT ON inventory_stockbalance
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION onestock_outbox_after_insert();
