-- Capture markers the WAL stream has seen, so that a process without a WAL stream of its own (a
-- one-shot command while the engine runs) can wait for the running engine to catch up.
CREATE TABLE pgtrickle.pgt_capture_markers (
    token   text        PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- How each stream table is maintained, rendered by the engine when its definition is compiled.
ALTER TABLE pgtrickle.pgt_stream_tables ADD COLUMN explanation text;

CREATE FUNCTION pgtrickle.explain_stream_table(name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(s.explanation,
                    'stream table ' || quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) || E'\n'
                    || 'refresh mode  ' || s.refresh_mode || ' -> ' || s.effective_mode || E'\n'
                    || coalesce('why           ' || s.mode_reason || E'\n', ''))
      FROM pgtrickle.pgt_stream_tables s
     WHERE quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) = pgtrickle._canonical_name(name)
$$;
