-- JSON null and SQL NULL stay apart through capture. A row image is a jsonb object, and
-- jsonb_populate_record reads {"col": null} as SQL NULL, also for a json or jsonb column whose value
-- is the JSON value null. A trigger image (as a WAL image, RowImages) of a row holding JSON null in
-- json-typed columns (json, jsonb, domains over them) therefore lists those columns under the key ''
-- (the empty string, which no column can have as its name): {"j": null, "": ["j"]}. The decoder
-- (RowDecoder) reads a listed column as 'null'. Rows without JSON nulls are written exactly as
-- before, and rows buffered before this migration, which have no such key, decode as before.
--
-- Arrays of json or jsonb are written in their text form ({"null",NULL}): as JSON arrays a NULL
-- element and a null element would both be null. The array type's input function reads the text
-- back exactly, as it already did for arrays of user-defined types; arrays buffered before as JSON
-- arrays still decode as they did.
--
-- The whole-row image is to_jsonb(alias.*): to_jsonb(n) over the transition table "n" took a
-- source column named n for the row, and wrote that column's value instead of the row's object.
CREATE OR REPLACE FUNCTION pgtrickle._row_image(source oid, alias text, project boolean) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE cols(attnum, attname, user_type, base) AS (
        SELECT a.attnum, a.attname, t.typnamespace <> 'pg_catalog'::regnamespace, t.oid
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        -- a domain's base type, through domains over domains, decides whether it is JSON
        SELECT c.attnum, c.attname, c.user_type, b.typbasetype
          FROM cols c JOIN pg_type b ON b.oid = c.base WHERE b.typtype = 'd'),
    typed AS (
        SELECT c.attnum, c.attname,
               (c.user_type AND c.base NOT IN ('json'::regtype, 'jsonb'::regtype))
                 OR c.base IN ('json[]'::regtype, 'jsonb[]'::regtype) AS as_text,
               CASE c.base WHEN 'json'::regtype THEN 'json' WHEN 'jsonb'::regtype THEN 'jsonb' END AS json
          FROM cols c JOIN pg_type t ON t.oid = c.base WHERE t.typtype <> 'd'),
    pairs AS (
        SELECT attnum, quote_literal(attname) || ', ' || alias || '.' || quote_ident(attname)
                   || CASE WHEN as_text THEN '::text' ELSE '' END AS pair,
               -- jsonb_build_object takes at most 100 arguments: 50 pairs per call
               (row_number() OVER (ORDER BY attnum) - 1) / 50 AS chunk
          FROM typed WHERE project OR as_text),
    calls AS (
        SELECT chunk, 'jsonb_build_object(' || string_agg(pair, ', ' ORDER BY attnum) || ')' AS call
          FROM pairs GROUP BY chunk),
    image(expr) AS (
        SELECT CASE WHEN project
                    THEN coalesce((SELECT string_agg(call, ' || ' ORDER BY chunk) FROM calls), '''{}''::jsonb')
                    -- alias.*, not alias: a column of that name ("n", "o") would be taken for the row
                    ELSE 'to_jsonb(' || alias || '.*)'
                         || coalesce((SELECT string_agg(' || ' || call, '' ORDER BY chunk) FROM calls), '') END),
    -- json_typeof reads only the first token of a json value, jsonb_typeof only a jsonb header
    tests AS (
        SELECT attnum, attname, json || '_typeof(' || alias || '.' || quote_ident(attname) || '::' || json
                   || ') = ''null''' AS test
          FROM typed WHERE json IS NOT NULL),
    nulls(any_null, names) AS (
        SELECT string_agg(test, ' OR ' ORDER BY attnum),
               'to_jsonb(array_remove(ARRAY['
                   || string_agg('CASE WHEN ' || test || ' THEN ' || quote_literal(attname) || ' END', ', ' ORDER BY attnum)
                   || '], NULL))'
          FROM tests)
    -- the common row, without JSON nulls, is written by the unchanged expression
    SELECT CASE WHEN n.any_null IS NULL THEN i.expr
                ELSE 'CASE WHEN ' || n.any_null || ' THEN ' || i.expr || ' || jsonb_build_object('''', ' || n.names
                     || ') ELSE ' || i.expr || ' END' END
      FROM image i, nulls n
$$;

-- Capture triggers already installed get the new image (their bodies embed _row_image's output);
-- the engine's own pass at start does the same.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_change_sources WHERE cdc_mode = 'TRIGGER') THEN
        PERFORM pgtrickle._reconcile_capture();
    END IF;
END $$;
