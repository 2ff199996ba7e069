-- Schema changes under IMMEDIATE stream tables, in the DDL's own transaction (event triggers need
-- a superuser; without one, these changes need an alter_stream_table to re-install the triggers).
--
-- A statement fires only the statement triggers of the table it names, so every member of a
-- source's partition or inheritance tree carries the source's IMMEDIATE triggers. After CREATE
-- TABLE … PARTITION OF, ATTACH / DETACH PARTITION, INHERIT / NO INHERIT the members are made to
-- match the tree again, and the stream table is recomputed when rows came in or left with a
-- member (no row trigger saw them). A dropped member's rows left too: recomputed at sql_drop.

-- The triggers of function fn on table src, re-created on table dst (same names, events, function).
CREATE FUNCTION pgtrickle._immediate_copy_triggers(fn oid, src oid, dst oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    -- pg_get_triggerdef and regclass print the table's name alike (qualified: the caller's search_path is pg_catalog)
    FOR t IN SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = src AND tgfoid = fn LOOP
        EXECUTE replace(t.def, ' ON ' || src::regclass::text || ' ', ' ON ' || dst::regclass::text || ' ');
    END LOOP;
END $$;

-- Whether relation r holds a row (a dropped one: unknown, so yes).
CREATE FUNCTION pgtrickle._has_rows(r oid) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    found boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = r) THEN
        RETURN true;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM ONLY ' || r::regclass::text || ')' INTO found;
    RETURN found;
END $$;

CREATE FUNCTION pgtrickle._immediate_recompute(id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'pg_trickle recomputes IMMEDIATE stream table % (rows came in or left with a partition or child)',
        (SELECT pgt_schema || '.' || pgt_name FROM pgtrickle.pgt_stream_tables WHERE pgt_id = id);
    EXECUTE format('SELECT pgtrickle.%I()', '_imm_' || id || '_recompute');
END $$;

CREATE FUNCTION pgtrickle._immediate_members_sync() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    f record;
    m oid;
    recompute bigint[] := '{}';
BEGIN
    -- one function per (stream table, source): _imm_<id>_<source>; _a: the one on a partition source's ancestors
    FOR f IN SELECT p.oid AS fn, (regexp_match(p.proname, '^_imm_(\d+)_(\d+)(_a)?$')) AS part
               FROM pg_proc p
              WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.proname ~ '^_imm_\d+_\d+(_a)?$' LOOP
        IF f.part[3] IS NOT NULL THEN
            -- ancestors the partition source no longer has: their triggers would apply rows not in it
            FOR m IN SELECT DISTINCT t.tgrelid FROM pg_trigger t WHERE t.tgfoid = f.fn
                      AND t.tgrelid NOT IN (SELECT a.relid FROM pg_partition_ancestors(f.part[2]::oid) a) LOOP
                PERFORM pgtrickle._immediate_drop_triggers(f.fn, m);
            END LOOP;
            CONTINUE;
        END IF;
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = f.part[2]::oid); -- the source itself was dropped
        -- members gained: the source's triggers, and a recompute when they brought rows
        FOR m IN SELECT w.member FROM pgtrickle._tree_of(f.part[2]::oid) w JOIN pg_class c ON c.oid = w.member
                  WHERE c.relkind IN ('r', 'p', 'f')
                    AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = w.member AND t.tgfoid = f.fn) LOOP
            PERFORM pgtrickle._immediate_copy_triggers(f.fn, f.part[2]::oid, m);
            IF pgtrickle._has_rows(m) THEN
                recompute := recompute || f.part[1]::bigint;
            END IF;
        END LOOP;
        -- members lost (detached, no longer inheriting): their triggers go, a recompute when rows left
        FOR m IN SELECT DISTINCT t.tgrelid FROM pg_trigger t WHERE t.tgfoid = f.fn
                  AND t.tgrelid NOT IN (SELECT w.member FROM pgtrickle._tree_of(f.part[2]::oid) w) LOOP
            PERFORM pgtrickle._immediate_drop_triggers(f.fn, m);
            IF pgtrickle._has_rows(m) THEN
                recompute := recompute || f.part[1]::bigint;
            END IF;
        END LOOP;
    END LOOP;
    PERFORM pgtrickle._immediate_recompute(id) FROM (SELECT DISTINCT unnest(recompute) AS id) r ORDER BY id;
END $$;

CREATE FUNCTION pgtrickle._immediate_drop_triggers(fn oid, r oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = r AND tgfoid = fn LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, r::regclass::text);
    END LOOP;
END $$;

