-- The outbox: every refresh of a stream table that has one writes its row-level delta here, in
-- the refresh's own transaction (docs/outbox-inbox.md).

-- The columns that identify a row of the stream table for the outbox's `key` (the group key of a
-- grouped query), recorded by the engine whenever it plans the stream table; NULL: the row id.
ALTER TABLE pgtrickle.pgt_stream_tables ADD COLUMN row_key text[];

CREATE TABLE pgtrickle.pgt_outbox_config (
    pgt_id                  bigint      PRIMARY KEY REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    retention_hours         integer     NOT NULL CHECK (retention_hours > 0),
    inline_threshold_rows   integer     NOT NULL CHECK (inline_threshold_rows >= 0),
    -- The stream table's row_key when the outbox was enabled: keys stay comparable across its
    -- entries even if a later redefinition changes what identifies a row.
    key_columns             text[],
    enabled_at              timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Offsets come from one sequence; the refresh takes a transaction lock on its stream table's
-- outbox before it draws one, so one stream table's offsets commit in increasing order.
CREATE SEQUENCE pgtrickle.pgt_outbox_offset_seq;

-- One row per refresh whose delta was not empty. Changes of up to inline_threshold_rows rows are
-- inline in `changes` (a jsonb array ordered by row_index); larger deltas are in
-- pgt_outbox_changes and `changes` is NULL.
CREATE TABLE pgtrickle.pgt_outbox (
    outbox_offset   bigint      PRIMARY KEY,
    pgt_id          bigint      NOT NULL REFERENCES pgtrickle.pgt_outbox_config ON DELETE CASCADE,
    stream_table    text        NOT NULL,           -- quoted schema.name when written
    xid8            xid8        NOT NULL DEFAULT pg_current_xact_id(),
    refresh_id      bigint,                         -- pgt_refresh_history.refresh_id
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    full_refresh    boolean     NOT NULL,
    inserted        bigint      NOT NULL,
    updated         bigint      NOT NULL,
    deleted         bigint      NOT NULL,
    row_count       bigint      NOT NULL,
    changes         jsonb
);
CREATE INDEX ON pgtrickle.pgt_outbox (pgt_id, outbox_offset);

CREATE TABLE pgtrickle.pgt_outbox_changes (
    outbox_offset   bigint      NOT NULL REFERENCES pgtrickle.pgt_outbox ON DELETE CASCADE,
    row_index       integer     NOT NULL,
    op              text        NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    key             jsonb       NOT NULL,
    before          jsonb,
    after           jsonb,
    PRIMARY KEY (outbox_offset, row_index)
);

CREATE FUNCTION pgtrickle._outbox_stream_table(name text, must_have_outbox boolean) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    id bigint := pgtrickle._require_stream_table(canonical);
BEGIN
    IF must_have_outbox AND NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id) THEN
        RAISE EXCEPTION 'stream table % has no outbox', canonical USING ERRCODE = '42704',
            HINT = 'enable it first: SELECT pgtrickle.enable_outbox(' || quote_literal(canonical) || ')';
    END IF;
    RETURN id;
END $$;

