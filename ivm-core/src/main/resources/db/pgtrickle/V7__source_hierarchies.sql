-- Partitioned and inherited tables as sources. A query over a table reads its partitions or
-- inheritance children too, so capturing a source means capturing every member of its tree:
-- REPLICA IDENTITY FULL on each (WAL: else PostgreSQL refuses the user's UPDATE and DELETE of a
-- published member), publication membership (partitions are published through a partitioned
-- ancestor; inheritance children must be added one by one), or capture triggers on each member
-- (TRIGGER: a statement fires only the statement triggers of the table it names).
--
-- _reconcile_capture() brings all of that in line with the catalog. It runs when tracking starts
-- or stops, at engine start, and — through an event trigger — inside the transaction of every
-- CREATE/ALTER/DROP TABLE, so that a partition created or attached later is captured from its
-- first statement on. When the members of a source change (ATTACH, DETACH, INHERIT, NO INHERIT,
-- a member dropped or created), rows changed without DML: a weight-0 marker in the source's buffer,
-- in the DDL's own transaction, makes the next refresh of every reader a full one, exactly as a
-- TRUNCATE does.

-- The members of each tracked source when last reconciled (sorted oids; NULL before the first time).
ALTER TABLE pgtrickle.pgt_change_sources ADD COLUMN members oid[];

-- A relation and everything a query over it reads: its partitions and inheritance children, recursively.
CREATE FUNCTION pgtrickle._tree_of(root oid) RETURNS TABLE (member oid)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE t(member) AS (
        SELECT root
        UNION  -- not ALL: under multiple inheritance a child is reached twice
        SELECT i.inhrelid FROM t JOIN pg_inherits i ON i.inhparent = t.member)
    SELECT t.member FROM t JOIN pg_class c ON c.oid = t.member
$$;

