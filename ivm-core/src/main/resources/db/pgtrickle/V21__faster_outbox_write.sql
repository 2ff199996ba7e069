-- The outbox write made cheaper (docs/benchmarks.md, "Outbox overhead"): measured on 1,000
-- changes, the key computed by a subquery per row and the inline array built with jsonb_agg were
-- most of what an outbox added to a refresh. The key is now one expression per key column, and
-- the inline array is aggregated as text and parsed once. Inline entries are also capped lower by
-- default (100 changes, was 1,000): past that, rows in pgt_outbox_changes cost less to write than
-- a large jsonb array, and a reader pages them anyway. Existing outboxes keep their threshold.
--
-- Changes within an entry are ordered by key (jsonb order, which is deterministic), then op.
CREATE OR REPLACE FUNCTION pgtrickle._publish_outbox(id bigint, refresh_id bigint, full_refresh boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
    threshold integer;
    key_columns text[];
    key_expr text;
    n bigint;
    entry bigint;
BEGIN
    IF to_regclass('pg_temp.__pgt_outbox_delta') IS NULL THEN
        RETURN NULL; -- the refresh applied nothing
    END IF;
    SELECT s.* INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = id;
    SELECT c.inline_threshold_rows, c.key_columns INTO threshold, key_columns
      FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id;
    EXECUTE 'SELECT count(*) FROM pg_temp.__pgt_outbox_delta' INTO n;
    IF threshold IS NULL OR n = 0 THEN
        DROP TABLE pg_temp.__pgt_outbox_delta;
        RETURN NULL;
    END IF;
    -- The key as one expression over the row's image, spelt out per key column (no per-row
    -- subquery); jsonb_build_object takes at most 100 arguments, so 50 columns per call.
    IF key_columns IS NULL THEN
        key_expr := 'jsonb_build_object(''__pgt_row_id'', d.row_id)';
    ELSIF cardinality(key_columns) = 0 THEN
        key_expr := '''{}''::jsonb';
    ELSE
        SELECT string_agg(call, ' || ' ORDER BY chunk) INTO key_expr
          FROM (SELECT chunk, 'jsonb_build_object(' || string_agg(format('%L, coalesce(d.after, d.before) -> %L', col, col),
                                                                  ', ' ORDER BY ord) || ')' AS call
                  FROM (SELECT col, ord, (ord - 1) / 50 AS chunk FROM unnest(key_columns) WITH ORDINALITY u(col, ord)) k
                 GROUP BY chunk) calls;
    END IF;
    -- Offsets of one stream table are drawn under its lock, held to commit: they commit in order.
    PERFORM pg_advisory_xact_lock(1346851843, ((id << 32) >> 32)::integer);
    entry := nextval('pgtrickle.pgt_outbox_offset_seq');
    -- Inline entries are built as text and parsed once: jsonb_agg over jsonb objects costs about
    -- twice as much for the same array.
    EXECUTE format($q$
        WITH r AS MATERIALIZED (
            SELECT (row_number() OVER (ORDER BY k, op) - 1)::integer AS row_index, op, k AS key, before, after
              FROM (SELECT d.op, d.before, d.after, %1$s AS k FROM pg_temp.__pgt_outbox_delta d) x),
        o AS (
            INSERT INTO pgtrickle.pgt_outbox (outbox_offset, pgt_id, stream_table, refresh_id, full_refresh,
                                              inserted, updated, deleted, row_count, changes)
            SELECT $1, $2, $3, $4, $5, count(*) FILTER (WHERE op = 'insert'), count(*) FILTER (WHERE op = 'update'),
                   count(*) FILTER (WHERE op = 'delete'), count(*),
                   CASE WHEN NOT $6 THEN ('[' || string_agg(jsonb_build_object('row_index', row_index, 'op', op,
                                                    'key', key, 'before', before, 'after', after)::text, ','
                                                    ORDER BY row_index) || ']')::jsonb END
              FROM r)
        INSERT INTO pgtrickle.pgt_outbox_changes (outbox_offset, row_index, op, key, before, after)
        SELECT $1, row_index, op, key, before, after FROM r WHERE $6$q$, key_expr)
        USING entry, id, quote_ident(st.pgt_schema) || '.' || quote_ident(st.pgt_name), refresh_id, full_refresh,
              n > threshold;
    DROP TABLE pg_temp.__pgt_outbox_delta;
    RETURN entry;
END $$;

CREATE OR REPLACE FUNCTION pgtrickle.enable_outbox(name text, retention_hours integer DEFAULT 24,
                                        inline_threshold_rows integer DEFAULT 100)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    id bigint := pgtrickle._outbox_stream_table(name, false);
BEGIN
    IF retention_hours IS NULL OR retention_hours <= 0 THEN
        RAISE EXCEPTION 'retention_hours must be a positive number of hours, not %', coalesce(retention_hours::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF inline_threshold_rows IS NULL OR inline_threshold_rows < 0 THEN
        RAISE EXCEPTION 'inline_threshold_rows must be 0 or more, not %', coalesce(inline_threshold_rows::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_requests r WHERE r.kind = 'DROP' AND r.pgt_name = canonical
                                                     AND r.state IN ('PENDING', 'RUNNING')) THEN
        RAISE EXCEPTION 'stream table % is being dropped', canonical USING ERRCODE = '55006',
            HINT = 'wait for the drop request to finish, create the stream table again, then enable its outbox';
    END IF;
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id) THEN
        RAISE EXCEPTION 'stream table % already has an outbox', canonical USING ERRCODE = '42710',
            HINT = 'outbox_status(' || quote_literal(canonical) || ') shows it; disable_outbox first to change its settings';
    END IF;
    -- The stream table's refresh lock: no refresh is between its MERGE and its commit while the
    -- outbox starts, so its first entry (the contents now) and the deltas after it add up.
    PERFORM pg_advisory_xact_lock(1346851841, ((id << 32) >> 32)::integer);
    INSERT INTO pgtrickle.pgt_outbox_config (pgt_id, retention_hours, inline_threshold_rows, key_columns)
    SELECT id, enable_outbox.retention_hours, enable_outbox.inline_threshold_rows, s.row_key
      FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = id;
    EXECUTE 'CREATE TEMP TABLE __pgt_outbox_delta ON COMMIT DROP AS'
         || ' SELECT ''insert''::text AS op, t.__pgt_row_id AS row_id, NULL::jsonb AS before,'
         || ' to_jsonb(t) - ''{__pgt_row_id,__pgt_h}''::text[] AS after FROM ' || canonical || ' t';
    PERFORM pgtrickle._publish_outbox(id, NULL, true);
END $$;
