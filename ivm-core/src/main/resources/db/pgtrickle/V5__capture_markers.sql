-- Capture markers the WAL stream has seen, so that a process without a WAL stream of its own (a
-- one-shot command while the engine runs) can wait for the running engine to catch up.
CREATE TABLE pgtrickle.pgt_capture_markers (
    token   text        PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
