-- Inboxes and stream-table publications (docs/inbox.md).
--
-- An inbox is a table keyed by event_id into which an external system delivers events (insert once:
-- a second insert of an event_id is a no-op), plus stream tables over it: <name>_pending, <name>_dlq,
-- <name>_stats and, with ordering, <name>_next and <name>_gaps. The SQL functions create the table at
-- once and register one INBOX request; the engine carries it out by bringing the inbox's stream
-- tables in line with its catalog row (creating, dropping, or dropping the whole inbox), which makes
-- the request idempotent: carried out twice (an engine died midway), it ends in the same place.

ALTER TABLE pgtrickle.pgt_requests DROP CONSTRAINT pgt_requests_kind_check;
ALTER TABLE pgtrickle.pgt_requests ADD CONSTRAINT pgt_requests_kind_check
    CHECK (kind IN ('CREATE', 'CREATE_OR_REPLACE', 'ALTER', 'DROP', 'REFRESH', 'EXPLAIN_ANALYZE', 'INBOX'));

-- Names are unique across schemas, so that every function can take the inbox's name alone.
CREATE TABLE pgtrickle.pgt_inboxes (
    inbox_name          text        PRIMARY KEY,
    inbox_schema        text        NOT NULL,
    max_retries         integer     NOT NULL CHECK (max_retries > 0),
    with_dead_letter    boolean     NOT NULL,
    with_stats          boolean     NOT NULL,
    retention_hours     integer     NOT NULL CHECK (retention_hours > 0),
    schedule            text        NOT NULL,       -- of its stream tables
    aggregate_id_col    text,                       -- ordering: both set, or both NULL
    sequence_col        text,
    state               text        NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'DROPPING')),
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    retention_run_at    timestamptz,                -- last pass of _apply_inbox_retention()
    rows_expired        bigint      NOT NULL DEFAULT 0,
    CHECK ((aggregate_id_col IS NULL) = (sequence_col IS NULL))
);

-- The stream tables the engine made for an inbox (a user's stream table of the same name is never
-- taken for one of them).
CREATE TABLE pgtrickle.pgt_inbox_stream_tables (
    inbox_name  text    NOT NULL REFERENCES pgtrickle.pgt_inboxes ON DELETE CASCADE,
    kind        text    NOT NULL CHECK (kind IN ('pending', 'dlq', 'stats', 'next', 'gaps')),
    pgt_id      bigint  NOT NULL UNIQUE REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    PRIMARY KEY (inbox_name, kind)
);

-- One identifier from user text, folded like parse_ident (unquoted: lower case).
CREATE FUNCTION pgtrickle._inbox_ident(value text, what text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    parts text[];
BEGIN
    IF value IS NULL OR btrim(value) = '' THEN
        RAISE EXCEPTION '% must not be empty', what USING ERRCODE = '22023';
    END IF;
    BEGIN
        parts := parse_ident(value);
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'invalid % "%": not an identifier', what, value USING ERRCODE = '42602',
            HINT = 'use letters, digits and underscores, or double-quote the name';
    END;
    IF array_length(parts, 1) <> 1 THEN
        RAISE EXCEPTION 'invalid % "%": give one name, without a schema', what, value USING ERRCODE = '42602',
            HINT = 'an inbox''s schema is the schema argument of create_inbox';
    END IF;
    RETURN parts[1];
END $$;

-- The catalog row of an inbox named 'name' or 'schema.name'.
CREATE FUNCTION pgtrickle._inbox(name text) RETURNS pgtrickle.pgt_inboxes
LANGUAGE plpgsql STABLE AS $$
DECLARE
    parts text[];
    i pgtrickle.pgt_inboxes;
BEGIN
    IF name IS NULL OR btrim(name) = '' THEN
        RAISE EXCEPTION 'inbox name must not be empty' USING ERRCODE = '22023';
    END IF;
    parts := parse_ident(name);
    SELECT * INTO i FROM pgtrickle.pgt_inboxes b
     WHERE b.inbox_name = parts[array_length(parts, 1)]
       AND (array_length(parts, 1) = 1 OR b.inbox_schema = parts[1]);
    IF NOT FOUND OR array_length(parts, 1) > 2 THEN
        RAISE EXCEPTION 'inbox % does not exist', name USING ERRCODE = '42704',
            HINT = 'create it with SELECT pgtrickle.create_inbox(' || quote_literal(name) || ')';
    END IF;
    RETURN i;
END $$;

CREATE FUNCTION pgtrickle._inbox_table(i pgtrickle.pgt_inboxes) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name)
$$;

