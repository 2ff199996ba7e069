-- How long each phase of a refresh took, in milliseconds: {"plan", "capture_barrier",
-- "window_read", "apply", "bookkeeping"}. One jsonb column rather than a column per phase, so
-- that measuring another phase needs no migration; NULL for failed refreshes and for the
-- populating refresh of create and alter. Commit is not among them: it is only known after the
-- history row has committed, and recording it would cost every refresh another round trip.
ALTER TABLE pgtrickle.pgt_refresh_history ADD COLUMN phase_ms jsonb;

-- refresh_timeline() gains the phases; its result type changes, so it is dropped and recreated.
DROP FUNCTION pgtrickle.refresh_timeline(integer);
CREATE FUNCTION pgtrickle.refresh_timeline(max_rows integer DEFAULT 20)
RETURNS TABLE (started_at timestamptz, name text, action text, trigger text, status text,
               duration_ms numeric, rows_inserted bigint, rows_deleted bigint, error text, phase_ms jsonb)
LANGUAGE sql STABLE AS $$
    SELECT h.started_at, quote_ident(h.pgt_schema) || '.' || quote_ident(h.pgt_name), h.action, h.trigger,
           h.status, round((extract(epoch FROM h.finished_at - h.started_at) * 1000)::numeric, 3),
           h.rows_inserted, h.rows_deleted, h.error, h.phase_ms
      FROM pgtrickle.pgt_refresh_history h
     ORDER BY h.refresh_id DESC
     LIMIT max_rows
$$;
