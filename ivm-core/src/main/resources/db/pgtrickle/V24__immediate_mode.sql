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
