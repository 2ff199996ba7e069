-- explain_stream_table(name, "analyze" => true): the engine runs the next refresh in a transaction it
-- rolls back and reports EXPLAIN (ANALYZE, BUFFERS) of each statement. Only the engine can run a
-- refresh (it reads the change window through capture), so the analysis is a request like
-- refresh_stream_table; its text is the request's result, which await_request returns.
ALTER TABLE pgtrickle.pgt_requests ADD COLUMN result text;
ALTER TABLE pgtrickle.pgt_requests DROP CONSTRAINT pgt_requests_kind_check;
ALTER TABLE pgtrickle.pgt_requests ADD CONSTRAINT pgt_requests_kind_check
    CHECK (kind IN ('CREATE', 'CREATE_OR_REPLACE', 'ALTER', 'DROP', 'REFRESH', 'EXPLAIN_ANALYZE'));

-- Replaced rather than overloaded: explain_stream_table('x') must stay unambiguous. ANALYZE is a
-- reserved word, so the argument is named "analyze" => true in quotes (as drop's "cascade") or passed
-- by position.
DROP FUNCTION pgtrickle.explain_stream_table(text);

CREATE FUNCTION pgtrickle.explain_stream_table(name text, "analyze" boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    explanation text;
    id bigint;
BEGIN
    IF NOT "analyze" THEN
        SELECT coalesce(s.explanation,
                        'stream table ' || quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) || E'\n'
                        || 'refresh mode  ' || s.refresh_mode || ' -> ' || s.effective_mode || E'\n'
                        || coalesce('why           ' || s.mode_reason || E'\n', ''))
          INTO explanation
          FROM pgtrickle.pgt_stream_tables s
         WHERE quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) = canonical;
        RETURN explanation;
    END IF;
    PERFORM pgtrickle._require_stream_table(canonical);
    id := pgtrickle._submit('EXPLAIN_ANALYZE', canonical, '{}');
    RETURN 'explain analyze of ' || canonical || ' registered as request ' || id
        || '; the engine runs it in a transaction it rolls back, once this transaction commits: '
        || 'SELECT pgtrickle.await_request(' || id || ') returns the plans and timings';
END $$;

-- As in V2, but a request with a result (explain analyze) returns it instead of 'DONE'.
CREATE OR REPLACE FUNCTION pgtrickle.await_request(request_id bigint, timeout interval DEFAULT '30 seconds')
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
            RETURN coalesce(r.result, 'DONE');
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