-- The stream tables an inbox should have now, with their defining queries.
CREATE FUNCTION pgtrickle._inbox_stream_tables(name text)
RETURNS TABLE (kind text, stream_table text, query text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    i pgtrickle.pgt_inboxes := pgtrickle._inbox(name);
    t text := pgtrickle._inbox_table(i);
    pending text := format('processed_at IS NULL AND retry_count < %s', i.max_retries);
    dead text := format('processed_at IS NULL AND retry_count >= %s', i.max_retries);
    a text := quote_ident(i.aggregate_id_col);
    s text := quote_ident(i.sequence_col);
    -- The inbox's own columns, named: a column the user adds (a sequence number, say) does not
    -- change these stream tables.
    own text[] := ARRAY['event_id', 'event_type', 'source', 'aggregate_id', 'payload', 'headers', 'received_at',
                        'processed_at', 'retry_count', 'last_error'];
    cols text := array_to_string(own, ', ');
BEGIN
    kind := 'pending';
    query := format('SELECT %s FROM %s WHERE %s', cols, t, pending);
    stream_table := quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name || '_pending');
    RETURN NEXT;
    IF i.with_dead_letter THEN
        kind := 'dlq';
        query := format('SELECT %s FROM %s WHERE %s', cols, t, dead);
        stream_table := quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name || '_dlq');
        RETURN NEXT;
    END IF;
    IF i.with_stats THEN
        kind := 'stats';
        query := format($q$SELECT event_type, count(*) AS total,
       count(*) FILTER (WHERE %1$s) AS pending,
       count(*) FILTER (WHERE %1$s AND retry_count > 0) AS failed,
       count(*) FILTER (WHERE %2$s) AS dead_lettered,
       count(*) FILTER (WHERE processed_at IS NOT NULL) AS processed,
       min(received_at) FILTER (WHERE %1$s) AS oldest_pending_at,
       max(received_at) AS last_received_at,
       max(processed_at) AS last_processed_at
  FROM %3$s GROUP BY event_type$q$, pending, dead, t);
        stream_table := quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name || '_stats');
        RETURN NEXT;
    END IF;
    IF i.aggregate_id_col IS NOT NULL THEN
        -- Events without an aggregate or a sequence have no order to keep.
        kind := 'next';
        query := format('SELECT DISTINCT ON (%1$s) %5$s FROM %3$s WHERE %4$s AND %1$s IS NOT NULL AND %2$s IS NOT NULL'
                        ' ORDER BY %1$s, %2$s, event_id', a, s, t, pending,
                        cols || CASE WHEN i.aggregate_id_col = ANY (own) THEN '' ELSE ', ' || a END
                             || CASE WHEN i.sequence_col = ANY (own) THEN '' ELSE ', ' || s END);
        stream_table := quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name || '_next');
        RETURN NEXT;
        -- An aggregate with nothing processed yet has no gap: its first sequence number is unknown.
        kind := 'gaps';
        query := format($q$SELECT p.aggregate_id, p.next_sequence, d.last_processed_sequence
  FROM (SELECT %1$s AS aggregate_id, min(%2$s) AS next_sequence FROM %3$s
         WHERE %4$s AND %1$s IS NOT NULL GROUP BY %1$s) p
  JOIN (SELECT %1$s AS aggregate_id, max(%2$s) AS last_processed_sequence FROM %3$s
         WHERE processed_at IS NOT NULL AND %1$s IS NOT NULL GROUP BY %1$s) d ON d.aggregate_id = p.aggregate_id
 WHERE p.next_sequence <> d.last_processed_sequence + 1$q$, a, s, t, pending);
        stream_table := quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name || '_gaps');
        RETURN NEXT;
    END IF;
END $$;

-- Refuses a stream table name of an inbox that is taken by something that is not that inbox's.
CREATE FUNCTION pgtrickle._check_inbox_names_free(i pgtrickle.pgt_inboxes) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    w record;
BEGIN
    FOR w IN SELECT * FROM pgtrickle._inbox_stream_tables(quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name)) LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pgtrickle.pgt_inbox_stream_tables o
                               WHERE o.inbox_name = i.inbox_name AND o.kind = w.kind);
        IF pgtrickle._stream_table_id(w.stream_table) IS NOT NULL THEN
            RAISE EXCEPTION 'stream table % already exists; inbox % needs the name for its % stream table',
                w.stream_table, i.inbox_name, w.kind USING ERRCODE = '42P07',
                HINT = 'drop that stream table, or choose another inbox name';
        ELSIF to_regclass(w.stream_table) IS NOT NULL THEN
            RAISE EXCEPTION 'relation % already exists; inbox % needs the name for its % stream table',
                w.stream_table, i.inbox_name, w.kind USING ERRCODE = '42P07',
                HINT = 'drop or rename that relation, or choose another inbox name';
        END IF;
    END LOOP;
END $$;