-- Whether member has a column the source does not (an inheritance child's own columns): its rows
-- are then cut down to the source's columns before they reach the source's buffer.
CREATE FUNCTION pgtrickle._has_extra_columns(member oid, source oid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = member AND a.attnum > 0 AND NOT a.attisdropped
                      AND NOT EXISTS (SELECT 1 FROM pg_attribute b
                                       WHERE b.attrelid = source AND b.attname = a.attname
                                         AND b.attnum > 0 AND NOT b.attisdropped))
$$;

-- The row image a capture trigger writes for the row alias: to_jsonb(alias), except that columns
-- of user-defined types (domains over anything but json/jsonb, enums, composites, extension types,
-- arrays of them) are written in their text form. jsonb_populate_record feeds a JSON string to the
-- column type's input function, so the text form always reads back exactly (and WAL capture writes
-- these types as text too), while to_jsonb uses a type's own cast to jsonb where there is one
-- (hstore's gives an object, which hstore's input cannot read). project: only the source's columns
-- (for a member with columns of its own). Regenerated with the trigger body by _reconcile_capture,
-- so a column added or retyped later is covered.
CREATE FUNCTION pgtrickle._row_image(source oid, alias text, project boolean) RETURNS text
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
               c.user_type AND c.base NOT IN ('json'::regtype, 'jsonb'::regtype) AS as_text
          FROM cols c JOIN pg_type t ON t.oid = c.base WHERE t.typtype <> 'd'),
    pairs AS (
        SELECT attnum, quote_literal(attname) || ', ' || alias || '.' || quote_ident(attname)
                   || CASE WHEN as_text THEN '::text' ELSE '' END AS pair,
               -- jsonb_build_object takes at most 100 arguments: 50 pairs per call
               (row_number() OVER (ORDER BY attnum) - 1) / 50 AS chunk
          FROM typed WHERE project OR as_text),
    calls AS (
        SELECT chunk, 'jsonb_build_object(' || string_agg(pair, ', ' ORDER BY attnum) || ')' AS call
          FROM pairs GROUP BY chunk)
    SELECT CASE WHEN project
                THEN coalesce((SELECT string_agg(call, ' || ' ORDER BY chunk) FROM calls), '''{}''::jsonb')
                ELSE 'to_jsonb(' || alias || ')'
                     || coalesce((SELECT string_agg(' || ' || call, '' ORDER BY chunk) FROM calls), '') END
$$;

-- The body of a source's capture trigger function. The trigger's argument says how it is attached:
--   all      on a member of the source's tree: every row of the statement belongs to the source;
--   project  the same, on a member with extra columns: the rows keep the source's columns;
--   filter   on a partitioned ancestor of a partition source: only rows within the partition's bounds.
-- Row-level triggers (an inheritance child as the source: a statement on its parent fires only the
-- parent's statement triggers, and inherited rows carry no trace of their table) use all/project.
CREATE FUNCTION pgtrickle._capture_body(source oid) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    buffer   text := 'pgtrickle_changes.' || quote_ident('changes_' || source);
    ins      text;
    bounds   text := CASE WHEN (SELECT relispartition FROM pg_class WHERE oid = source)
                          THEN pg_get_partition_constraintdef(source) END;
BEGIN
    ins := 'INSERT INTO ' || buffer || ' (xid, seq, weight, row) SELECT pg_current_xact_id(),'
           || ' nextval(''pgtrickle_changes.trigger_seq''), ';
    RETURN E'\nBEGIN\n'
        || E'  IF TG_LEVEL = ''ROW'' THEN\n'
        || E'    IF TG_OP IN (''UPDATE'', ''DELETE'') THEN\n'
        || E'      ' || ins || '-1, CASE WHEN TG_ARGV[0] = ''project'' THEN '
        ||              pgtrickle._row_image(source, 'OLD', true) || ' ELSE ' || pgtrickle._row_image(source, 'OLD', false)
        ||              E' END;\n'
        || E'    END IF;\n'
        || E'    IF TG_OP IN (''INSERT'', ''UPDATE'') THEN\n'
        || E'      ' || ins || '1, CASE WHEN TG_ARGV[0] = ''project'' THEN '
        ||              pgtrickle._row_image(source, 'NEW', true) || ' ELSE ' || pgtrickle._row_image(source, 'NEW', false)
        ||              E' END;\n'
        || E'    END IF;\n'
        || E'    RETURN NULL;\n'
        || E'  END IF;\n'
        || E'  IF TG_OP = ''TRUNCATE'' THEN\n'
        || E'    ' || ins || E'0, NULL;\n'
        || E'  ELSIF TG_ARGV[0] = ''project'' THEN\n'
        || E'    IF TG_OP IN (''UPDATE'', ''DELETE'') THEN\n'
        || E'      ' || ins || '-1, ' || pgtrickle._row_image(source, 'o', true) || E' FROM pgt_old o;\n'
        || E'    END IF;\n'
        || E'    IF TG_OP IN (''INSERT'', ''UPDATE'') THEN\n'
        || E'      ' || ins || '1, ' || pgtrickle._row_image(source, 'n', true) || E' FROM pgt_new n;\n'
        || E'    END IF;\n'
        || CASE WHEN bounds IS NULL THEN '' ELSE
           E'  ELSIF TG_ARGV[0] = ''filter'' THEN\n'
        || E'    IF TG_OP IN (''UPDATE'', ''DELETE'') THEN\n'
        || E'      ' || ins || '-1, ' || pgtrickle._row_image(source, 'o', false) || ' FROM pgt_old o WHERE ' || bounds || E';\n'
        || E'    END IF;\n'
        || E'    IF TG_OP IN (''INSERT'', ''UPDATE'') THEN\n'
        || E'      ' || ins || '1, ' || pgtrickle._row_image(source, 'n', false) || ' FROM pgt_new n WHERE ' || bounds || E';\n'
        || E'    END IF;\n' END
        || E'  ELSE\n'
        || E'    IF TG_OP IN (''UPDATE'', ''DELETE'') THEN\n'
        || E'      ' || ins || '-1, ' || pgtrickle._row_image(source, 'o', false) || E' FROM pgt_old o;\n'
        || E'    END IF;\n'
        || E'    IF TG_OP IN (''INSERT'', ''UPDATE'') THEN\n'
        || E'      ' || ins || '1, ' || pgtrickle._row_image(source, 'n', false) || E' FROM pgt_new n;\n'
        || E'    END IF;\n'
        || E'  END IF;\n'
        || E'  RETURN NULL;\n'
        || 'END ';
END $$;

-- The capture triggers each TRIGGER-mode source needs: (table, name, tgtype, argument).
-- tgtype bits: 1 row level, 4 insert, 8 delete, 16 update, 32 truncate (always AFTER).
CREATE FUNCTION pgtrickle._wanted_capture_triggers()
RETURNS TABLE (source oid, tgrelid oid, tgname name, tgtype int2, arg text)
LANGUAGE sql STABLE AS $$
    WITH s AS (
        SELECT cs.source_relid AS source, c.relispartition AS partition,
               -- an inheritance child: statements on its parents reach its rows unseen by its own statement triggers
               (NOT c.relispartition AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)) AS row_level
          FROM pgtrickle.pgt_change_sources cs JOIN pg_class c ON c.oid = cs.source_relid
         WHERE cs.cdc_mode = 'TRIGGER'),
    m AS (
        SELECT s.source, s.row_level, t.member, c.relkind,
               CASE WHEN t.member <> s.source AND pgtrickle._has_extra_columns(t.member, s.source)
                    THEN 'project' ELSE 'all' END AS arg
          FROM s, pgtrickle._tree_of(s.source) t JOIN pg_class c ON c.oid = t.member
         WHERE c.relkind IN ('r', 'p')),
    events(event, bit) AS (VALUES ('insert', 4), ('update', 16), ('delete', 8), ('truncate', 32)),
    attach AS (
        -- members of the tree: statement triggers, or row triggers (plus TRUNCATE) for an inheritance child
        SELECT m.source, m.member AS tgrelid, e.event,
               (e.bit + CASE WHEN m.row_level AND e.event <> 'truncate' THEN 1 ELSE 0 END) AS tgtype, m.arg
          FROM m, events e
         WHERE NOT (m.row_level AND m.relkind <> 'r' AND e.event <> 'truncate')
        UNION ALL
        -- partitioned ancestors of a partition source: statements naming them, filtered by the bounds
        SELECT s.source, a.relid, e.event, e.bit, 'filter'
          FROM s, pg_partition_ancestors(s.source) a, events e
         WHERE s.partition AND a.relid <> s.source AND e.event <> 'truncate')
    SELECT source, tgrelid,
           ('pgtrickle_capture_' || event || CASE WHEN tgrelid = source THEN '' ELSE '_' || source END)::name,
           tgtype::int2, arg
      FROM attach
$$;

-- Brings capture of every tracked source in line with its tree (see the head of this file).
-- Idempotent, and cheap when nothing changed.
CREATE FUNCTION pgtrickle._reconcile_capture() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s       record;
    r       record;
    current oid[];
BEGIN
    -- The statements below fire the event trigger again: one pass at a time.
    IF current_setting('pgtrickle.reconciling', true) = 'on' THEN
        RETURN;
    END IF;
    PERFORM set_config('pgtrickle.reconciling', 'on', true);
    -- One pass at a time across sessions too: two would create the same triggers.
    PERFORM pg_advisory_xact_lock(1346851842, 7);

    FOR s IN SELECT cs.* FROM pgtrickle.pgt_change_sources cs JOIN pg_class c ON c.oid = cs.source_relid LOOP
        current := ARRAY(SELECT t.member FROM pgtrickle._tree_of(s.source_relid) t ORDER BY 1);
        IF s.members IS DISTINCT FROM current THEN
            IF s.members IS NOT NULL THEN
                -- Rows joined or left the source without DML: its readers refill at their next refresh.
                -- A negative seq never meets one of WAL capture's (2 * position in the transaction).
                EXECUTE format('INSERT INTO pgtrickle_changes.%I (xid, seq, weight, row)'
                               ' VALUES (pg_current_xact_id(), -nextval(''pgtrickle_changes.trigger_seq''), 0, NULL)',
                               s.buffer_table);
            END IF;
            UPDATE pgtrickle.pgt_change_sources SET members = current WHERE source_relid = s.source_relid;
        END IF;

        IF s.cdc_mode = 'WAL' THEN
            -- Every published member needs the whole old row logged (and PostgreSQL refuses UPDATE
            -- and DELETE of a published table without a replica identity).
            FOR r IN SELECT c.oid FROM pgtrickle._tree_of(s.source_relid) t JOIN pg_class c ON c.oid = t.member
                      WHERE c.relkind IN ('r', 'p') AND c.relreplident <> 'f' LOOP
                EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', r.oid::regclass);
            END LOOP;
            -- The source, and each inheritance child (partitions are published through their ancestor).
            FOR r IN SELECT c.oid FROM pgtrickle._tree_of(s.source_relid) t JOIN pg_class c ON c.oid = t.member
                      WHERE c.relkind IN ('r', 'p') AND (c.oid = s.source_relid OR NOT c.relispartition)
                        AND NOT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
                                         WHERE p.pubname = 'pgtrickle_pub' AND pr.prrelid = c.oid) LOOP
                EXECUTE format('ALTER PUBLICATION pgtrickle_pub ADD TABLE ONLY %s', r.oid::regclass);
            END LOOP;
        ELSE
            DECLARE
                fn   text := 'pgtrickle_changes.' || quote_ident('capture_' || s.source_relid);
                body text := pgtrickle._capture_body(s.source_relid);
            BEGIN
                IF body IS DISTINCT FROM (SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure(fn || '()')) THEN
                    EXECUTE format('CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER'
                                   ' SET search_path = pg_catalog, pg_temp AS %L', fn, body);
                END IF;
            END;
        END IF;
    END LOOP;

    -- Capture triggers: drop those not wanted (or not as wanted), create the missing ones.
    FOR r IN WITH w AS MATERIALIZED (SELECT * FROM pgtrickle._wanted_capture_triggers())
             SELECT t.tgname, t.tgrelid FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
               JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'pgtrickle_changes' AND t.tgname LIKE 'pgtrickle\_capture\_%' AND NOT t.tgisinternal
                AND t.tgparentid = 0
                AND NOT EXISTS (SELECT 1 FROM w
                                 WHERE w.tgrelid = t.tgrelid AND w.tgname = t.tgname AND w.tgtype = t.tgtype
                                   AND p.proname = 'capture_' || w.source
                                   AND encode(t.tgargs, 'escape') = w.arg || '\000') LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.tgrelid::regclass);
    END LOOP;
    FOR r IN SELECT w.* FROM pgtrickle._wanted_capture_triggers() w
              WHERE NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = w.tgrelid AND t.tgname = w.tgname) LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s %s FOR EACH %s EXECUTE FUNCTION pgtrickle_changes.%I(%L)',
                       r.tgname,
                       CASE WHEN r.tgtype & 4 <> 0 THEN 'INSERT' WHEN r.tgtype & 16 <> 0 THEN 'UPDATE'
                            WHEN r.tgtype & 8 <> 0 THEN 'DELETE' ELSE 'TRUNCATE' END,
                       r.tgrelid::regclass,
                       CASE WHEN r.tgtype & 1 <> 0 OR r.tgtype & 32 <> 0 THEN ''
                            WHEN r.tgtype & 4 <> 0 THEN 'REFERENCING NEW TABLE AS pgt_new'
                            WHEN r.tgtype & 16 <> 0 THEN 'REFERENCING OLD TABLE AS pgt_old NEW TABLE AS pgt_new'
                            ELSE 'REFERENCING OLD TABLE AS pgt_old' END,
                       CASE WHEN r.tgtype & 1 <> 0 THEN 'ROW' ELSE 'STATEMENT' END,
                       'capture_' || r.source, r.arg);
    END LOOP;

    PERFORM set_config('pgtrickle.reconciling', 'off', true);
END $$;

-- In the DDL's own transaction: a partition created or attached, a child added, is captured before
-- the user's next statement; SECURITY DEFINER, as the DDL's author may not own the buffers.
CREATE FUNCTION pgtrickle._on_table_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Never fail or block the user's statement: when another pass runs (the engine tracking a
    -- source) or this one fails, the members stay unrecorded, and the engine's next pass catches
    -- up, with a marker that refills the readers.
    IF coalesce(current_setting('pgtrickle.reconciling', true), '') <> 'on'
       -- only statements on tracked trees (a member, or a new table under one), or drops of members
       AND (EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() d, pgtrickle.pgt_change_sources s
                     WHERE d.classid = 'pg_class'::regclass
                       AND (d.objid = s.source_relid OR d.objid = ANY (s.members)
                            OR EXISTS (SELECT 1 FROM pg_inherits i
                                        WHERE i.inhrelid = d.objid AND i.inhparent = ANY (s.members))))
            OR (TG_TAG = 'DROP TABLE' AND EXISTS (SELECT 1 FROM pgtrickle.pgt_change_sources s, unnest(s.members) m
                                                   WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = m)))) THEN
        IF pg_try_advisory_xact_lock(1346851842, 7) THEN
            BEGIN
                PERFORM pgtrickle._reconcile_capture();
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'pg_trickle could not adjust change capture after this statement (%); the engine will', SQLERRM;
            END;
        ELSE
            RAISE NOTICE 'pg_trickle adjusts change capture after this statement on its next pass';
        END IF;
    END IF;
END $$;

-- Event triggers need a superuser; without one the engine reconciles on its housekeeping ticks
-- (a partition created meanwhile lacks its replica identity until then: create it with REPLICA IDENTITY FULL).
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        CREATE EVENT TRIGGER pgtrickle_table_ddl ON ddl_command_end
            WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'DROP TABLE')
            EXECUTE FUNCTION pgtrickle._on_table_ddl();
    END IF;
END $$;