-- Refuses a rename, drop or type change of a column an IMMEDIATE trigger reads, and a rename of a source: the
-- triggers name them, so every later write of the source would fail until the stream table is
-- re-planned. Runs before pgtrickle_ddl_end (name order), which records the new columns.
CREATE FUNCTION pgtrickle._immediate_check_ddl() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT DISTINCT s.pgt_schema || '.' || s.pgt_name AS st, cs.source_schema || '.' || cs.source_name AS source,
                    lost.name AS col
               FROM pg_event_trigger_ddl_commands() d
               JOIN pgtrickle.pgt_change_sources cs ON cs.source_relid = d.objid
               JOIN pg_proc p ON p.pronamespace = 'pgtrickle'::regnamespace
                             AND p.proname ~ ('^_imm_\d+_' || d.objid || '(_a)?$')
               JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = (regexp_match(p.proname, '^_imm_(\d+)_'))[1]::bigint
               CROSS JOIN LATERAL (
                   SELECT o ->> 'name' AS name FROM jsonb_array_elements(cs.columns) o
                    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = d.objid AND a.attnum > 0
                                         AND NOT a.attisdropped AND a.attname::text = (o ->> 'name')
                                         AND format_type(a.atttypid, a.atttypmod) = (o ->> 'type'))
                   UNION ALL
                   SELECT NULL WHERE EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                              WHERE c.oid = d.objid AND (n.nspname::text <> cs.source_schema::text
                                                                         OR c.relname::text <> cs.source_name::text))) lost
              WHERE d.classid = 'pg_class'::regclass AND d.command_tag = 'ALTER TABLE'
                AND (lost.name IS NULL OR position('"' || replace(lost.name, '"', '""') || '"' IN p.prosrc) > 0)
    LOOP
        IF r.col IS NULL THEN
            RAISE EXCEPTION 'cannot rename table %: IMMEDIATE stream table % reads it by name', r.source, r.st
                USING ERRCODE = '0A000',
                      HINT = format('alter %s to refresh_mode => ''DIFFERENTIAL'' first (and back after), or drop it', r.st);
        END IF;
        RAISE EXCEPTION 'cannot rename, drop or retype column % of %: IMMEDIATE stream table % reads it', r.col, r.source, r.st
            USING ERRCODE = '0A000',
                  HINT = format('alter %s to refresh_mode => ''DIFFERENTIAL'' first (it then reports the change), or drop it', r.st);
    END LOOP;
END $$;

CREATE FUNCTION pgtrickle._on_immediate_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Kept cheap for the common cases: temporary tables (every IMMEDIATE trigger run creates some)
    -- and databases without IMMEDIATE stream tables.
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() d WHERE d.schema_name NOT LIKE 'pg\_temp%')
       OR NOT EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = 'pgtrickle'::regnamespace AND proname LIKE '\_imm\_%') THEN
        RETURN;
    END IF;
    IF TG_TAG = 'ALTER TABLE' THEN
        PERFORM pgtrickle._immediate_check_ddl();
    END IF;
    PERFORM pgtrickle._immediate_members_sync();
END $$;

-- A dropped member's triggers are gone with it; its rows left the source unseen.
CREATE FUNCTION pgtrickle._on_immediate_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    id bigint;
BEGIN
    FOR id IN SELECT DISTINCT (regexp_match(d.object_identity, '^"?__pgt_imm_\d+_(\d+)_'))[1]::bigint
                FROM pg_event_trigger_dropped_objects() d
               WHERE d.object_type = 'trigger' AND d.object_identity ~ '^"?__pgt_imm_\d+_\d+_' LOOP
        -- not when a source itself went (the engine reports that), nor the stream table
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() d
                               WHERE d.object_type = 'table' AND d.objsubid = 0
                                 AND (EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'pgtrickle'::regnamespace
                                                 AND p.proname = '_imm_' || id || '_' || d.objid)
                                      OR d.objid = (SELECT pgt_relid FROM pgtrickle.pgt_stream_tables WHERE pgt_id = id)));
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'pgtrickle'::regnamespace
                                     AND p.proname = '_imm_' || id || '_recompute');
        PERFORM pgtrickle._immediate_recompute(id);
    END LOOP;
END $$;

DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        -- "check" sorts before "ddl_end": the recorded columns are still those before the statement
        CREATE EVENT TRIGGER pgtrickle_check_immediate_ddl ON ddl_command_end
            WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
            EXECUTE FUNCTION pgtrickle._on_immediate_ddl();
        CREATE EVENT TRIGGER pgtrickle_immediate_drop ON sql_drop
            WHEN TAG IN ('DROP TABLE')
            EXECUTE FUNCTION pgtrickle._on_immediate_drop();
    END IF;
END $$;
