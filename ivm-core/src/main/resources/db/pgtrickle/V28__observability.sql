-- Observability: refresh SLAs per stream table, and column lineage.

-- Which source columns each output column of a stream table is computed from. The engine fills it
-- from the parsed defining query whenever the definition is stored (create, alter, re-plan); an
-- output column computed from no column (count(*), a literal) has one row with NULL source.
CREATE TABLE pgtrickle.pgt_lineage (
    pgt_id          bigint  NOT NULL REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    output_column   text    NOT NULL,
    ordinal         integer NOT NULL,               -- the output column's position, from 1
    source_relid    oid,
    source_schema   text,
    source_table    text,
    source_column   text
);
CREATE INDEX ON pgtrickle.pgt_lineage (pgt_id, ordinal);

CREATE FUNCTION pgtrickle.stream_table_lineage(name text)
RETURNS TABLE (output_column text, source_schema text, source_table text, source_column text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    id bigint := pgtrickle._require_stream_table(pgtrickle._canonical_name(name));
BEGIN
    RETURN QUERY
        SELECT l.output_column, l.source_schema, l.source_table, l.source_column
          FROM pgtrickle.pgt_lineage l
         WHERE l.pgt_id = id
         ORDER BY l.ordinal, l.source_schema, l.source_table, l.source_column;
END $$;

-- Refresh latency and staleness per stream table over the last `window`, from pgt_refresh_history.
--   refreshes, failures    refreshes started in the window, and those that did not succeed
--   p50/p99_refresh_ms     duration (finished_at - started_at) of the successful ones
--   p50/p99_staleness_s    approximate: staleness peaks just before a refresh lands, at about
--                          (this refresh's finished_at - the previous successful refresh's
--                          started_at), since a refresh's data is about as of its start. One such
--                          sample per successful refresh in the window (the first one's previous
--                          refresh may lie before the window), plus the current staleness.
--   current_staleness_s    now - data_timestamp (NULL before the first refresh)
CREATE FUNCTION pgtrickle.sla_summary("window" interval DEFAULT '1 hour')
RETURNS TABLE (name text, refreshes bigint, failures bigint, p50_refresh_ms double precision,
               p99_refresh_ms double precision, p50_staleness_s double precision,
               p99_staleness_s double precision, current_staleness_s double precision)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF $1 IS NULL OR $1 <= interval '0' THEN
        RAISE EXCEPTION 'invalid sla_summary window %', coalesce($1::text, 'NULL') USING ERRCODE = '22023',
            HINT = 'give a positive interval, e.g. pgtrickle.sla_summary(''15 minutes'')';
    END IF;
    RETURN QUERY
    WITH ok AS (
        SELECT h.pgt_id, h.started_at, h.finished_at,
               lag(h.started_at) OVER (PARTITION BY h.pgt_id ORDER BY h.finished_at) AS previous_start
          FROM pgtrickle.pgt_refresh_history h
         WHERE h.status = 'SUCCESS'
           -- one refresh before the window, as the previous of the first one in it
           AND h.finished_at > clock_timestamp() - $1 * 2
    ), counts AS (
        SELECT h.pgt_id, count(*) AS n, count(*) FILTER (WHERE h.status <> 'SUCCESS') AS failed
          FROM pgtrickle.pgt_refresh_history h
         WHERE h.started_at > clock_timestamp() - $1
         GROUP BY h.pgt_id
    ), durations AS (
        SELECT ok.pgt_id,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ok.finished_at - ok.started_at) * 1000) AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM ok.finished_at - ok.started_at) * 1000) AS p99
          FROM ok
         WHERE ok.started_at > clock_timestamp() - $1
         GROUP BY ok.pgt_id
    ), staleness AS (
        SELECT x.pgt_id,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY x.seconds) AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY x.seconds) AS p99
          FROM (SELECT ok.pgt_id, extract(epoch FROM ok.finished_at - ok.previous_start)::double precision AS seconds
                  FROM ok
                 WHERE ok.finished_at > clock_timestamp() - $1 AND ok.previous_start IS NOT NULL
                UNION ALL
                SELECT s.pgt_id, extract(epoch FROM clock_timestamp() - s.data_timestamp)::double precision
                  FROM pgtrickle.pgt_stream_tables s
                 WHERE s.data_timestamp IS NOT NULL) x
         GROUP BY x.pgt_id
    )
    SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name),
           coalesce(c.n, 0), coalesce(c.failed, 0), d.p50, d.p99, st.p50, st.p99,
           extract(epoch FROM clock_timestamp() - s.data_timestamp)::double precision
      FROM pgtrickle.pgt_stream_tables s
      LEFT JOIN counts c ON c.pgt_id = s.pgt_id
      LEFT JOIN durations d ON d.pgt_id = s.pgt_id
      LEFT JOIN staleness st ON st.pgt_id = s.pgt_id
     ORDER BY 1;
END $$;