-- Writes the delta in pg_temp.__pgt_outbox_delta (op, row_id, before, after: user columns only)
-- as one outbox entry of stream table `id`, inline or in the side table; nothing when it is empty.
-- Returns the entry's offset, or NULL. The delta table is dropped: the next refresh in this
-- transaction (if any) starts its own.
CREATE FUNCTION pgtrickle._publish_outbox(id bigint, refresh_id bigint, full_refresh boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
    threshold integer;
    key_columns text[];
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
    -- Offsets of one stream table are drawn under its lock, held to commit: they commit in order.
    PERFORM pg_advisory_xact_lock(1346851843, ((id << 32) >> 32)::integer);
    entry := nextval('pgtrickle.pgt_outbox_offset_seq');
    EXECUTE format($q$
        WITH r AS MATERIALIZED (
            SELECT (row_number() OVER (ORDER BY k::text, op) - 1)::integer AS row_index, op, k AS key, before, after
              FROM (SELECT d.op, d.before, d.after,
                           CASE WHEN %1$L::text[] IS NULL THEN jsonb_build_object('__pgt_row_id', d.row_id)
                                ELSE coalesce((SELECT jsonb_object_agg(col, coalesce(d.after, d.before) -> col)
                                                 FROM unnest(%1$L::text[]) col), '{}')
                           END AS k
                      FROM pg_temp.__pgt_outbox_delta d) x),
        o AS (
            INSERT INTO pgtrickle.pgt_outbox (outbox_offset, pgt_id, stream_table, refresh_id, full_refresh,
                                              inserted, updated, deleted, row_count, changes)
            SELECT $1, $2, $3, $4, $5, count(*) FILTER (WHERE op = 'insert'), count(*) FILTER (WHERE op = 'update'),
                   count(*) FILTER (WHERE op = 'delete'), count(*),
                   CASE WHEN NOT $6 THEN jsonb_agg(jsonb_build_object('row_index', row_index, 'op', op, 'key', key,
                                                    'before', before, 'after', after) ORDER BY row_index) END
              FROM r)
        INSERT INTO pgtrickle.pgt_outbox_changes (outbox_offset, row_index, op, key, before, after)
        SELECT $1, row_index, op, key, before, after FROM r WHERE $6$q$, key_columns)
        USING entry, id, quote_ident(st.pgt_schema) || '.' || quote_ident(st.pgt_name), refresh_id, full_refresh,
              n > threshold;
    DROP TABLE pg_temp.__pgt_outbox_delta;
    RETURN entry;
END $$;

CREATE FUNCTION pgtrickle.enable_outbox(name text, retention_hours integer DEFAULT 24,
                                        inline_threshold_rows integer DEFAULT 1000)
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

-- Removes the outbox and everything in it (its rows, and the consumer groups reading it).
CREATE FUNCTION pgtrickle.disable_outbox(name text, if_exists boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    id bigint := pgtrickle._stream_table_id(canonical);
BEGIN
    IF id IS NULL OR NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id) THEN
        IF if_exists THEN
            RAISE NOTICE 'stream table % has no outbox, skipping', canonical;
            RETURN;
        END IF;
        PERFORM pgtrickle._outbox_stream_table(name, true);
    END IF;
    DELETE FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id;
END $$;

-- The changes of one outbox row from row_index after_row_index + 1 on, at most page_size of them,
-- whether they are inline or in the side table: a publisher pages a large delta with this.
CREATE FUNCTION pgtrickle.outbox_changes(outbox_offset bigint, after_row_index integer DEFAULT -1,
                                         page_size integer DEFAULT 1000)
RETURNS TABLE (row_index integer, op text, key jsonb, before jsonb, after jsonb)
LANGUAGE sql STABLE AS $$
    SELECT (e ->> 'row_index')::integer, e ->> 'op', e -> 'key', e -> 'before', e -> 'after'
      FROM pgtrickle.pgt_outbox o, jsonb_array_elements(o.changes) e
     WHERE o.outbox_offset = outbox_changes.outbox_offset AND o.changes IS NOT NULL
       AND (e ->> 'row_index')::integer > after_row_index
    UNION ALL
    SELECT c.row_index, c.op, c.key, c.before, c.after
      FROM pgtrickle.pgt_outbox_changes c
     WHERE c.outbox_offset = outbox_changes.outbox_offset AND c.row_index > after_row_index
     ORDER BY 1
     LIMIT page_size
$$;

-- What the outbox holds now. V16 adds its consumer groups.
CREATE FUNCTION pgtrickle.outbox_status(name text)
RETURNS TABLE (stream_table text, retention_hours integer, inline_threshold_rows integer, enabled_at timestamptz,
               entries bigint, changes bigint, first_offset bigint, last_offset bigint,
               oldest_at timestamptz, newest_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    id bigint := pgtrickle._outbox_stream_table(name, true);
BEGIN
    RETURN QUERY
    SELECT pgtrickle._canonical_name(name), c.retention_hours, c.inline_threshold_rows, c.enabled_at,
           count(o.outbox_offset), coalesce(sum(o.row_count), 0)::bigint, min(o.outbox_offset), max(o.outbox_offset),
           min(o.created_at), max(o.created_at)
      FROM pgtrickle.pgt_outbox_config c LEFT JOIN pgtrickle.pgt_outbox o ON o.pgt_id = c.pgt_id
     WHERE c.pgt_id = id
     GROUP BY c.retention_hours, c.inline_threshold_rows, c.enabled_at;
END $$;

-- drop_stream_table as in V2, and refused without cascade while the stream table has an outbox.
CREATE OR REPLACE FUNCTION pgtrickle.drop_stream_table(name text, "cascade" boolean DEFAULT false)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    id bigint := pgtrickle._require_stream_table(canonical);
    readers text;
BEGIN
    IF NOT "cascade" THEN
        SELECT string_agg(quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name), ', ' ORDER BY s.pgt_name)
          INTO readers
          FROM pgtrickle.pgt_dependencies d JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
          JOIN pgtrickle.pgt_stream_tables me ON me.pgt_relid = d.source_relid
         WHERE me.pgt_id = id;
        IF readers IS NOT NULL THEN
            RAISE EXCEPTION 'cannot drop stream table %: stream tables % read it', canonical, readers
                USING ERRCODE = '2BP01', HINT = 'drop those first, or pass "cascade" => true';
        END IF;
        IF EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id) THEN
            RAISE EXCEPTION 'cannot drop stream table %: it has an outbox, which publishers and consumer groups may still read',
                canonical USING ERRCODE = '2BP01',
                HINT = 'disable_outbox(' || quote_literal(canonical) || ') first, or pass "cascade" => true'
                    || ' (the outbox and its consumer groups go with it)';
        END IF;
    END IF;
    RETURN pgtrickle._submit('DROP', canonical, jsonb_build_object('cascade', "cascade"));
END $$;
