-- The ledger is append-only, on SQLite (the demo): see ../ledger_append_only.sql.
-- Owns: the triggers inventory_stockmovement_no_update and
--       inventory_stockmovement_no_delete on inventory_stockmovement.
-- Applied by: inventory migrations 0003 and 0017, and every later migration that
-- applies "ledger_append_only".

DROP TRIGGER IF EXISTS inventory_stockmovement_no_update;
CREATE TRIGGER inventory_stockmovement_no_update
BEFORE UPDATE ON inventory_stockmovement
BEGIN
    SELECT RAISE(ABORT, 'The stock ledger is append-only: UPDATE refused.');
END;

DROP TRIGGER IF EXISTS inventory_stockmovement_no_delete;
CREATE TRIGGER inventory_stockmovement_no_delete
BEFORE DELETE ON inventory_stockmovement
BEGIN
    SELECT RAISE(ABORT, 'The stock ledger is append-only: DELETE refused.');
END;
