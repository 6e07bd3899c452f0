-- The outbox of availability changes on SQLite (the demo): see ../balance_outbox.sql.
-- SQLite has row triggers only (its writers are one at a time anyway), so each
-- trigger counts up the sequence and writes the change itself. "IS NOT" is SQLite's
-- null-safe "is distinct from" (which arrived only in 3.39).
-- Owns: the triggers onestock_outbox_after_update and onestock_outbox_after_insert
--       on inventory_stockbalance.
-- Applied by: inventory migrations 0016 and 0017, and every later migration that
-- applies "balance_outbox".

DROP TRIGGER IF EXISTS onestock_outbox_after_update;
CREATE TRIGGER onestock_outbox_after_update AFTER UPDATE ON inventory_stockbalance
WHEN NEW.on_hand IS NOT OLD.on_hand OR NEW.committed IS NOT OLD.committed
    OR NEW.picked IS NOT OLD.picked OR NEW.reserved IS NOT OLD.reserved
    OR NEW.damaged IS NOT OLD.damaged
    OR NEW.quality_control IS NOT OLD.quality_control
    OR NEW.in_transit IS NOT OLD.in_transit OR NEW.incoming IS NOT OLD.incoming
BEGIN
    UPDATE inventory_stockbalance SET sequence = OLD.sequence + 1 WHERE id = NEW.id;
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, on_hand, committed, picked, reserved,
         damaged, quality_control, in_transit, incoming, changed_at)
    VALUES (NEW.sku_id, NEW.location_id, OLD.sequence + 1, NEW.on_hand,
            NEW.committed, NEW.picked, NEW.reserved, NEW.damaged,
            NEW.quality_control, NEW.in_transit, NEW.incoming,
            strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;

DROP TRIGGER IF EXISTS onestock_outbox_after_insert;
CREATE TRIGGER onestock_outbox_after_insert AFTER INSERT ON inventory_stockbalance
WHEN NEW.on_hand <> 0 OR NEW.committed <> 0 OR NEW.picked <> 0 OR NEW.reserved <> 0
    OR NEW.damaged <> 0 OR NEW.quality_control <> 0 OR NEW.in_transit <> 0
    OR NEW.incoming <> 0
BEGIN
    UPDATE inventory_stockbalance SET sequence = 1 WHERE id = NEW.id;
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, on_hand, committed, picked, reserved,
         damaged, quality_control, in_transit, incoming, changed_at)
    VALUES (NEW.sku_id, NEW.location_id, 1, NEW.on_hand, NEW.committed,
            NEW.picked, NEW.reserved, NEW.damaged, NEW.quality_control,
            NEW.in_transit, NEW.incoming, strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
