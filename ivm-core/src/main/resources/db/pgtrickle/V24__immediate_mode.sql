-- IMMEDIATE refresh mode: statement triggers with transition tables keep the stream table exact in
-- every writer's transaction (see io.pgtrickle.core.immediate.ImmediateTriggers).
ALTER TABLE pgtrickle.pgt_stream_tables DROP CONSTRAINT pgt_stream_tables_refresh_mode_check;
ALTER TABLE pgtrickle.pgt_stream_tables DROP CONSTRAINT pgt_stream_tables_effective_mode_check;
ALTER TABLE pgtrickle.pgt_stream_tables ADD CONSTRAINT pgt_stream_tables_refresh_mode_check
    CHECK (refresh_mode IN ('AUTO', 'FULL', 'DIFFERENTIAL', 'IMMEDIATE'));
ALTER TABLE pgtrickle.pgt_stream_tables ADD CONSTRAINT pgt_stream_tables_effective_mode_check
    CHECK (effective_mode IN ('FULL', 'DIFFERENTIAL', 'IMMEDIATE'));

-- One row per IMMEDIATE stream table, updated at the start of every trigger run: the row lock
-- serialises the writers whose deltas must see each other (READ COMMITTED), and a writer whose
-- fixed snapshot missed a concurrent one fails with a serialization error (REPEATABLE READ and
-- SERIALIZABLE: first updater wins) instead of computing a delta against stale sources.
CREATE TABLE pgtrickle.pgt_immediate_writes (
    pgt_id  bigint PRIMARY KEY REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    writes  bigint NOT NULL DEFAULT 0
);

CREATE OR REPLACE FUNCTION pgtrickle._check_refresh_mode(refresh_mode text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF refresh_mode IS NULL OR upper(refresh_mode) IN ('AUTO', 'FULL', 'DIFFERENTIAL', 'IMMEDIATE') THEN
        RETURN;
    END IF;
    RAISE EXCEPTION 'invalid refresh mode "%"', refresh_mode USING ERRCODE = '22023',
        HINT = 'use AUTO, FULL, DIFFERENTIAL or IMMEDIATE';
END $$;

-- An IMMEDIATE stream table's changes are applied by its triggers, which write no outbox entries:
-- an outbox on it would stay empty while the table changes. Refused until they do.
CREATE FUNCTION pgtrickle._outbox_not_immediate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables WHERE pgt_id = NEW.pgt_id AND effective_mode = 'IMMEDIATE') THEN
        RAISE EXCEPTION 'stream table % is maintained in IMMEDIATE mode, whose triggers write no outbox',
            (SELECT pgt_schema || '.' || pgt_name FROM pgtrickle.pgt_stream_tables WHERE pgt_id = NEW.pgt_id)
            USING ERRCODE = '0A000',
                  HINT = 'alter it to refresh_mode => ''DIFFERENTIAL'' (or AUTO/FULL) first';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER outbox_not_immediate BEFORE INSERT ON pgtrickle.pgt_outbox_config
    FOR EACH ROW EXECUTE FUNCTION pgtrickle._outbox_not_immediate();
