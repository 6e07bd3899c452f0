-- The outbox of availability changes on SQLite (the demo): see ../balance_outbox.sql.
-- SQLite has row triggers only (its writers are one at a time anyway), so each
-- trigger counts up the sequence and writes the change itself. "IS NOT" is SQLite's
-- null-safe "is distinct from" (which arrived only in 3.39).
-- Owns: the triggers onestock_outbox_after_update, onestock_outbox_after_insert and
--       onestock_outbox_after_jump on inventory_stockbalance.
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

-- A jump of the sequence alone, asked for by a writer (inventory.services.terms:
-- a channel's terms changed), is announced like a change. The writer stamps
-- updated_at; the trigger's own count-up above does not, so it is not announced
-- twice.
DROP TRIGGER IF EXISTS onestock_outbox_after_jump;
CREATE TRIGGER onestock_outbox_after_jump AFTER UPDATE OF sequence
ON inventory_stockbalance
WHEN NEW.sequence > OLD.sequence AND NEW.updated_at IS NOT OLD.updated_at
    AND NEW.on_hand IS OLD.on_hand AND NEW.committed IS OLD.committed
    AND NEW.picked IS OLD.picked AND NEW.reserved IS OLD.reserved
    AND NEW.damaged IS OLD.damaged AND NEW.quality_control IS OLD.quality_control
    AND NEW.in_transit IS OLD.in_transit AND NEW.incoming IS OLD.incoming
BEGIN
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, on_hand, committed, picked, reserved,
         damaged, quality_control, in_transit, incoming, changed_at)
    VALUES (NEW.sku_id, NEW.location_id, NEW.sequence, NEW.on_hand,
            NEW.committed, NEW.picked, NEW.reserved, NEW.damaged,
            NEW.quality_control, NEW.in_transit, NEW.incoming,
            strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
