-- Change capture: tracked sources, their change buffers, and the functions to watch them.

-- One row per source relation whose changes are captured into a buffer.
CREATE TABLE pgtrickle.pgt_change_sources (
    source_relid    oid         PRIMARY KEY,
    source_schema   text        NOT NULL,
    source_name     text        NOT NULL,
    cdc_mode        text        NOT NULL CHECK (cdc_mode IN ('WAL', 'TRIGGER')),
    buffer_table    text        NOT NULL,           -- in schema pgtrickle_changes
    tracked_since   pg_snapshot NOT NULL,           -- every transaction not visible here is captured
    columns         jsonb       NOT NULL DEFAULT '[]',  -- [{attnum, name, type}] when tracking began or last changed
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Marker and metadata of the WAL stream: the engine's capture position lives here, not in files.
CREATE TABLE pgtrickle.pgt_capture_state (
    id              boolean     PRIMARY KEY DEFAULT true CHECK (id),
    slot_name       name,                           -- replication slots are per cluster: configurable
    last_event_lsn  pg_lsn,
    last_event_at   timestamptz,
    events_buffered bigint      NOT NULL DEFAULT 0
);
INSERT INTO pgtrickle.pgt_capture_state DEFAULT VALUES;

ALTER TABLE pgtrickle.pgt_refresh_history ADD COLUMN window_rows bigint;

-- Rows and bytes waiting in each change buffer.
CREATE FUNCTION pgtrickle.change_buffer_sizes()
RETURNS TABLE (source text, cdc_mode text, buffer_table text, pending_rows bigint, buffer_bytes bigint,
               oldest_change_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT * FROM pgtrickle.pgt_change_sources ORDER BY source_schema, source_name LOOP
        source := quote_ident(s.source_schema) || '.' || quote_ident(s.source_name);
        cdc_mode := s.cdc_mode;
        buffer_table := 'pgtrickle_changes.' || quote_ident(s.buffer_table);
        EXECUTE format('SELECT count(*), min(captured_at) FROM pgtrickle_changes.%I', s.buffer_table)
            INTO pending_rows, oldest_change_at;
        buffer_bytes := pg_total_relation_size(format('pgtrickle_changes.%I', s.buffer_table)::regclass);
        RETURN NEXT;
    END LOOP;
END $$;

-- Health of the engine's replication slot: WAL it keeps, and how far capture lags behind.
CREATE FUNCTION pgtrickle.slot_health()
RETURNS TABLE (slot_name name, active boolean, wal_status text, restart_lsn pg_lsn,
               confirmed_flush_lsn pg_lsn, retained_wal_bytes numeric, lag_bytes numeric,
               last_event_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT s.slot_name, s.active, s.wal_status, s.restart_lsn, s.confirmed_flush_lsn,
           pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn),
           pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn),
           (SELECT last_event_at FROM pgtrickle.pgt_capture_state)
      FROM pg_replication_slots s
     WHERE s.slot_name = (SELECT c.slot_name FROM pgtrickle.pgt_capture_state c) AND s.database = current_database()
$$;

-- Trigger capture numbers its rows from here (WAL capture uses positions within the transaction).
CREATE SEQUENCE pgtrickle_changes.trigger_seq;

-- Schema changes and drops of tracked sources, recorded by event triggers for the engine, which
-- re-validates the stream tables that read them.
CREATE TABLE pgtrickle.pgt_source_events (
    event_id        bigserial   PRIMARY KEY,
    source_relid    oid         NOT NULL,
    source          text        NOT NULL,
    command         text        NOT NULL,           -- ALTER TABLE, DROP TABLE, ...
    detail          text        NOT NULL,           -- what changed, e.g. column "v" renamed to "w"
    occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    handled         boolean     NOT NULL DEFAULT false
);

CREATE FUNCTION pgtrickle._columns_of(relid oid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('attnum', attnum, 'name', attname,
                                                 'type', format_type(atttypid, atttypmod)) ORDER BY attnum), '[]')
      FROM pg_attribute WHERE attrelid = relid AND attnum > 0 AND NOT attisdropped
$$;

-- Describes how the columns of a relation changed since "before" (as _columns_of gave them).
CREATE FUNCTION pgtrickle._column_changes(before jsonb, relid oid) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH o AS (SELECT (c ->> 'attnum')::int AS attnum, c ->> 'name' AS name, c ->> 'type' AS type
                 FROM jsonb_array_elements(before) c),
         n AS (SELECT (c ->> 'attnum')::int AS attnum, c ->> 'name' AS name, c ->> 'type' AS type
                 FROM jsonb_array_elements(pgtrickle._columns_of(relid)) c),
         changes AS (
            SELECT 1 AS k, o.attnum, format('column %I renamed to %I', o.name, n.name) AS what
              FROM o JOIN n USING (attnum) WHERE o.name <> n.name
            UNION ALL
            SELECT 2, o.attnum, format('column %I changed type from %s to %s', n.name, o.type, n.type)
              FROM o JOIN n USING (attnum) WHERE o.type <> n.type
            UNION ALL
            SELECT 3, o.attnum, format('column %I dropped', o.name)
              FROM o WHERE NOT EXISTS (SELECT 1 FROM n WHERE n.attnum = o.attnum)
            UNION ALL
            SELECT 4, n.attnum, format('column %I %s added', n.name, n.type)
              FROM n WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.attnum = n.attnum))
    SELECT coalesce(string_agg(what, ', ' ORDER BY k, attnum), 'no column changed')
      FROM changes
