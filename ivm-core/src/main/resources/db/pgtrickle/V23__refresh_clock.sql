-- The clock of the last refresh of each stream table whose query reads it (now(), current_date, …
-- in WHERE comparisons, maintained as a sliding window): the next refresh reads the rows whose
-- truth flips between this instant and its own. The session time zone is kept with it, as
-- current_date and the clock's casts depend on it: a refresh under another one recomputes.
-- A row here also keeps the stream table from being confirmed idle: time passing changes it.
CREATE TABLE pgtrickle.pgt_refresh_clock (
    pgt_id     bigint      PRIMARY KEY REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    clock      timestamptz NOT NULL,
    time_zone  text        NOT NULL
);
