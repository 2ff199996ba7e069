-- health_check() reports every stream table that is not healthy, each with the error and the fix.
-- V3's version missed requests the engine could not carry out (create_stream_table and friends
-- return before the engine runs them, so a failed CREATE left nothing behind but a FAILED
-- request) and stream tables never populated, and it ranked a stream table that fails every
-- refresh, or that a source change broke, as a mere WARNING.
CREATE OR REPLACE FUNCTION pgtrickle.health_check()
RETURNS TABLE (check_name text, severity text, detail text)
LANGUAGE sql STABLE AS $$
    WITH st AS (
        SELECT s.*, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) AS name
          FROM pgtrickle.pgt_stream_tables s
    ), latest_request AS (
        SELECT DISTINCT ON (r.pgt_name) r.*
          FROM pgtrickle.pgt_requests r
         WHERE r.requested_at > clock_timestamp() - interval '1 day'
         ORDER BY r.pgt_name, r.request_id DESC
    ), findings AS (
        SELECT 'engine_running' AS check_name, 'WARNING' AS severity,
               'no pg_trickle engine holds this database: requests wait and nothing refreshes on schedule'
                   || ' (start one with: pgtrickle run)' AS detail
         WHERE NOT EXISTS (SELECT 1 FROM pg_locks
                            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database
                                                                         WHERE datname = current_database())
                              AND classid = 1346851842 AND objid = 2 AND objsubid = 2 AND granted)
        UNION ALL
        SELECT 'suspended', 'ERROR',
               name || ' is suspended and not refreshed'
                   || CASE WHEN consecutive_errors > 0 THEN ' after ' || consecutive_errors || ' failed refresh(es)' ELSE '' END
                   || coalesce('; last error: ' || last_error, '')
                   || ' (fix the cause, then resume it: SELECT pgtrickle.alter_stream_table(' || quote_literal(name)
                   || ', status => ''ACTIVE''))'
          FROM st WHERE status = 'SUSPENDED'
        UNION ALL
        -- ERROR: a refresh failed (retried with back-off, suspended after repeated failures), or
        -- a source change broke the query (markBroken: no attempt counted).
        SELECT 'refresh_errors', 'ERROR',
               name || CASE WHEN consecutive_errors > 0
                            THEN ' failed its last ' || consecutive_errors || ' refresh(es)'
                            ELSE ' cannot be refreshed' END
                   || ': ' || coalesce(last_error, 'unknown error')
                   || ' (fix the cause; it is retried with back-off, or now with SELECT pgtrickle.refresh_stream_table('
                   || quote_literal(name) || '); alter_stream_table or create_or_replace_stream_table changes its query)'
          FROM st WHERE status = 'ERROR'
        UNION ALL
        SELECT 'never_populated', 'ERROR',
               name || ' has never been populated: no refresh has succeeded, so it is empty'
                   || ' (SELECT pgtrickle.refresh_stream_table(' || quote_literal(name) || ') populates it or names the error)'
          FROM st WHERE data_timestamp IS NULL AND status = 'ACTIVE'
        UNION ALL
        -- The newest request for a name failed (in the last day): nothing else tells the user,
        -- as the SQL functions return once the request is registered.
        SELECT 'failed_requests', CASE WHEN r.kind IN ('CREATE', 'CREATE_OR_REPLACE') THEN 'ERROR' ELSE 'WARNING' END,
               lower(r.kind) || ' of ' || r.pgt_name || ' (request ' || r.request_id || ') failed: '
                   || coalesce(r.error, 'unknown error')
                   || CASE r.kind
                          WHEN 'CREATE' THEN ' (the stream table was not created; fix the cause and call create_stream_table again)'
                          WHEN 'CREATE_OR_REPLACE' THEN ' (the stream table was not changed; fix the cause and call it again)'
                          WHEN 'ALTER' THEN ' (the stream table keeps its previous definition; fix the cause and alter it again)'
                          WHEN 'DROP' THEN ' (the stream table still exists; fix the cause and drop it again)'
                          ELSE ' (fix the cause and refresh it again)' END
          FROM latest_request r
         WHERE r.state = 'FAILED' AND r.completed_at > clock_timestamp() - interval '1 day'
           -- made good since: a later successful refresh, or the stream table created another way
           AND NOT (r.kind = 'REFRESH' AND EXISTS (SELECT 1 FROM st WHERE st.name = r.pgt_name
                                                       AND st.last_refresh_at > r.completed_at))
           AND NOT (r.kind = 'CREATE' AND EXISTS (SELECT 1 FROM st WHERE st.name = r.pgt_name
                                                      AND st.created_at > r.completed_at))
        UNION ALL
        SELECT 'stale', 'WARNING',
               name || ' is ' || date_trunc('second', clock_timestamp() - data_timestamp) || ' old, schedule ' || schedule
                   || ' (is the engine running and keeping up? see pgtrickle.refresh_timeline())'
          FROM st
         WHERE status = 'ACTIVE' AND schedule IS NOT NULL AND data_timestamp IS NOT NULL
           AND clock_timestamp() - data_timestamp >
               3 * greatest(interval '1 second', (SELECT sum(make_interval(secs =>
                       m[1]::numeric * CASE m[2] WHEN 'ms' THEN 0.001 WHEN 's' THEN 1 WHEN 'm' THEN 60
                                                WHEN 'h' THEN 3600 ELSE 86400 END))
                     FROM regexp_matches(schedule, '([0-9]+)(ms|s|m|h|d)', 'g') AS m))
        UNION ALL
        SELECT 'pending_requests', 'WARNING',
               count(*) || ' request(s) waiting for more than 10 seconds'
          FROM pgtrickle.pgt_requests WHERE state = 'PENDING' AND requested_at < clock_timestamp() - interval '10 seconds'
        HAVING count(*) > 0
    )
    SELECT * FROM findings
    UNION ALL
    SELECT 'all', 'OK', 'no problems found' WHERE NOT EXISTS (SELECT 1 FROM findings)
$$;
