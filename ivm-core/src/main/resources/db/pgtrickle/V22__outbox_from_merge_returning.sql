-- The outbox entry written by the refresh's MERGE itself (docs/benchmarks.md, "Outbox overhead").
-- Before, the MERGE collected its changed rows in a temporary table and _publish_outbox turned
-- them into the entry: a table created and dropped per refresh, the rows written and read twice,
-- a dynamic statement planned each time. On PostgreSQL 18 (RETURNING old and new from MERGE) the
-- refresh now reserves the entry first (_reserve_outbox_entry: the outbox lock and the offset) and
-- the MERGE's statement writes the entry from its RETURNING rows. Older servers keep the temporary
-- table; both build the key with _outbox_key_sql, so their entries are the same.

-- The SQL of an entry's `key` for one changed row: the key columns of its image (or its row id
-- when the outbox has no key columns). `row_id` and `image` are the SQL expressions of the row's
-- id and of its image (after, or before for a delete). One expression per key column, no per-row
-- subquery; jsonb_build_object takes at most 100 arguments, so 50 columns per call.
CREATE FUNCTION pgtrickle._outbox_key_sql(key_columns text[], row_id text, image text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN key_columns IS NULL THEN format('jsonb_build_object(%L, %s)', '__pgt_row_id', row_id)
        WHEN cardinality(key_columns) = 0 THEN '''{}''::jsonb'
        ELSE (SELECT string_agg(call, ' || ' ORDER BY chunk)
                FROM (SELECT chunk, 'jsonb_build_object(' || string_agg(format('%L, %s -> %L', col, image, col),
                                                                        ', ' ORDER BY ord) || ')' AS call
                        FROM (SELECT col, ord, (ord - 1) / 50 AS chunk
                                FROM unnest(key_columns) WITH ORDINALITY u(col, ord)) k
                       GROUP BY chunk) calls)
    END
$$;

-- Reserves the next entry of stream table `id`'s outbox for the refresh in this transaction:
-- takes the outbox lock (held to commit, so one stream table's offsets commit in order) and draws
-- the offset. Returns it with the inline threshold, the key's SQL over a changed row `d`
-- (d.__pgt_rid, d.__pgt_before, d.__pgt_after) and the stream table's name as an SQL literal;
-- no row when the stream table has no outbox. An offset whose delta turns out empty is not used.
CREATE FUNCTION pgtrickle._reserve_outbox_entry(id bigint)
RETURNS TABLE (entry bigint, inline_threshold_rows integer, key_sql text, stream_table text)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id) THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(1346851843, ((id << 32) >> 32)::integer);
    RETURN QUERY
        SELECT nextval('pgtrickle.pgt_outbox_offset_seq'), c.inline_threshold_rows,
               pgtrickle._outbox_key_sql(c.key_columns, 'd.__pgt_rid', 'coalesce(d.__pgt_after, d.__pgt_before)'),
               quote_literal(quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name))
          FROM pgtrickle.pgt_outbox_config c JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
         WHERE c.pgt_id = id;
END $$;

-- Writes the delta in pg_temp.__pgt_outbox_delta (op, row_id, before, after: user columns only)
-- as one outbox entry of stream table `id`, inline or in the side table; nothing when it is empty.
-- `entry` is an offset reserved by _reserve_outbox_entry, or NULL to draw one here (under the
-- outbox lock). Returns the entry's offset, or NULL. The delta table is dropped: the next refresh
-- in this transaction (if any) starts its own. Changes within an entry are ordered by key (jsonb
-- order, which is deterministic), then op, as the MERGE-written entries are.
DROP FUNCTION pgtrickle._publish_outbox(bigint, bigint, boolean);
CREATE FUNCTION pgtrickle._publish_outbox(id bigint, refresh_id bigint, full_refresh boolean, entry bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
    threshold integer;
    key_columns text[];
    n bigint;
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
    IF entry IS NULL THEN
        PERFORM pg_advisory_xact_lock(1346851843, ((id << 32) >> 32)::integer);
        entry := nextval('pgtrickle.pgt_outbox_offset_seq');
    END IF;
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
                   ('[' || string_agg(jsonb_build_object('row_index', row_index, 'op', op, 'key', key,
                                                         'before', before, 'after', after)::text, ','
                                      ORDER BY row_index) FILTER (WHERE NOT $6) || ']')::jsonb
              FROM r)
        INSERT INTO pgtrickle.pgt_outbox_changes (outbox_offset, row_index, op, key, before, after)
        SELECT $1, row_index, op, key, before, after FROM r WHERE $6$q$,
        pgtrickle._outbox_key_sql(key_columns, 'd.row_id', 'coalesce(d.after, d.before)'))
        USING entry, id, quote_ident(st.pgt_schema) || '.' || quote_ident(st.pgt_name), refresh_id, full_refresh,
              n > threshold;
    DROP TABLE pg_temp.__pgt_outbox_delta;
    RETURN entry;
END $$;

-- An entry's side rows go with it by a statement trigger rather than a foreign key: the foreign
-- key checked every inserted change with a query of its own (about 6 ms of a refresh's 1,000
-- changes), where one set-based DELETE per deleting statement does the cascade.
DO $$
DECLARE
    fk name;
BEGIN
    SELECT conname INTO fk FROM pg_constraint
     WHERE conrelid = 'pgtrickle.pgt_outbox_changes'::regclass AND contype = 'f';
    IF fk IS NOT NULL THEN
        EXECUTE format('ALTER TABLE pgtrickle.pgt_outbox_changes DROP CONSTRAINT %I', fk);
    END IF;
END $$;

CREATE FUNCTION pgtrickle._outbox_entries_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pgtrickle.pgt_outbox_changes c USING gone g WHERE c.outbox_offset = g.outbox_offset;
    RETURN NULL;
END $$;

CREATE TRIGGER pgt_outbox_changes_follow_entries AFTER DELETE ON pgtrickle.pgt_outbox
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION pgtrickle._outbox_entries_deleted();

-- V15's, with the image an inline change does not have (before of an insert, after of a delete)
-- as SQL NULL, as the side table has it, rather than a JSON null.
CREATE OR REPLACE FUNCTION pgtrickle.outbox_changes(outbox_offset bigint, after_row_index integer DEFAULT -1,
                                                    page_size integer DEFAULT 1000)
RETURNS TABLE (row_index integer, op text, key jsonb, before jsonb, after jsonb)
LANGUAGE sql STABLE AS $$
    SELECT (e ->> 'row_index')::integer, e ->> 'op', e -> 'key', nullif(e -> 'before', 'null'::jsonb),
           nullif(e -> 'after', 'null'::jsonb)
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
