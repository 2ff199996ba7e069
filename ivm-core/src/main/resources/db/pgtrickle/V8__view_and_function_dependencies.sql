-- Views as sources and redefined functions. The views a stream table reads (and the views under
-- them) are in pgt_dependencies with kind VIEW; the user-defined functions its query calls (directly,
-- through an operator, or inside one of those views) are here. Event triggers record redefinitions
-- and drops of either in pgt_source_events, and the engine re-plans and refills the readers.

CREATE TABLE pgtrickle.pgt_function_dependencies (
    pgt_id          bigint  NOT NULL REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    function_oid    oid     NOT NULL,
    signature       text    NOT NULL,               -- regprocedure text when recorded, e.g. public.f(integer)
    PRIMARY KEY (pgt_id, function_oid)
);
CREATE INDEX ON pgtrickle.pgt_function_dependencies (function_oid);

-- CREATE OR REPLACE VIEW, ALTER VIEW (RENAME, RENAME COLUMN, SET options; also spelled ALTER TABLE),
-- CREATE OR REPLACE FUNCTION and ALTER FUNCTION of something a stream table depends on.
CREATE FUNCTION pgtrickle._on_definition_change() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    known text;
BEGIN
    FOR r IN SELECT DISTINCT c.classid, c.objid, c.command_tag, c.object_identity
               FROM pg_event_trigger_ddl_commands() c
              WHERE c.classid IN ('pg_class'::regclass, 'pg_proc'::regclass) LOOP
        IF r.classid = 'pg_class'::regclass THEN
            SELECT quote_ident(d.source_schema) || '.' || quote_ident(d.source_name) INTO known
              FROM pgtrickle.pgt_dependencies d
             WHERE d.source_relid = r.objid AND d.source_kind = 'VIEW' LIMIT 1;
            CONTINUE WHEN known IS NULL;
            INSERT INTO pgtrickle.pgt_source_events (source_relid, source, command, detail)
            VALUES (r.objid, known, r.command_tag,
                    CASE WHEN r.command_tag = 'CREATE VIEW' THEN 'the view was redefined'
                         ELSE format('the view was altered; it is now %s (%s)',
                                     (SELECT quote_ident(n.nspname) || '.' || quote_ident(cl.relname)
                                        FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
                                       WHERE cl.oid = r.objid),
                                     (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                                        FROM pg_attribute WHERE attrelid = r.objid AND attnum > 0
                                         AND NOT attisdropped)) END);
        ELSE
            SELECT f.signature INTO known
              FROM pgtrickle.pgt_function_dependencies f WHERE f.function_oid = r.objid LIMIT 1;
            CONTINUE WHEN known IS NULL;
            INSERT INTO pgtrickle.pgt_source_events (source_relid, source, command, detail)
            VALUES (r.objid, known, r.command_tag,
                    CASE WHEN r.command_tag = 'CREATE FUNCTION' THEN 'the function was redefined'
                         ELSE 'the function was altered; it is now ' || r.object_identity END);
        END IF;
        PERFORM pg_notify('pgtrickle_source_events', r.objid::text);
    END LOOP;
END $$;

-- DROP VIEW and DROP FUNCTION (with or without CASCADE) of something a stream table depends on.
CREATE FUNCTION pgtrickle._on_definition_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT DISTINCT d.objid, d.object_identity, 'DROP VIEW' AS command, 'the view was dropped' AS detail
               FROM pg_event_trigger_dropped_objects() d
               JOIN pgtrickle.pgt_dependencies dep ON dep.source_relid = d.objid AND dep.source_kind = 'VIEW'
              WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
             UNION
             SELECT DISTINCT d.objid, d.object_identity, 'DROP FUNCTION', 'the function was dropped'
               FROM pg_event_trigger_dropped_objects() d
               JOIN pgtrickle.pgt_function_dependencies f ON f.function_oid = d.objid
              WHERE d.classid = 'pg_proc'::regclass LOOP
        INSERT INTO pgtrickle.pgt_source_events (source_relid, source, command, detail)
        VALUES (r.objid, r.object_identity, r.command, r.detail);
        PERFORM pg_notify('pgtrickle_source_events', r.objid::text);
    END LOOP;
END $$;

-- Event triggers need a superuser; without one, such changes surface at the next refresh instead
-- (a dropped view or function fails it; a redefinition is picked up only by a FULL refresh).
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        CREATE EVENT TRIGGER pgtrickle_definition_end ON ddl_command_end
            WHEN TAG IN ('CREATE VIEW', 'ALTER VIEW', 'ALTER TABLE', 'CREATE FUNCTION', 'ALTER FUNCTION')
            EXECUTE FUNCTION pgtrickle._on_definition_change();
        CREATE EVENT TRIGGER pgtrickle_definition_drop ON sql_drop
            EXECUTE FUNCTION pgtrickle._on_definition_drop();
    END IF;
END $$;
