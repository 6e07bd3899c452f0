-- The ledger is append-only: the database refuses to change or delete a stock
-- movement; a correction is a new entry, never an edit. (TRUNCATE, as the test
-- suite's flush uses, is not a row change and stays possible for the owner.)
-- Owns: inventory_ledger_append_only(), the trigger
--       inventory_stockmovement_append_only on inventory_stockmovement.
-- Applied by: inventory migrations 0003 and 0017, and every later migration that
-- applies "ledger_append_only". SQLite (the demo): sqlite/ledger_append_only.sql.

CREATE OR REPLACE FUNCTION inventory_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'The stock ledger is append-only: ' || TG_OP || ' refused.';
END
$$;

CREATE OR REPLACE TRIGGER inventory_stockmovement_append_only
BEFORE UPDATE OR DELETE ON inventory_stockmovement
FOR EACH ROW EXECUTE FUNCTION inventory_ledger_append_only();