-- Raises the error for a malformed event_id (NULL, empty or blank), naming the inbox and the column.
CREATE FUNCTION pgtrickle._inbox_refuse_event_id(schema_name text, table_name text, event_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'inbox %.%: event_id must not be %', quote_ident(schema_name), quote_ident(table_name),
            CASE WHEN event_id IS NULL THEN 'NULL' WHEN event_id = '' THEN 'empty' ELSE 'blank' END
        USING ERRCODE = CASE WHEN event_id IS NULL THEN '23502' ELSE '23514' END,
              COLUMN = 'event_id', TABLE = table_name, SCHEMA = schema_name,
              HINT = 'give every event a stable id: a message header, a field of its payload, or its source'
                     ' coordinates (topic/partition/offset), so a redelivery carries the same id';
END $$;

-- The body of an inbox's BEFORE INSERT trigger function <name>_dedup(): refuses a malformed
-- event_id and skips one the inbox already holds, so a redelivered event is a no-op (INSERT 0 0),
-- never an error and never a second row. One function per inbox, so that the lookup is static SQL
-- whose plan is cached (a shared function with EXECUTE made every insert three times slower);
-- SECURITY DEFINER, so a role that may only INSERT into the inbox can deliver.
--
-- Two transactions inserting the same new event_id at once are kept apart by the primary key
-- alone (neither sees the other's uncommitted row): with INSERT ... ON CONFLICT (event_id) DO
-- NOTHING the second one waits for the first and then inserts nothing; a plain INSERT fails with
-- unique_violation instead (docs/inbox.md). A lock per event_id would close that gap at the price
-- of one lock-table entry per new event, which a bulk delivery of a few thousand exhausts.
CREATE FUNCTION pgtrickle._inbox_dedup_body(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format($b$
BEGIN
    IF NEW.event_id IS NULL OR btrim(NEW.event_id) = '' THEN
        PERFORM pgtrickle._inbox_refuse_event_id(TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.event_id);
    END IF;
    IF EXISTS (SELECT 1 FROM %s WHERE event_id = NEW.event_id) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END$b$, t)
$$;

CREATE FUNCTION pgtrickle._inbox_dedup_function(i pgtrickle.pgt_inboxes) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT quote_ident(i.inbox_schema) || '.' || quote_ident(i.inbox_name || '_dedup')
$$;

-- The synchronous part of create_inbox: checks, the table and its catalog row. Returns the
-- inbox's qualified name.
CREATE FUNCTION pgtrickle._create_inbox_table(name text, schema text, max_retries integer, with_dead_letter boolean,
                                              with_stats boolean, retention_hours integer, schedule text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n text := pgtrickle._inbox_ident(name, 'inbox name');
    s text := pgtrickle._inbox_ident(schema, 'inbox schema');
    t text;
    fn text;
    existing pgtrickle.pgt_inboxes;
    i pgtrickle.pgt_inboxes;
BEGIN
    IF octet_length(n) > 55 THEN
        RAISE EXCEPTION 'inbox name "%" is too long: its stream table %_pending would exceed 63 bytes', n, n
            USING ERRCODE = '42622', HINT = 'use a name of at most 55 bytes';
    END IF;
    IF to_regnamespace(quote_ident(s)) IS NULL THEN
        RAISE EXCEPTION 'schema "%" of inbox % does not exist', s, n USING ERRCODE = '3F000',
            HINT = 'create it first (CREATE SCHEMA ' || quote_ident(s) || '), or pass another schema';
    END IF;
    IF s IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgtrickle_changes', 'pgtrickle_state') THEN
        RAISE EXCEPTION 'schema "%" is reserved and cannot hold inbox %', s, n USING ERRCODE = '42939',
            HINT = 'use the default schema pgtrickle, or a schema of your own';
    END IF;
    IF max_retries IS NULL OR max_retries <= 0 THEN
        RAISE EXCEPTION 'max_retries of inbox % must be a positive number, not %', n, coalesce(max_retries::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'an event is dead-lettered after this many failures; the default is 3';
    END IF;
    IF retention_hours IS NULL OR retention_hours <= 0 THEN
        RAISE EXCEPTION 'retention_hours of inbox % must be a positive number of hours, not %', n,
                coalesce(retention_hours::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'processed events older than this are deleted; the default is 72';
    END IF;
    IF with_dead_letter IS NULL OR with_stats IS NULL THEN
        RAISE EXCEPTION 'with_dead_letter and with_stats of inbox % must be true or false, not NULL', n
            USING ERRCODE = '22004';
    END IF;
    PERFORM pgtrickle._check_schedule(schedule);
    -- Checked here, not when the engine creates the stream tables, so no inbox is left half made.
    IF schedule IS NULL OR lower(btrim(schedule)) = 'calculated'
       OR (SELECT sum(m[1]::numeric * CASE m[2] WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'm' THEN 60000
                                                WHEN 'h' THEN 3600000 ELSE 86400000 END)
             FROM regexp_matches(btrim(schedule), '([0-9]+)(ms|s|m|h|d)', 'g') m) < 100 THEN
        RAISE EXCEPTION 'schedule of inbox % must be a duration of at least 100ms, not %', n,
                coalesce(quote_literal(schedule), 'NULL')
            USING ERRCODE = '22023', HINT = 'the default is 1s; nothing reads an inbox''s stream tables to calculate one from';
    END IF;
    SELECT * INTO existing FROM pgtrickle.pgt_inboxes b WHERE b.inbox_name = n;
    IF FOUND THEN
        IF existing.state = 'DROPPING' THEN
            RAISE EXCEPTION 'inbox % is being dropped', n USING ERRCODE = '55006',
                HINT = 'wait for its drop request to finish, then create it again';
        END IF;
        RAISE EXCEPTION 'inbox % already exists (table %)', n, pgtrickle._inbox_table(existing) USING ERRCODE = '42710',
            HINT = 'inbox_status(' || quote_literal(n) || ') shows it; drop_inbox first to change its settings';
    END IF;
    t := quote_ident(s) || '.' || quote_ident(n);
    IF pgtrickle._stream_table_id(t) IS NOT NULL THEN
        RAISE EXCEPTION 'stream table % already exists', t USING ERRCODE = '42P07',
            HINT = 'choose another inbox name';
    ELSIF to_regclass(t) IS NOT NULL THEN
        RAISE EXCEPTION 'relation % already exists', t USING ERRCODE = '42P07',
            HINT = 'choose another inbox name, or drop that relation first';
    END IF;
    INSERT INTO pgtrickle.pgt_inboxes (inbox_name, inbox_schema, max_retries, with_dead_letter, with_stats,
                                       retention_hours, schedule)
    VALUES (n, s, max_retries, with_dead_letter, with_stats, retention_hours, schedule)
    RETURNING * INTO i;
    PERFORM pgtrickle._check_inbox_names_free(i);
    fn := pgtrickle._inbox_dedup_function(i);
    IF to_regprocedure(fn || '()') IS NOT NULL THEN
        RAISE EXCEPTION 'function %() already exists; inbox % needs the name for its insert trigger', fn, n
            USING ERRCODE = '42723', HINT = 'drop or rename that function, or choose another inbox name';
    END IF;

    EXECUTE format($ddl$CREATE TABLE %s (
    event_id     text        PRIMARY KEY CHECK (btrim(event_id) <> ''),
    event_type   text,
    source       text,
    aggregate_id text,
    payload      jsonb,
    headers      jsonb       DEFAULT '{}',
    received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    processed_at timestamptz,
    retry_count  integer     NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    last_error   text)$ddl$, t);
    -- Retention deletes processed rows by age.
    EXECUTE format('CREATE INDEX ON %s (processed_at) WHERE processed_at IS NOT NULL', t);
    EXECUTE format('CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER'
                   ' SET search_path = pg_catalog, pg_temp AS %L', fn, pgtrickle._inbox_dedup_body(t));
    EXECUTE format('COMMENT ON FUNCTION %s() IS %L', fn, 'pg_trickle inbox ' || t || ': skips a repeated event_id');
    EXECUTE format('CREATE TRIGGER pgtrickle_inbox_dedup BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION %s()', t, fn);
    EXECUTE format('COMMENT ON TABLE %s IS %L', t, 'pg_trickle inbox: insert events (a repeated event_id is skipped);'
                   ' mark them with pgtrickle.inbox_mark_processed / inbox_mark_failed; drop with pgtrickle.drop_inbox');
    RETURN t;
END $$;

CREATE FUNCTION pgtrickle.create_inbox(name text, schema text DEFAULT 'pgtrickle', max_retries integer DEFAULT 3,
                                       with_dead_letter boolean DEFAULT true, with_stats boolean DEFAULT true,
                                       retention_hours integer DEFAULT 72, schedule text DEFAULT '1s')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t text := pgtrickle._create_inbox_table(name, schema, max_retries, with_dead_letter, with_stats,
                                            retention_hours, schedule);
BEGIN
    RETURN pgtrickle._submit('INBOX', t, '{}');
END $$;

-- Stream tables other than the inbox's own that read its table or one of its stream tables.
CREATE FUNCTION pgtrickle._inbox_foreign_readers(i pgtrickle.pgt_inboxes) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(DISTINCT quote_ident(r.pgt_schema) || '.' || quote_ident(r.pgt_name), ', ')
      FROM pgtrickle.pgt_dependencies d
      JOIN pgtrickle.pgt_stream_tables r ON r.pgt_id = d.pgt_id
     WHERE (d.source_relid = to_regclass(pgtrickle._inbox_table(i))
            OR d.source_relid IN (SELECT s.pgt_relid FROM pgtrickle.pgt_inbox_stream_tables o
                                    JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
                                   WHERE o.inbox_name = i.inbox_name))
       AND r.pgt_id NOT IN (SELECT o.pgt_id FROM pgtrickle.pgt_inbox_stream_tables o WHERE o.inbox_name = i.inbox_name)
$$;

-- Marks the inbox for dropping (the engine then drops its stream tables, its table and its catalog
-- row). Returns its table, or NULL when if_exists and there is no such inbox.
CREATE FUNCTION pgtrickle._mark_inbox_dropping(name text, if_exists boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    i pgtrickle.pgt_inboxes;
    readers text;
BEGIN
    BEGIN
        i := pgtrickle._inbox(name);
    EXCEPTION WHEN undefined_object THEN
        IF if_exists THEN
            RAISE NOTICE 'inbox % does not exist, skipping', name;
            RETURN NULL;
        END IF;
        RAISE;
    END;
    readers := pgtrickle._inbox_foreign_readers(i);
    IF readers IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop inbox %: stream tables % read it', i.inbox_name, readers USING ERRCODE = '2BP01',
            HINT = 'drop those stream tables first';
    END IF;
    UPDATE pgtrickle.pgt_inboxes b SET state = 'DROPPING' WHERE b.inbox_name = i.inbox_name;
    RETURN pgtrickle._inbox_table(i);
END $$;

-- Registers the request that drops the inbox: its stream tables, its table (with every event in it)
-- and its catalog row. Returns the request id, or NULL when if_exists and there is no such inbox.
CREATE FUNCTION pgtrickle.drop_inbox(name text, if_exists boolean DEFAULT false)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t text := pgtrickle._mark_inbox_dropping(name, if_exists);
BEGIN
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN pgtrickle._submit('INBOX', t, '{}');
END $$;

-- The last step of dropping an inbox, once the engine has dropped its stream tables.
CREATE FUNCTION pgtrickle._drop_inbox_table(name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    i pgtrickle.pgt_inboxes := pgtrickle._inbox(name);
    readers text := pgtrickle._inbox_foreign_readers(i);
BEGIN
    IF readers IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop inbox %: stream tables % read it', i.inbox_name, readers USING ERRCODE = '2BP01',
            HINT = 'drop those stream tables first, then drop_inbox again';
    END IF;
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_inbox_stream_tables o WHERE o.inbox_name = i.inbox_name) THEN
        RAISE EXCEPTION 'inbox % still has stream tables', i.inbox_name USING ERRCODE = '55006';
    END IF;
    EXECUTE 'DROP TABLE IF EXISTS ' || pgtrickle._inbox_table(i);
    EXECUTE 'DROP FUNCTION IF EXISTS ' || pgtrickle._inbox_dedup_function(i) || '()';
    DELETE FROM pgtrickle.pgt_inboxes b WHERE b.inbox_name = i.inbox_name;
END $$;

-- An event of an inbox that can be marked: raises a clear error when the inbox or the event is unknown.
CREATE FUNCTION pgtrickle._inbox_event(name text, event_id text, OUT t text, OUT max_retries integer,
                                       OUT processed_at timestamptz, OUT retry_count integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    i pgtrickle.pgt_inboxes := pgtrickle._inbox(name);
BEGIN
    t := pgtrickle._inbox_table(i);
    max_retries := i.max_retries;
    IF event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL (inbox %)', i.inbox_name USING ERRCODE = '22004';
    END IF;
    EXECUTE format('SELECT processed_at, retry_count FROM %s WHERE event_id = $1', t)
        INTO processed_at, retry_count USING event_id;
    IF retry_count IS NULL THEN
        RAISE EXCEPTION 'event % is not in inbox %', quote_literal(event_id), i.inbox_name USING ERRCODE = 'P0002',
            HINT = 'it may never have arrived, or retention deleted it after it was processed';
    END IF;
END $$;

-- Returns true when the event was pending (or dead-lettered) and is now processed; false when it
-- had been processed already (its first processed_at stays).
CREATE FUNCTION pgtrickle.inbox_mark_processed(name text, event_id text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    e record := pgtrickle._inbox_event(name, event_id);
    n integer;
BEGIN
    EXECUTE format('UPDATE %s SET processed_at = clock_timestamp() WHERE event_id = $1 AND processed_at IS NULL', e.t)
        USING event_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END $$;

-- One failed attempt: retry_count + 1 and the error. At max_retries the event leaves <name>_pending
-- for <name>_dlq.
CREATE FUNCTION pgtrickle.inbox_mark_failed(name text, event_id text, error text)
RETURNS TABLE (retry_count integer, dead_lettered boolean) LANGUAGE plpgsql AS $$
DECLARE
    e record := pgtrickle._inbox_event(name, event_id);
BEGIN
    IF e.processed_at IS NOT NULL THEN
        RAISE EXCEPTION 'event % of inbox % was processed at %; it cannot fail any more', quote_literal(event_id),
                name, e.processed_at USING ERRCODE = '55000',
            HINT = 'replay_inbox_messages(' || quote_literal(name) || ', ARRAY[' || quote_literal(event_id)
                   || ']) makes it pending again';
    END IF;
    EXECUTE format('UPDATE %s SET retry_count = retry_count + 1, last_error = $2 WHERE event_id = $1'
                   ' RETURNING retry_count', e.t)
        INTO retry_count USING event_id, error;
    dead_lettered := retry_count >= e.max_retries;
    RETURN NEXT;
END $$;

-- Makes processed or failed events pending again (retry_count 0, processed_at and last_error NULL).
-- Returns how many changed; ids the inbox does not hold, or that are pending already, count 0.
CREATE FUNCTION pgtrickle.replay_inbox_messages(name text, event_ids text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    i pgtrickle.pgt_inboxes := pgtrickle._inbox(name);
    n integer;
BEGIN
    IF event_ids IS NULL THEN
        RAISE EXCEPTION 'event_ids must not be NULL (inbox %)', i.inbox_name USING ERRCODE = '22004',
            HINT = 'pass an array of event ids, e.g. ARRAY[''e1'', ''e2'']';
    END IF;
    EXECUTE format('UPDATE %s SET retry_count = 0, processed_at = NULL, last_error = NULL'
                   ' WHERE event_id = ANY ($1) AND (processed_at IS NOT NULL OR retry_count > 0 OR last_error IS NOT NULL)',
                   pgtrickle._inbox_table(i))
        USING event_ids;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- The settings and the counts of an inbox, counted from its table (not from <name>_stats, which may
-- lag by one refresh).
CREATE FUNCTION pgtrickle.inbox_status(name text)
RETURNS TABLE (inbox text, table_name text, state text, max_retries integer, with_dead_letter boolean,
               with_stats boolean, retention_hours integer, schedule text, aggregate_id_col text, sequence_col text,
               total bigint, pending bigint, failed bigint, dead_lettered bigint, processed bigint,
               oldest_pending_at timestamptz, stream_tables text[], missing_stream_tables text[],
               retention_run_at timestamptz, rows_expired bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    i pgtrickle.pgt_inboxes := pgtrickle._inbox(name);
BEGIN
    inbox := i.inbox_name;
    table_name := pgtrickle._inbox_table(i);
    state := i.state;
    max_retries := i.max_retries;
    with_dead_letter := i.with_dead_letter;
    with_stats := i.with_stats;
    retention_hours := i.retention_hours;
    schedule := i.schedule;
    aggregate_id_col := i.aggregate_id_col;
    sequence_col := i.sequence_col;
    retention_run_at := i.retention_run_at;
    rows_expired := i.rows_expired;
    IF to_regclass(table_name) IS NOT NULL THEN
        EXECUTE format($q$SELECT count(*),
                   count(*) FILTER (WHERE processed_at IS NULL AND retry_count < $1),
                   count(*) FILTER (WHERE processed_at IS NULL AND retry_count < $1 AND retry_count > 0),
                   count(*) FILTER (WHERE processed_at IS NULL AND retry_count >= $1),
                   count(*) FILTER (WHERE processed_at IS NOT NULL),
                   min(received_at) FILTER (WHERE processed_at IS NULL AND retry_count < $1)
              FROM %s$q$, table_name)
            INTO total, pending, failed, dead_lettered, processed, oldest_pending_at USING i.max_retries;
    END IF;
    SELECT array_agg(quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) ORDER BY o.kind)
      INTO stream_tables
      FROM pgtrickle.pgt_inbox_stream_tables o JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
     WHERE o.inbox_name = i.inbox_name;
    IF i.state = 'ACTIVE' THEN
        SELECT coalesce(array_agg(w.stream_table ORDER BY w.kind), '{}') INTO missing_stream_tables
          FROM pgtrickle._inbox_stream_tables(table_name) w
         WHERE NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_inbox_stream_tables o
                            WHERE o.inbox_name = i.inbox_name AND o.kind = w.kind);
    END IF;
    stream_tables := coalesce(stream_tables, '{}');
    RETURN NEXT;
END $$;

-- Per-aggregate ordering: <name>_next (the next pending event of each aggregate, by sequence) and
-- <name>_gaps (aggregates whose next pending sequence is not the last processed one + 1). This
-- checks the columns and records them; returns the inbox's table.
CREATE FUNCTION pgtrickle._set_inbox_ordering(inbox text, aggregate_id_col text, sequence_col text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    i pgtrickle.pgt_inboxes := pgtrickle._inbox(inbox);
    t text := pgtrickle._inbox_table(i);
    col record;
    what text;
BEGIN
    IF i.state <> 'ACTIVE' THEN
        RAISE EXCEPTION 'inbox % is being dropped', i.inbox_name USING ERRCODE = '55006';
    END IF;
    FOR col IN SELECT * FROM (VALUES ('aggregate_id_col', aggregate_id_col), ('sequence_col', sequence_col)) v(arg, name) LOOP
        IF col.name IS NULL OR btrim(col.name) = '' THEN
            RAISE EXCEPTION '% of inbox % must name a column', col.arg, i.inbox_name USING ERRCODE = '22023';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t::regclass AND attname = col.name
                                                   AND attnum > 0 AND NOT attisdropped) THEN
            RAISE EXCEPTION 'column "%" (%) does not exist in inbox %', col.name, col.arg, t USING ERRCODE = '42703',
                HINT = CASE WHEN col.arg = 'sequence_col'
                            THEN 'add it first, e.g. ALTER TABLE ' || t || ' ADD COLUMN ' || quote_ident(col.name) || ' bigint'
                            ELSE 'use aggregate_id, or add the column first' END;
        END IF;
    END LOOP;
    IF aggregate_id_col = sequence_col THEN
        RAISE EXCEPTION 'aggregate_id_col and sequence_col of inbox % are both "%"', i.inbox_name, sequence_col
            USING ERRCODE = '22023', HINT = 'the sequence numbers the events of one aggregate';
    END IF;
    SELECT format_type(atttypid, atttypmod) INTO what FROM pg_attribute
     WHERE attrelid = t::regclass AND attname = sequence_col;
    IF what NOT IN ('smallint', 'integer', 'bigint') THEN
        RAISE EXCEPTION 'sequence column "%" of inbox % is %, not an integer', sequence_col, t, what
            USING ERRCODE = '42804', HINT = 'gaps are found by adding 1: use a smallint, integer or bigint column';
    END IF;
    IF i.aggregate_id_col IS NOT NULL
       AND (i.aggregate_id_col <> aggregate_id_col OR i.sequence_col <> sequence_col) THEN
        RAISE EXCEPTION 'ordering of inbox % already uses columns (%, %)', i.inbox_name, i.aggregate_id_col, i.sequence_col
            USING ERRCODE = '42710', HINT = 'disable_inbox_ordering(' || quote_literal(i.inbox_name) || ') first';
    END IF;
    UPDATE pgtrickle.pgt_inboxes b SET aggregate_id_col = _set_inbox_ordering.aggregate_id_col,
                                       sequence_col = _set_inbox_ordering.sequence_col
     WHERE b.inbox_name = i.inbox_name
    RETURNING * INTO i;
    PERFORM pgtrickle._check_inbox_names_free(i);
    RETURN t;
END $$;

-- Registers the request that creates <name>_next and <name>_gaps. Enabling it again with the same
-- columns registers it again (it creates whatever is missing).
CREATE FUNCTION pgtrickle.enable_inbox_ordering(inbox text, aggregate_id_col text, sequence_col text)
RETURNS bigint LANGUAGE sql AS $$
    SELECT pgtrickle._submit('INBOX', pgtrickle._set_inbox_ordering(inbox, aggregate_id_col, sequence_col), '{}')
$$;

-- Forgets the ordering columns; returns the inbox's table, or NULL when if_exists and there is none.
CREATE FUNCTION pgtrickle._clear_inbox_ordering(inbox text, if_exists boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    i pgtrickle.pgt_inboxes := pgtrickle._inbox(inbox);
BEGIN
    IF i.aggregate_id_col IS NULL THEN
        IF if_exists THEN
            RAISE NOTICE 'inbox % has no ordering, skipping', i.inbox_name;
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'inbox % has no ordering', i.inbox_name USING ERRCODE = '42704',
            HINT = 'enable it with enable_inbox_ordering(' || quote_literal(i.inbox_name) || ', ''aggregate_id'', ''<sequence column>'')';
    END IF;
    UPDATE pgtrickle.pgt_inboxes b SET aggregate_id_col = NULL, sequence_col = NULL WHERE b.inbox_name = i.inbox_name;
    RETURN pgtrickle._inbox_table(i);
END $$;

-- Registers the request that drops <name>_next and <name>_gaps; NULL when if_exists and there is no ordering.
CREATE FUNCTION pgtrickle.disable_inbox_ordering(inbox text, if_exists boolean DEFAULT false)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t text := pgtrickle._clear_inbox_ordering(inbox, if_exists);
BEGIN
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN pgtrickle._submit('INBOX', t, '{}');
END $$;

-- Deletes processed events older than each inbox's retention, at most max_rows per inbox and call
-- (the engine calls it periodically); returns what it deleted per inbox. An inbox whose table is
-- gone or locked is skipped with a warning, the others go on.
CREATE FUNCTION pgtrickle._apply_inbox_retention(max_rows integer DEFAULT 100000)
RETURNS TABLE (inbox text, deleted bigint) LANGUAGE plpgsql AS $$
DECLARE
    i pgtrickle.pgt_inboxes;
    t text;
BEGIN
    FOR i IN SELECT * FROM pgtrickle.pgt_inboxes WHERE state = 'ACTIVE' ORDER BY inbox_name LOOP
        t := pgtrickle._inbox_table(i);
        inbox := i.inbox_name;
        deleted := 0;
        BEGIN
            IF to_regclass(t) IS NOT NULL THEN
                EXECUTE format('WITH gone AS (DELETE FROM %1$s WHERE event_id IN (SELECT event_id FROM %1$s'
                               ' WHERE processed_at < now() - make_interval(hours => $1) ORDER BY processed_at LIMIT $2)'
                               ' RETURNING 1) SELECT count(*) FROM gone', t)
                    INTO deleted USING i.retention_hours, max_rows;
            END IF;
            UPDATE pgtrickle.pgt_inboxes b SET retention_run_at = now(), rows_expired = b.rows_expired + deleted
             WHERE b.inbox_name = i.inbox_name;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'retention of inbox % failed: %', i.inbox_name, SQLERRM;
            CONTINUE;
        END;
        RETURN NEXT;
    END LOOP;
END $$;

-- Publications: a stream table as a standard logical-replication publication, pgt_pub_<name>.

CREATE TABLE pgtrickle.pgt_stream_table_publications (
    pgt_id              bigint      PRIMARY KEY REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    publication_name    text        NOT NULL UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The column list a stream table's publication should have: the user columns plus the replica
-- identity (__pgt_row_id, the primary key), which PostgreSQL requires in the list of a publication
-- that publishes UPDATE and DELETE, and which a DELETE carries as its only value. NULL when the
-- replica identity is FULL (WAL capture sets it when other stream tables read this one): PostgreSQL
-- allows no column list then, so the publication carries every column.
CREATE FUNCTION pgtrickle._publication_columns(relid oid) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN (SELECT relreplident FROM pg_class WHERE oid = relid) = 'f' THEN NULL
           ELSE (SELECT array_agg(a.attname::text ORDER BY a.attnum)
                   FROM pg_attribute a
                  WHERE a.attrelid = relid AND a.attnum > 0 AND NOT a.attisdropped
                    AND (a.attname NOT LIKE '\_\_pgt\_%'
                         OR a.attnum IN (SELECT unnest(x.indkey::smallint[]) FROM pg_index x
                                          WHERE x.indrelid = relid
                                            AND (x.indisreplident OR (x.indisprimary
                                                 AND (SELECT relreplident FROM pg_class WHERE oid = relid) = 'd')))))
           END
$$;

-- Sets the publication's table entry to the wanted column list (or none: every column) when it
-- differs. Called after tracking (the replica identity may have become FULL) and after the storage
-- table's columns changed (release: no column list, before columns are dropped); NULL relid: every
-- recorded publication.
CREATE FUNCTION pgtrickle._sync_publication_columns(relid oid DEFAULT NULL, release boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p record;
    wanted text[];
    current text[];
BEGIN
    FOR p IN SELECT sp.publication_name, s.pgt_relid
               FROM pgtrickle.pgt_stream_table_publications sp JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
              WHERE _sync_publication_columns.relid IS NULL OR s.pgt_relid = _sync_publication_columns.relid LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = p.publication_name)
                   OR NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = p.pgt_relid);
        wanted := CASE WHEN release THEN NULL ELSE pgtrickle._publication_columns(p.pgt_relid) END;
        SELECT CASE WHEN pr.prattrs IS NULL THEN NULL
                    ELSE ARRAY(SELECT a.attname::text FROM unnest(pr.prattrs::smallint[]) WITH ORDINALITY k(n, o)
                                 JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.n ORDER BY k.n) END
          INTO current
          FROM pg_publication_rel pr JOIN pg_publication pb ON pb.oid = pr.prpubid
         WHERE pb.pubname = p.publication_name AND pr.prrelid = p.pgt_relid;
        IF NOT FOUND OR wanted IS DISTINCT FROM current THEN
            EXECUTE format('ALTER PUBLICATION %I SET TABLE ONLY %s%s', p.publication_name, p.pgt_relid::regclass,
                           CASE WHEN wanted IS NULL THEN ''
                                ELSE ' (' || (SELECT string_agg(quote_ident(c), ', ') FROM unnest(wanted) c) || ')' END);
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION pgtrickle.stream_table_to_publication(name text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    id bigint := pgtrickle._require_stream_table(canonical);
    st pgtrickle.pgt_stream_tables;
    pub text;
    existing text;
BEGIN
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = id;
    SELECT publication_name INTO existing FROM pgtrickle.pgt_stream_table_publications p WHERE p.pgt_id = id;
    IF existing IS NOT NULL THEN
        RAISE EXCEPTION 'stream table % already has publication %', canonical, existing USING ERRCODE = '42710',
            HINT = 'subscribe to ' || existing || ', or drop_stream_table_publication(' || quote_literal(canonical) || ') first';
    END IF;
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_requests r WHERE r.kind = 'DROP' AND r.pgt_name = canonical
                                                     AND r.state IN ('PENDING', 'RUNNING')) THEN
        RAISE EXCEPTION 'stream table % is being dropped', canonical USING ERRCODE = '55006',
            HINT = 'wait for the drop request to finish';
    END IF;
    pub := 'pgt_pub_' || st.pgt_name;
    IF octet_length(pub) > 63 THEN
        RAISE EXCEPTION 'publication name % for stream table % would exceed 63 bytes', pub, canonical
            USING ERRCODE = '42622', HINT = 'publish a stream table whose name has at most 55 bytes';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = pub) THEN
        SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) INTO existing
          FROM pgtrickle.pgt_stream_table_publications p JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
         WHERE p.publication_name = pub;
        RAISE EXCEPTION 'publication % already exists%', pub,
                coalesce(' (it publishes stream table ' || existing || ')', '') USING ERRCODE = '42710',
            HINT = CASE WHEN existing IS NULL THEN 'drop or rename that publication first'
                        ELSE 'stream tables of one name in two schemas cannot both be published' END;
    END IF;
    EXECUTE format('CREATE PUBLICATION %I FOR TABLE ONLY %s', pub, st.pgt_relid::regclass);
    INSERT INTO pgtrickle.pgt_stream_table_publications (pgt_id, publication_name) VALUES (id, pub);
    PERFORM pgtrickle._sync_publication_columns(st.pgt_relid);
    IF pgtrickle._publication_columns(st.pgt_relid) IS NULL THEN
        RAISE NOTICE 'stream table % has REPLICA IDENTITY FULL (other stream tables read it), so publication % has no column list: it carries the hidden __pgt_ columns too',
            canonical, pub;
    END IF;
    RETURN pub;
END $$;

CREATE FUNCTION pgtrickle.drop_stream_table_publication(name text, if_exists boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    id bigint := pgtrickle._stream_table_id(canonical);
    pub text;
BEGIN
    SELECT publication_name INTO pub FROM pgtrickle.pgt_stream_table_publications p WHERE p.pgt_id = id;
    IF pub IS NULL THEN
        IF if_exists THEN
            RAISE NOTICE 'stream table % has no publication, skipping', canonical;
            RETURN;
        END IF;
        PERFORM pgtrickle._require_stream_table(canonical);
        RAISE EXCEPTION 'stream table % has no publication', canonical USING ERRCODE = '42704',
            HINT = 'SELECT pgtrickle.stream_table_to_publication(' || quote_literal(canonical) || ') creates one';
    END IF;
    PERFORM pgtrickle._drop_publication_of(id);
END $$;

-- The engine's drop path calls this before it drops the storage table, so no empty publication is
-- left behind.
CREATE FUNCTION pgtrickle._drop_publication_of(pgt_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    pub text;
BEGIN
    DELETE FROM pgtrickle.pgt_stream_table_publications p WHERE p.pgt_id = _drop_publication_of.pgt_id
    RETURNING publication_name INTO pub;
    IF pub IS NOT NULL THEN
        EXECUTE format('DROP PUBLICATION IF EXISTS %I', pub);
    END IF;
END $$;
