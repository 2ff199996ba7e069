-- Every change buffer records the transaction that wrote each row (ingest_xid): the source
-- transaction under trigger capture, the WAL ingester's under WAL capture. A refresh then reads
-- the rows its own snapshot sees in place, and copies through a second connection only those the
-- ingester committed after that snapshot (ChangeWindow.load). Rows written before this migration
-- have no writer recorded: they are old, hence visible, and read in place.
DO $$
DECLARE
    b text;
BEGIN
    FOR b IN SELECT buffer_table FROM pgtrickle.pgt_change_sources LOOP
        EXECUTE format('ALTER TABLE pgtrickle_changes.%I ADD COLUMN IF NOT EXISTS ingest_xid xid8', b);
        EXECUTE format('ALTER TABLE pgtrickle_changes.%I ALTER COLUMN ingest_xid SET DEFAULT pg_current_xact_id()', b);
    END LOOP;
END $$;
