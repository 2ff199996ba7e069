-- Diamonds: a stream table (the sink) reading two or more stream tables (its branches) that read
-- a common source. With diamond_consistency 'atomic' on the sink, its branches refresh together,
-- in one transaction under one snapshot, so the sink never reads one branch updated and another
-- not; 'none' (the default) refreshes them one by one.
ALTER TABLE pgtrickle.pgt_stream_tables ADD COLUMN diamond_consistency text NOT NULL DEFAULT 'none'
    CHECK (diamond_consistency IN ('none', 'atomic'));

CREATE FUNCTION pgtrickle._check_diamond_consistency(value text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value IS NULL OR lower(value) IN ('none', 'atomic') THEN
        RETURN;
    END IF;
    RAISE EXCEPTION 'invalid diamond consistency "%"', value USING ERRCODE = '22023',
        HINT = 'use ''none'' (branches refresh one by one) or ''atomic'' (together, under one snapshot)';
END $$;

-- Every diamond: per sink, each set of its branches linked by common sources (a branch reaching
-- another through the sources in between counts too). supported: no branch reads another
-- (through stream tables in between), since a branch's changes reach its readers only once its
-- refresh commits.
CREATE FUNCTION pgtrickle.diamond_groups()
RETURNS TABLE (sink text, consistency text, members text[], member_ids bigint[], shared_sources text[],
               supported boolean, reason text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE
    st AS (SELECT pgt_id, pgt_relid, quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) AS name,
                  diamond_consistency FROM pgtrickle.pgt_stream_tables),
    -- every relation each stream table reads, directly or through stream tables
    reach(pgt_id, relid) AS (
        SELECT d.pgt_id, d.source_relid FROM pgtrickle.pgt_dependencies d
        UNION
        SELECT r.pgt_id, d.source_relid FROM reach r JOIN st s ON s.pgt_relid = r.relid
          JOIN pgtrickle.pgt_dependencies d ON d.pgt_id = s.pgt_id),
    branch AS (SELECT d.pgt_id AS sink_id, b.pgt_id AS branch_id
                 FROM pgtrickle.pgt_dependencies d JOIN st b ON b.pgt_relid = d.source_relid),
    -- two branches of one sink linked by a common source
    link AS (SELECT DISTINCT x.sink_id, x.branch_id AS a, y.branch_id AS b
               FROM branch x JOIN branch y ON y.sink_id = x.sink_id AND y.branch_id <> x.branch_id
              WHERE EXISTS (SELECT 1 FROM reach rx JOIN reach ry ON ry.relid = rx.relid
                             WHERE rx.pgt_id = x.branch_id AND ry.pgt_id = y.branch_id)
                 OR EXISTS (SELECT 1 FROM reach rx JOIN st s ON s.pgt_relid = rx.relid
                             WHERE rx.pgt_id = x.branch_id AND s.pgt_id = y.branch_id)),
    -- connected components: each branch labelled by the smallest id it is linked to
    comp(sink_id, branch_id, root) AS (
        SELECT sink_id, a, a FROM link
        UNION
        SELECT c.sink_id, c.branch_id, l.b FROM comp c JOIN link l ON l.sink_id = c.sink_id AND l.a = c.root),
    groups AS (SELECT sink_id, branch_id, min(root) AS root FROM comp GROUP BY sink_id, branch_id),
    g AS (SELECT sink_id, root, array_agg(branch_id ORDER BY branch_id) AS ids FROM groups GROUP BY sink_id, root)
    SELECT s.name, s.diamond_consistency,
           (SELECT array_agg(m.name ORDER BY m.pgt_id) FROM st m WHERE m.pgt_id = ANY (g.ids)),
           g.ids,
           (SELECT array_agg(DISTINCT coalesce(src.name, r1.relid::regclass::text)
                             ORDER BY coalesce(src.name, r1.relid::regclass::text))
              FROM reach r1 JOIN reach r2 ON r2.relid = r1.relid AND r2.pgt_id <> r1.pgt_id
              LEFT JOIN st src ON src.pgt_relid = r1.relid
             WHERE r1.pgt_id = ANY (g.ids) AND r2.pgt_id = ANY (g.ids)),
           NOT EXISTS (SELECT 1 FROM reach r JOIN st m ON m.pgt_relid = r.relid
                        WHERE r.pgt_id = ANY (g.ids) AND m.pgt_id = ANY (g.ids)),
           (SELECT 'branch ' || reader.name || ' reads branch ' || m.name
                   || ': make the sink read only one of them, or keep diamond_consistency ''none'''
              FROM reach r JOIN st m ON m.pgt_relid = r.relid JOIN st reader ON reader.pgt_id = r.pgt_id
             WHERE r.pgt_id = ANY (g.ids) AND m.pgt_id = ANY (g.ids) ORDER BY 1 LIMIT 1)
      FROM g JOIN st s ON s.pgt_id = g.sink_id
     WHERE cardinality(g.ids) >= 2
     ORDER BY 1, 4
$$;

DROP FUNCTION pgtrickle.create_stream_table(text, text, text, text);
DROP FUNCTION pgtrickle.create_or_replace_stream_table(text, text, text, text);
DROP FUNCTION pgtrickle.alter_stream_table(text, text, text, text, text);

CREATE FUNCTION pgtrickle.create_stream_table(
    name text, query text, schedule text DEFAULT '1m', refresh_mode text DEFAULT 'AUTO',
    diamond_consistency text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
BEGIN
    PERFORM pgtrickle._check_schedule(schedule);
    PERFORM pgtrickle._check_refresh_mode(refresh_mode);
    PERFORM pgtrickle._check_diamond_consistency(diamond_consistency);
    IF pgtrickle._stream_table_id(canonical) IS NOT NULL THEN
        RAISE EXCEPTION 'stream table % already exists', canonical USING ERRCODE = '42P07',
            HINT = 'use pgtrickle.create_or_replace_stream_table or alter_stream_table to change it';
    END IF;
    IF to_regclass(canonical) IS NOT NULL THEN
        RAISE EXCEPTION 'relation % already exists', canonical USING ERRCODE = '42P07',
            HINT = 'choose another name for the stream table';
    END IF;
    PERFORM pgtrickle._check_query(query);
    RETURN pgtrickle._submit('CREATE', canonical, jsonb_strip_nulls(jsonb_build_object(
        'query', query, 'schedule', schedule, 'refresh_mode', upper(refresh_mode),
        'diamond_consistency', lower(diamond_consistency))));
END $$;

CREATE FUNCTION pgtrickle.create_or_replace_stream_table(
    name text, query text, schedule text DEFAULT '1m', refresh_mode text DEFAULT 'AUTO',
    diamond_consistency text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
BEGIN
    PERFORM pgtrickle._check_schedule(schedule);
    PERFORM pgtrickle._check_refresh_mode(refresh_mode);
    PERFORM pgtrickle._check_diamond_consistency(diamond_consistency);
    IF pgtrickle._stream_table_id(canonical) IS NULL AND to_regclass(canonical) IS NOT NULL THEN
        RAISE EXCEPTION 'relation % already exists and is not a stream table', canonical USING ERRCODE = '42P07';
    END IF;
    PERFORM pgtrickle._check_query(query);
    RETURN pgtrickle._submit('CREATE_OR_REPLACE', canonical, jsonb_strip_nulls(jsonb_build_object(
        'query', query, 'schedule', schedule, 'refresh_mode', upper(refresh_mode),
        'diamond_consistency', lower(diamond_consistency))));
END $$;

CREATE FUNCTION pgtrickle.alter_stream_table(
    name text, query text DEFAULT NULL, schedule text DEFAULT NULL,
    refresh_mode text DEFAULT NULL, status text DEFAULT NULL, diamond_consistency text DEFAULT NULL)
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
    IF diamond_consistency IS NOT NULL THEN
        PERFORM pgtrickle._check_diamond_consistency(diamond_consistency);
        args := args || jsonb_build_object('diamond_consistency', lower(diamond_consistency));
    END IF;
    IF args = '{}' THEN
        RAISE EXCEPTION 'nothing to alter for %', canonical USING ERRCODE = '22023',
            HINT = 'pass query, schedule, refresh_mode, status or diamond_consistency';
    END IF;
    RETURN pgtrickle._submit('ALTER', canonical, args);
END $$;
