-- The SQL surface: functions register requests that the running engine carries out (LISTEN/NOTIFY
-- wakes it). They check what they can at once, so most mistakes fail the caller's statement
-- instead of surfacing later in pgtrickle.pgt_requests.

-- 'schema.name' or 'name' (schema public) in canonical, quoted form.
CREATE FUNCTION pgtrickle._canonical_name(name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    parts text[];
BEGIN
    IF name IS NULL OR btrim(name) = '' THEN
        RAISE EXCEPTION 'stream table name must not be empty' USING ERRCODE = '22023';
    END IF;
    parts := parse_ident(name);
    IF array_length(parts, 1) = 1 THEN
        RETURN quote_ident('public') || '.' || quote_ident(parts[1]);
    ELSIF array_length(parts, 1) = 2 THEN
        RETURN quote_ident(parts[1]) || '.' || quote_ident(parts[2]);
    END IF;
    RAISE EXCEPTION 'invalid stream table name "%": use name or schema.name', name USING ERRCODE = '42602';
END $$;

-- Raises the error PostgreSQL gives for the query, without running it. A cursor accepts exactly
-- one statement and the subquery wrapper admits only a query, so nothing else hidden in the text
-- can run; EXPLAIN plans without executing.
CREATE FUNCTION pgtrickle._check_query(query text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    q text := regexp_replace(coalesce(query, ''), '[[:space:];]+$', '');
BEGIN
    IF btrim(q) = '' THEN
        RAISE EXCEPTION 'the defining query must not be empty' USING ERRCODE = '22023';
    END IF;
    BEGIN
        FOR r IN EXECUTE 'EXPLAIN SELECT * FROM (' || chr(10) || q || chr(10) || ') AS __pgt_q' LOOP
            EXIT;
        END LOOP;
    EXCEPTION WHEN invalid_cursor_definition THEN
        RAISE EXCEPTION 'the defining query must be a single SELECT statement' USING ERRCODE = '42601';
    END;
END $$;

CREATE FUNCTION pgtrickle._check_schedule(schedule text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF schedule IS NULL OR lower(btrim(schedule)) = 'calculated'
       OR btrim(schedule) ~ '^([0-9]+(ms|s|m|h|d))+$' THEN
        RETURN;
    END IF;
    RAISE EXCEPTION 'invalid schedule "%"', schedule USING ERRCODE = '22023',
        HINT = 'use a duration such as 30s, 5m or 1h30m, or ''calculated''';
END $$;

CREATE FUNCTION pgtrickle._check_refresh_mode(refresh_mode text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF refresh_mode IS NULL OR upper(refresh_mode) IN ('AUTO', 'FULL', 'DIFFERENTIAL') THEN
        RETURN;
    END IF;
    IF upper(refresh_mode) = 'IMMEDIATE' THEN
        RAISE EXCEPTION 'refresh mode IMMEDIATE is not supported yet' USING ERRCODE = '22023',
            HINT = 'use AUTO, FULL or DIFFERENTIAL';
    END IF;
    RAISE EXCEPTION 'invalid refresh mode "%"', refresh_mode USING ERRCODE = '22023',
        HINT = 'use AUTO, FULL or DIFFERENTIAL';
END $$;

CREATE FUNCTION pgtrickle._stream_table_id(canonical_name text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT pgt_id FROM pgtrickle.pgt_stream_tables
     WHERE quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) = canonical_name
$$;

CREATE FUNCTION pgtrickle._require_stream_table(canonical_name text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    id bigint := pgtrickle._stream_table_id(canonical_name);
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'stream table % does not exist', canonical_name USING ERRCODE = '42P01';
    END IF;
    RETURN id;
END $$;

CREATE FUNCTION pgtrickle._submit(kind text, canonical_name text, args jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    id bigint;
BEGIN
    INSERT INTO pgtrickle.pgt_requests (kind, pgt_name, args)
    VALUES (kind, canonical_name, args)
    RETURNING request_id INTO id;
    PERFORM pg_notify('pgtrickle_requests', id::text);
    RAISE NOTICE 'request % (% %) registered; the engine applies it after this transaction commits', id, kind, canonical_name
        USING HINT = 'SELECT pgtrickle.await_request(' || id || ') waits for the outcome';
    RETURN id;
END $$;

CREATE FUNCTION pgtrickle.create_stream_table(
    name text, query text, schedule text DEFAULT '1m', refresh_mode text DEFAULT 'AUTO')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
BEGIN
    PERFORM pgtrickle._check_schedule(schedule);
    PERFORM pgtrickle._check_refresh_mode(refresh_mode);
    IF pgtrickle._stream_table_id(canonical) IS NOT NULL THEN
        RAISE EXCEPTION 'stream table % already exists', canonical USING ERRCODE = '42P07',
            HINT = 'use pgtrickle.create_or_replace_stream_table or alter_stream_table to change it';
    END IF;
    IF to_regclass(canonical) IS NOT NULL THEN
        RAISE EXCEPTION 'relation % already exists', canonical USING ERRCODE = '42P07',
            HINT = 'choose another name for the stream table';
    END IF;
    PERFORM pgtrickle._check_query(query);
    RETURN pgtrickle._submit('CREATE', canonical, jsonb_build_object(
        'query', query, 'schedule', schedule, 'refresh_mode', upper(refresh_mode)));
END $$;

CREATE FUNCTION pgtrickle.create_or_replace_stream_table(
    name text, query text, schedule text DEFAULT '1m', refresh_mode text DEFAULT 'AUTO')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
BEGIN
    PERFORM pgtrickle._check_schedule(schedule);
    PERFORM pgtrickle._check_refresh_mode(refresh_mode);
    IF pgtrickle._stream_table_id(canonical) IS NULL AND to_regclass(canonical) IS NOT NULL THEN
        RAISE EXCEPTION 'relation % already exists and is not a stream table', canonical USING ERRCODE = '42P07';
    END IF;
    PERFORM pgtrickle._check_query(query);
    RETURN pgtrickle._submit('CREATE_OR_REPLACE', canonical, jsonb_build_object(
        'query', query, 'schedule', schedule, 'refresh_mode', upper(refresh_mode)));
END $$;

CREATE FUNCTION pgtrickle.alter_stream_table(
    name text, query text DEFAULT NULL, schedule text DEFAULT NULL,
    refresh_mode text DEFAULT NULL, status text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    args jsonb := '{}';
BEGIN
    PERFORM pgtrickle._require_stream_table(canonical);
    IF schedule IS NOT NULL THEN
        PERFORM pgtrickle._check_schedule(schedule);
        args := args || jsonb_build_object('schedule', schedule);
    END IF;
    IF refresh_mode IS NOT NULL THEN
        PERFORM pgtrickle._check_refresh_mode(refresh_mode);
        args := args || jsonb_build_object('refresh_mode', upper(refresh_mode));
    END IF;
    IF status IS NOT NULL THEN
        IF upper(status) NOT IN ('ACTIVE', 'SUSPENDED') THEN
            RAISE EXCEPTION 'invalid status "%"', status USING ERRCODE = '22023',
                HINT = 'use ACTIVE (resume) or SUSPENDED (pause)';
        END IF;
        args := args || jsonb_build_object('status', upper(status));
    END IF;
    IF query IS NOT NULL THEN
        PERFORM pgtrickle._check_query(query);
        args := args || jsonb_build_object('query', query);
    END IF;
    IF args = '{}' THEN
        RAISE EXCEPTION 'nothing to alter for %', canonical USING ERRCODE = '22023',
            HINT = 'pass query, schedule, refresh_mode or status';
    END IF;
    RETURN pgtrickle._submit('ALTER', canonical, args);
END $$;

CREATE FUNCTION pgtrickle.drop_stream_table(name text, "cascade" boolean DEFAULT false)
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
    END IF;
    RETURN pgtrickle._submit('DROP', canonical, jsonb_build_object('cascade', "cascade"));
END $$;

CREATE FUNCTION pgtrickle.refresh_stream_table(name text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
BEGIN
    PERFORM pgtrickle._require_stream_table(canonical);
    RETURN pgtrickle._submit('REFRESH', canonical, '{}');
END $$;

-- Waits for a request registered by one of the functions above (in an earlier transaction) and
-- raises its error if it failed.
CREATE FUNCTION pgtrickle.await_request(request_id bigint, timeout interval DEFAULT '30 seconds')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
    r pgtrickle.pgt_requests;
BEGIN
    LOOP
        SELECT * INTO r FROM pgtrickle.pgt_requests q WHERE q.request_id = await_request.request_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'request % does not exist (or its transaction has not committed)', request_id
                USING ERRCODE = '22023';
        END IF;
        IF r.state = 'DONE' THEN
            RETURN 'DONE';
        ELSIF r.state = 'FAILED' THEN
            RAISE EXCEPTION 'request % (% %) failed: %', request_id, r.kind, r.pgt_name, r.error
                USING ERRCODE = 'P0001';
        END IF;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'request % is still % after %', request_id, r.state, timeout
                USING ERRCODE = '57014', HINT = 'is the pg_trickle engine running against this database?';
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;

CREATE FUNCTION pgtrickle.pgt_status()
RETURNS TABLE (name text, status text, refresh_mode text, effective_mode text, schedule text,
               data_timestamp timestamptz, staleness interval, consecutive_errors integer,
               last_error text, mode_reason text)
LANGUAGE sql STABLE AS $$
    WITH latest_request AS (
        SELECT DISTINCT ON (r.pgt_name) r.*
          FROM pgtrickle.pgt_requests r
         ORDER BY r.pgt_name, r.request_id DESC
    ), st AS (
        SELECT s.*, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) AS canonical
          FROM pgtrickle.pgt_stream_tables s
    )
    SELECT st.canonical, st.status, st.refresh_mode, st.effective_mode,
           coalesce(st.schedule, 'calculated'), st.data_timestamp,
           clock_timestamp() - st.data_timestamp, st.consecutive_errors,
           CASE WHEN lr.state = 'FAILED'
                 AND (st.last_error_at IS NULL OR lr.completed_at > st.last_error_at) THEN lr.error
                ELSE st.last_error END,
           st.mode_reason
      FROM st LEFT JOIN latest_request lr ON lr.pgt_name = st.canonical
    UNION ALL
    -- A create that failed leaves no stream table; show its error until the name is used again.
    SELECT lr.pgt_name, 'FAILED', lr.args ->> 'refresh_mode', NULL, lr.args ->> 'schedule',
           NULL, NULL, NULL, lr.error, NULL
      FROM latest_request lr
     WHERE lr.state = 'FAILED' AND lr.kind IN ('CREATE', 'CREATE_OR_REPLACE')
       AND NOT EXISTS (SELECT 1 FROM st WHERE st.canonical = lr.pgt_name)
    ORDER BY 1
$$;