$$;

CREATE FUNCTION pgtrickle._on_ddl_end() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    s pgtrickle.pgt_change_sources;
BEGIN
    FOR r IN SELECT DISTINCT c.objid, c.command_tag FROM pg_event_trigger_ddl_commands() c
              WHERE c.classid = 'pg_class'::regclass LOOP
        SELECT * INTO s FROM pgtrickle.pgt_change_sources WHERE source_relid = r.objid;
        CONTINUE WHEN NOT FOUND;
        INSERT INTO pgtrickle.pgt_source_events (source_relid, source, command, detail)
        VALUES (r.objid, quote_ident(s.source_schema) || '.' || quote_ident(s.source_name), r.command_tag,
                pgtrickle._column_changes(s.columns, r.objid));
        UPDATE pgtrickle.pgt_change_sources
           SET columns = pgtrickle._columns_of(r.objid),
               source_schema = (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE c.oid = r.objid),
               source_name = (SELECT relname FROM pg_class WHERE oid = r.objid)
         WHERE source_relid = r.objid;
        PERFORM pg_notify('pgtrickle_source_events', r.objid::text);
    END LOOP;
END $$;

CREATE FUNCTION pgtrickle._on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT d.objid, d.object_identity FROM pg_event_trigger_dropped_objects() d
              JOIN pgtrickle.pgt_change_sources s ON s.source_relid = d.objid
             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 LOOP
        INSERT INTO pgtrickle.pgt_source_events (source_relid, source, command, detail)
        VALUES (r.objid, r.object_identity, 'DROP TABLE', 'the table was dropped');
        PERFORM pg_notify('pgtrickle_source_events', r.objid::text);
    END LOOP;
END $$;

-- Event triggers need a superuser; without one, schema changes surface as refresh errors instead.
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        CREATE EVENT TRIGGER pgtrickle_ddl_end ON ddl_command_end
            WHEN TAG IN ('ALTER TABLE')
            EXECUTE FUNCTION pgtrickle._on_ddl_end();
        CREATE EVENT TRIGGER pgtrickle_sql_drop ON sql_drop
            EXECUTE FUNCTION pgtrickle._on_sql_drop();
    END IF;
END $$;

-- pgt_status() gains cdc_mode: how the stream table's sources are captured (WAL, TRIGGER, MIXED,
-- or NONE when it reads nothing capturable).
DROP FUNCTION pgtrickle.pgt_status();
CREATE FUNCTION pgtrickle.pgt_status()
RETURNS TABLE (name text, status text, refresh_mode text, effective_mode text, schedule text,
               data_timestamp timestamptz, staleness interval, consecutive_errors integer,
               last_error text, mode_reason text, cdc_mode text)
LANGUAGE sql STABLE AS $$
    WITH latest_request AS (
        SELECT DISTINCT ON (r.pgt_name) r.*
          FROM pgtrickle.pgt_requests r
         ORDER BY r.pgt_name, r.request_id DESC
    ), st AS (
        SELECT s.*, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) AS canonical,
               (SELECT CASE WHEN count(DISTINCT c.cdc_mode) = 0 THEN 'NONE'
                            WHEN count(DISTINCT c.cdc_mode) = 1 THEN min(c.cdc_mode) ELSE 'MIXED' END
                  FROM pgtrickle.pgt_dependencies d
                  JOIN pgtrickle.pgt_change_sources c ON c.source_relid = d.source_relid
                 WHERE d.pgt_id = s.pgt_id) AS cdc
          FROM pgtrickle.pgt_stream_tables s
    )
    SELECT st.canonical, st.status, st.refresh_mode, st.effective_mode,
           coalesce(st.schedule, 'calculated'), st.data_timestamp,
           clock_timestamp() - st.data_timestamp, st.consecutive_errors,
           CASE WHEN lr.state = 'FAILED'
                 AND (st.last_error_at IS NULL OR lr.completed_at > st.last_error_at) THEN lr.error
                ELSE st.last_error END,
           st.mode_reason, st.cdc
      FROM st LEFT JOIN latest_request lr ON lr.pgt_name = st.canonical
    UNION ALL
    SELECT lr.pgt_name, 'FAILED', lr.args ->> 'refresh_mode', NULL, lr.args ->> 'schedule',
           NULL, NULL, NULL, lr.error, NULL, NULL
      FROM latest_request lr
     WHERE lr.state = 'FAILED' AND lr.kind IN ('CREATE', 'CREATE_OR_REPLACE')
       AND NOT EXISTS (SELECT 1 FROM st WHERE st.canonical = lr.pgt_name)
    ORDER BY 1
$$;

-- Whether an engine currently owns this database (holds its advisory lock).
CREATE FUNCTION pgtrickle.engine_running() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND classid = 1346851842 AND objid = 2 AND objsubid = 2
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
$$;
