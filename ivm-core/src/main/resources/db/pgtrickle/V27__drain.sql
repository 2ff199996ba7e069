-- Drain and resume: stop starting refreshes (scheduled ones; a refresh asked for by name still
-- runs), let the ones in flight finish, report when quiet. The pause is a catalog row, so it holds
-- across engine restarts until resume(); while drain() waits, its transaction holds advisory lock
-- (GLOBAL, 8), which the engine sees at once (the row only once drain() commits).
CREATE TABLE pgtrickle.pgt_engine_state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    paused     boolean     NOT NULL DEFAULT false,
    paused_at  timestamptz,
    paused_by  text
);
INSERT INTO pgtrickle.pgt_engine_state DEFAULT VALUES;

-- Refreshes in flight: each holds the advisory lock (0x50475401, stream table id).
CREATE FUNCTION pgtrickle._refreshes_in_flight() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND classid = 1346851841 AND objsubid = 2 AND mode = 'ExclusiveLock'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
$$;

-- Whether the engine may start a scheduled refresh now.
CREATE FUNCTION pgtrickle._refreshes_paused() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (SELECT paused FROM pgtrickle.pgt_engine_state)
        OR EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1346851842
                      AND objid = 8 AND objsubid = 2
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
$$;

CREATE FUNCTION pgtrickle.drain(timeout interval DEFAULT '60 seconds')
RETURNS TABLE (quiet boolean, in_flight integer, waited interval)
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    n integer;
BEGIN
    IF timeout IS NULL OR timeout < interval '0' THEN
        RAISE EXCEPTION 'invalid drain timeout %', timeout USING ERRCODE = '22023',
            HINT = 'give a non-negative interval, e.g. pgtrickle.drain(''30 seconds'')';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1346851842, 8);
    UPDATE pgtrickle.pgt_engine_state SET paused = true, paused_at = coalesce(paused_at, now()),
                                          paused_by = coalesce(paused_by, session_user);
    LOOP
        n := pgtrickle._refreshes_in_flight();
        EXIT WHEN n = 0 OR clock_timestamp() - started >= timeout;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN QUERY SELECT n = 0, n, clock_timestamp() - started;
END $$;

-- Whether refreshes were paused.
CREATE FUNCTION pgtrickle.resume() RETURNS boolean
LANGUAGE sql AS $$
    UPDATE pgtrickle.pgt_engine_state s SET paused = false, paused_at = NULL, paused_by = NULL
      FROM (SELECT paused FROM pgtrickle.pgt_engine_state FOR UPDATE) was
     RETURNING was.paused
$$;
