-- Monitoring views and functions. Names follow pg_trickle's documentation.

CREATE VIEW pgtrickle.pg_stat_stream_tables AS
SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name)                       AS pgt_name,
       s.status,
       s.effective_mode                                                                   AS refresh_mode,
       count(h.refresh_id)                                                                AS total_refreshes,
       count(h.refresh_id) FILTER (WHERE h.status = 'SUCCESS')                            AS successful_refreshes,
       count(h.refresh_id) FILTER (WHERE h.status = 'FAILED')                             AS failed_refreshes,
       round((avg(extract(epoch FROM h.finished_at - h.started_at) * 1000)
              FILTER (WHERE h.status = 'SUCCESS'))::numeric, 3)                           AS avg_duration_ms,
       round((max(extract(epoch FROM h.finished_at - h.started_at) * 1000)
              FILTER (WHERE h.status = 'SUCCESS'))::numeric, 3)                           AS max_duration_ms,
       coalesce(sum(h.rows_inserted), 0)                                                  AS rows_inserted,
       coalesce(sum(h.rows_deleted), 0)                                                   AS rows_deleted,
       max(h.finished_at)                                                                 AS last_refresh_at,
       s.data_timestamp,
       clock_timestamp() - s.data_timestamp                                               AS staleness
  FROM pgtrickle.pgt_stream_tables s
  LEFT JOIN pgtrickle.pgt_refresh_history h ON h.pgt_id = s.pgt_id
 GROUP BY s.pgt_id;

-- The stream-table DAG, roots first: each stream table once per path from a root.
CREATE FUNCTION pgtrickle.dependency_tree()
RETURNS TABLE (name text, depth integer, path text, schedule text, status text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE st AS (
        SELECT s.pgt_id, s.pgt_relid, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) AS name,
               coalesce(s.schedule, 'calculated') AS schedule, s.status
          FROM pgtrickle.pgt_stream_tables s
    ), edge AS (
        SELECT src.pgt_id AS source_id, d.pgt_id AS reader_id
          FROM pgtrickle.pgt_dependencies d JOIN st src ON src.pgt_relid = d.source_relid
    ), tree AS (
        SELECT st.pgt_id, st.name, 0 AS depth, st.name AS path
          FROM st WHERE NOT EXISTS (SELECT 1 FROM edge WHERE edge.reader_id = st.pgt_id)
        UNION ALL
        SELECT st.pgt_id, st.name, tree.depth + 1, tree.path || ' > ' || st.name
          FROM tree JOIN edge ON edge.source_id = tree.pgt_id JOIN st ON st.pgt_id = edge.reader_id
    )
    SELECT tree.name, tree.depth, tree.path, st.schedule, st.status
      FROM tree JOIN st USING (pgt_id)
     ORDER BY tree.path
$$;

-- The most recent refreshes across all stream tables, newest first.
CREATE FUNCTION pgtrickle.refresh_timeline(max_rows integer DEFAULT 20)
RETURNS TABLE (started_at timestamptz, name text, action text, trigger text, status text,
               duration_ms numeric, rows_inserted bigint, rows_deleted bigint, error text)
LANGUAGE sql STABLE AS $$
    SELECT h.started_at, quote_ident(h.pgt_schema) || '.' || quote_ident(h.pgt_name), h.action, h.trigger,
           h.status, round((extract(epoch FROM h.finished_at - h.started_at) * 1000)::numeric, 3),
           h.rows_inserted, h.rows_deleted, h.error
      FROM pgtrickle.pgt_refresh_history h
     ORDER BY h.refresh_id DESC
     LIMIT max_rows
$$;

-- Quick triage: one row per problem found, or a single OK row.
CREATE FUNCTION pgtrickle.health_check()
RETURNS TABLE (check_name text, severity text, detail text)
LANGUAGE sql STABLE AS $$
    WITH findings AS (
        SELECT 'engine_running' AS check_name, 'WARNING' AS severity,
               'no pg_trickle engine holds this database: requests wait and nothing refreshes on schedule'
                   || ' (start one with: pgtrickle run)' AS detail
         WHERE NOT EXISTS (SELECT 1 FROM pg_locks
                            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database
                                                                         WHERE datname = current_database())
                              AND classid = 1346851842 AND objid = 2 AND objsubid = 2 AND granted)
        UNION ALL
        SELECT 'suspended', 'ERROR',
               quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) || ' is suspended'
                   || coalesce(': ' || last_error, '') || ' (resume with alter_stream_table(..., status => ''ACTIVE''))'
          FROM pgtrickle.pgt_stream_tables WHERE status = 'SUSPENDED'
        UNION ALL
        SELECT 'refresh_errors', 'WARNING',
               quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) || ' failed ' || consecutive_errors
                   || ' time(s) in a row: ' || coalesce(last_error, '')
          FROM pgtrickle.pgt_stream_tables WHERE status = 'ERROR'
        UNION ALL
        SELECT 'stale', 'WARNING',
               quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) || ' is ' ||
                   date_trunc('second', clock_timestamp() - data_timestamp) || ' old, schedule ' || schedule
          FROM pgtrickle.pgt_stream_tables
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
