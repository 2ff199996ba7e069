-- Consumer groups over the outbox (docs/consumer-groups.md): one committed offset per group and at
-- most one lease at a time, so a group's members take turns on one stream table's entries in
-- offset order (failover, not parallelism: per-key order needs one reader at a time); retention of
-- what every group has committed; lag, state (OK / BEHIND / DEAD) in outbox_status and health_check.
--
-- Locks on a group row, and why each function takes the one it takes:
--   poll_outbox        FOR NO KEY UPDATE SKIP LOCKED  another member busy with the group gets nothing, never waits
--   commit_offset,
--   extend_lease       FOR NO KEY UPDATE              short, and only moves the offset forward
--   seek_offset,
--   drop               FOR UPDATE                     conflicts with retention's FOR KEY SHARE (below)
--   retention          FOR KEY SHARE                  polls and commits go on (they only move forward), but
--                                                     a seek back waits, so nothing it may replay is deleted
-- Member rows reference the group (their FK check takes FOR KEY SHARE), so heartbeats never wait
-- for a poll or a commit.

CREATE TABLE pgtrickle.pgt_consumer_groups (
    group_name          text        PRIMARY KEY CHECK (btrim(group_name) <> ''),
    -- Disabling the outbox (with "cascade") or dropping its stream table removes its groups.
    pgt_id              bigint      NOT NULL REFERENCES pgtrickle.pgt_outbox_config ON DELETE CASCADE,
    -- Every entry of the outbox at or below this offset is done for this group.
    committed_offset    bigint      NOT NULL,
    committed_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    auto_offset_reset   text        NOT NULL CHECK (auto_offset_reset IN ('latest', 'earliest')),
    -- The one lease: entries (committed_offset, lease_last_offset] given to lease_consumer until
    -- lease_expires_at. NULL when nothing is leased.
    lease_consumer      text,
    lease_last_offset   bigint,
    lease_expires_at    timestamptz,
    CHECK ((lease_consumer IS NULL) = (lease_last_offset IS NULL)
           AND (lease_consumer IS NULL) = (lease_expires_at IS NULL)),
    CHECK (lease_last_offset > committed_offset)
);
CREATE INDEX ON pgtrickle.pgt_consumer_groups (pgt_id);

-- Who polled or sent a heartbeat, and when: consumer_lag lists them, DEAD is judged from them.
CREATE TABLE pgtrickle.pgt_consumer_group_members (
    group_name      text        NOT NULL REFERENCES pgtrickle.pgt_consumer_groups ON DELETE CASCADE,
    consumer        text        NOT NULL,
    first_seen_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_seen_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_poll_at    timestamptz,
    PRIMARY KEY (group_name, consumer)
);

-- What retention removed from an outbox: seek_offset cannot go back past removed_through, even once
-- the outbox is empty.
CREATE TABLE pgtrickle.pgt_outbox_retention (
    pgt_id          bigint      PRIMARY KEY REFERENCES pgtrickle.pgt_outbox_config ON DELETE CASCADE,
    removed_through bigint      NOT NULL,
    rows_removed    bigint      NOT NULL,
    last_removed_at timestamptz NOT NULL
);

-- A group is DEAD when no member has polled, committed or sent a heartbeat for this long while
-- entries wait (ConsumerGroups.DEAD_AFTER in Java says the same).
CREATE FUNCTION pgtrickle._consumer_dead_after() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT interval '5 minutes' $$;

CREATE FUNCTION pgtrickle._require_consumer_group(group_name text) RETURNS pgtrickle.pgt_consumer_groups
LANGUAGE plpgsql STABLE AS $$
DECLARE
    g pgtrickle.pgt_consumer_groups;
BEGIN
    IF group_name IS NULL OR btrim(group_name) = '' THEN
        RAISE EXCEPTION 'consumer group name must not be empty' USING ERRCODE = '22023',
            HINT = 'pass the name given to create_consumer_group';
    END IF;
    SELECT * INTO g FROM pgtrickle.pgt_consumer_groups c WHERE c.group_name = _require_consumer_group.group_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'consumer group "%" does not exist', group_name USING ERRCODE = '42704',
            HINT = 'create it with SELECT pgtrickle.create_consumer_group(' || quote_literal(group_name)
                || ', outbox => ''<stream table>''); pgtrickle.pgt_consumer_groups lists the groups';
    END IF;
    RETURN g;
END $$;

CREATE FUNCTION pgtrickle._check_consumer(consumer text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF consumer IS NULL OR btrim(consumer) = '' THEN
        RAISE EXCEPTION 'consumer name must not be empty' USING ERRCODE = '22023',
            HINT = 'name each member of a group uniquely and stably, e.g. host and process id';
    END IF;
END $$;

CREATE FUNCTION pgtrickle._check_visibility(visibility_seconds integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF visibility_seconds IS NULL OR visibility_seconds < 1 THEN
        RAISE EXCEPTION 'visibility_seconds must be 1 or more, not %', coalesce(visibility_seconds::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'the lease lasts that many seconds; extend_lease renews it';
    END IF;
END $$;

-- A member polled, committed or sent a heartbeat.
CREATE FUNCTION pgtrickle._consumer_seen(group_name text, consumer text, polled boolean) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pgtrickle.pgt_consumer_group_members AS m (group_name, consumer, last_seen_at, last_poll_at)
    VALUES (group_name, consumer, clock_timestamp(), CASE WHEN polled THEN clock_timestamp() END)
    ON CONFLICT ON CONSTRAINT pgt_consumer_group_members_pkey DO UPDATE
       SET last_seen_at = excluded.last_seen_at, last_poll_at = coalesce(excluded.last_poll_at, m.last_poll_at)
$$;

-- The lowest offset a group may stand at: just before the oldest entry retained, and never before
-- what retention removed.
CREATE FUNCTION pgtrickle._outbox_earliest(id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT min(o.outbox_offset) - 1 FROM pgtrickle.pgt_outbox o WHERE o.pgt_id = id),
                    (SELECT r.removed_through FROM pgtrickle.pgt_outbox_retention r WHERE r.pgt_id = id), 0)
$$;

-- The newest offset the outbox has had (0 before its first entry).
CREATE FUNCTION pgtrickle._outbox_latest(id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(greatest((SELECT max(o.outbox_offset) FROM pgtrickle.pgt_outbox o WHERE o.pgt_id = id),
                             (SELECT r.removed_through FROM pgtrickle.pgt_outbox_retention r WHERE r.pgt_id = id)), 0)
$$;

-- 'latest': after the newest entry committed now. One stream table's offsets are drawn under a
-- lock held to commit, so every entry committed later has a higher offset and none is skipped.
-- 'earliest': before the oldest entry retained. Returns the offset the group starts after.
CREATE FUNCTION pgtrickle.create_consumer_group(name text, outbox text, auto_offset_reset text DEFAULT 'latest')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    reset text := lower(btrim(auto_offset_reset));
    canonical text;
    id bigint;
    start bigint;
    existing text;
BEGIN
    IF name IS NULL OR btrim(name) = '' THEN
        RAISE EXCEPTION 'consumer group name must not be empty' USING ERRCODE = '22023',
            HINT = 'choose a name such as ''orders-to-kafka''; it is unique in the database';
    END IF;
    IF reset IS NULL OR reset NOT IN ('latest', 'earliest') THEN
        RAISE EXCEPTION 'invalid auto_offset_reset "%" for consumer group "%"', coalesce(auto_offset_reset, 'NULL'), name
            USING ERRCODE = '22023',
            HINT = 'use ''latest'' (only entries written from now on) or ''earliest'' (every entry the outbox retains)';
    END IF;
    IF outbox IS NULL OR btrim(outbox) = '' THEN
        RAISE EXCEPTION 'the outbox of consumer group "%" must be named', name USING ERRCODE = '22023',
            HINT = 'pass the name of a stream table with an outbox';
    END IF;
    canonical := pgtrickle._canonical_name(outbox);
    id := pgtrickle._stream_table_id(canonical);
    IF id IS NULL THEN
        RAISE EXCEPTION 'stream table % does not exist', canonical USING ERRCODE = '42P01',
            HINT = 'a consumer group reads the outbox of a stream table, named like the stream table; pgtrickle.pgt_status() lists them';
    END IF;
    PERFORM pgtrickle._outbox_stream_table(canonical, true);
    SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) INTO existing
      FROM pgtrickle.pgt_consumer_groups g JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
     WHERE g.group_name = create_consumer_group.name;
    IF FOUND THEN
        RAISE EXCEPTION 'consumer group "%" already exists (reading the outbox of %)', name, existing
            USING ERRCODE = '42710',
            HINT = 'choose another name, or drop it first: SELECT pgtrickle.drop_consumer_group(' || quote_literal(name) || ')';
    END IF;
    start := CASE reset WHEN 'latest' THEN pgtrickle._outbox_latest(id) ELSE pgtrickle._outbox_earliest(id) END;
    BEGIN
        INSERT INTO pgtrickle.pgt_consumer_groups (group_name, pgt_id, committed_offset, auto_offset_reset)
        VALUES (name, id, start, reset);
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'consumer group "%" already exists', name USING ERRCODE = '42710',
            HINT = 'it was created at the same moment by another session; choose another name';
    END;
    RETURN start;
END $$;

CREATE FUNCTION pgtrickle.drop_consumer_group(name text, if_exists boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pgtrickle.pgt_consumer_groups g WHERE g.group_name = drop_consumer_group.name;
    IF NOT FOUND THEN
        IF if_exists THEN
            RAISE NOTICE 'consumer group "%" does not exist, skipping', name;
            RETURN;
        END IF;
        PERFORM pgtrickle._require_consumer_group(name);
    END IF;
END $$;

-- The next entries after the group's committed offset, in offset order, leased to `consumer` for
-- visibility_seconds. NEVER SKIPS (DESIGN §3): an entry is given only once every transaction older
-- than its writer has ended (xid8 before the snapshot's xmin), and the batch stops at the first
-- entry that is not settled yet, so it is a prefix of the outbox in offset order.
-- While one member's lease is live, another member gets nothing; the holder polling again gets the
-- same leased entries again (renewed for visibility_seconds) and nothing new. An expired lease is
-- re-offered to whoever polls next. Meant to run in a transaction of its own (see the docs).
CREATE FUNCTION pgtrickle.poll_outbox("group" text, consumer text, batch_size integer DEFAULT 100,
                                      visibility_seconds integer DEFAULT 30)
RETURNS TABLE (outbox_offset bigint, stream_table text, refresh_id bigint, created_at timestamptz,
               full_refresh boolean, inserted bigint, updated bigint, deleted bigint, row_count bigint,
               changes jsonb, dedup_key_prefix text, lease_expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    g pgtrickle.pgt_consumer_groups;
    now_ts timestamptz;
    expires timestamptz;
    renewing boolean;
    last_given bigint;
    r record;
BEGIN
    PERFORM pgtrickle._require_consumer_group(poll_outbox."group");
    PERFORM pgtrickle._check_consumer(poll_outbox.consumer);
    PERFORM pgtrickle._check_visibility(poll_outbox.visibility_seconds);
    IF poll_outbox.batch_size IS NULL OR poll_outbox.batch_size < 1 THEN
        RAISE EXCEPTION 'batch_size must be 1 or more, not %', coalesce(poll_outbox.batch_size::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'it is the most entries one poll returns (default 100)';
    END IF;
    SELECT * INTO g FROM pgtrickle.pgt_consumer_groups c WHERE c.group_name = poll_outbox."group"
       FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        -- Another member is polling or committing right now, or a seek or a drop is under way.
        BEGIN
            PERFORM pgtrickle._consumer_seen(poll_outbox."group", poll_outbox.consumer, true);
        EXCEPTION WHEN foreign_key_violation THEN
            PERFORM pgtrickle._require_consumer_group(poll_outbox."group");   -- dropped meanwhile: says so
        END;
        RETURN;
    END IF;
    now_ts := clock_timestamp();
    renewing := g.lease_consumer IS NOT NULL AND g.lease_expires_at > now_ts;
    IF renewing AND g.lease_consumer <> poll_outbox.consumer THEN
        PERFORM pgtrickle._consumer_seen(g.group_name, poll_outbox.consumer, true);
        RETURN;
    END IF;
    expires := now_ts + make_interval(secs => poll_outbox.visibility_seconds);
    -- One statement, one snapshot: the entries and the horizon they are judged by.
    FOR r IN
        SELECT o.*, o.xid8 < s.horizon AS settled
          FROM pgtrickle.pgt_outbox o, (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon) s
         WHERE o.pgt_id = g.pgt_id AND o.outbox_offset > g.committed_offset
           AND (NOT renewing OR o.outbox_offset <= g.lease_last_offset)
         ORDER BY o.outbox_offset
         LIMIT poll_outbox.batch_size
    LOOP
        -- Leased entries were settled when first given; new ones stop at the first unsettled one.
        EXIT WHEN NOT (renewing OR r.settled);
        last_given := r.outbox_offset;
        outbox_offset := r.outbox_offset;
        stream_table := r.stream_table;
        refresh_id := r.refresh_id;
        created_at := r.created_at;
        full_refresh := r.full_refresh;
        inserted := r.inserted;
        updated := r.updated;
        deleted := r.deleted;
        row_count := r.row_count;
        changes := r.changes;
        dedup_key_prefix := r.stream_table || ':' || r.outbox_offset || ':';
        lease_expires_at := expires;
        RETURN NEXT;
    END LOOP;
    IF renewing THEN
        UPDATE pgtrickle.pgt_consumer_groups c SET lease_expires_at = expires WHERE c.group_name = g.group_name;
    ELSIF last_given IS NOT NULL THEN
        UPDATE pgtrickle.pgt_consumer_groups c
           SET lease_consumer = poll_outbox.consumer, lease_last_offset = last_given, lease_expires_at = expires
         WHERE c.group_name = g.group_name;
    ELSIF g.lease_consumer IS NOT NULL THEN
        UPDATE pgtrickle.pgt_consumer_groups c
           SET lease_consumer = NULL, lease_last_offset = NULL, lease_expires_at = NULL
         WHERE c.group_name = g.group_name;
    END IF;
    PERFORM pgtrickle._consumer_seen(g.group_name, poll_outbox.consumer, true);
END $$;

-- Raises unless `consumer` holds the group's lease and it has not expired; `what` names the action.
CREATE FUNCTION pgtrickle._require_live_lease(g pgtrickle.pgt_consumer_groups, consumer text, what text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF g.lease_consumer IS NULL THEN
        RAISE EXCEPTION 'cannot %: consumer "%" holds no lease on consumer group "%"', what, consumer, g.group_name
            USING ERRCODE = '55000',
            HINT = 'nothing is leased (the lease was committed, or released by seek_offset); poll_outbox again: '
                || 'only entries it gave you, while your lease is live, can be committed';
    ELSIF g.lease_consumer <> consumer THEN
        RAISE EXCEPTION 'cannot %: the lease on consumer group "%" is held by consumer "%" (until %), not by "%"',
            what, g.group_name, g.lease_consumer, g.lease_expires_at, consumer
            USING ERRCODE = '55000',
            HINT = 'your lease expired and its entries were offered again; poll_outbox again, and extend_lease '
                || 'while a batch takes longer than visibility_seconds';
    ELSIF g.lease_expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'cannot %: the lease of consumer "%" on consumer group "%" expired at %',
            what, consumer, g.group_name, g.lease_expires_at
            USING ERRCODE = '55000',
            HINT = 'poll_outbox again (the entries after offset ' || g.committed_offset || ' are offered again), '
                || 'and extend_lease while a batch takes longer than visibility_seconds';
    END IF;
END $$;

-- Marks every entry up to last_offset done for the group. Monotonic: backwards is refused (seek_offset
-- is the way back); committing the offset already committed is a no-op (a retried commit). The
-- consumer's live lease must cover last_offset; committing all of it releases the lease, part of it
-- keeps the rest leased to the same consumer.
CREATE FUNCTION pgtrickle.commit_offset("group" text, consumer text, last_offset bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    g pgtrickle.pgt_consumer_groups := pgtrickle._require_consumer_group(commit_offset."group");
BEGIN
    PERFORM pgtrickle._check_consumer(consumer);
    IF last_offset IS NULL THEN
        RAISE EXCEPTION 'last_offset must not be NULL' USING ERRCODE = '22023',
            HINT = 'pass the outbox_offset of the last entry you processed';
    END IF;
    SELECT * INTO g FROM pgtrickle.pgt_consumer_groups c WHERE c.group_name = g.group_name FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM pgtrickle._require_consumer_group(commit_offset."group");
    END IF;
    IF last_offset < g.committed_offset THEN
        RAISE EXCEPTION 'commit_offset would move consumer group "%" back from offset % to %', g.group_name,
            g.committed_offset, last_offset USING ERRCODE = '22023',
            HINT = 'committed offsets only move forward; to replay, SELECT pgtrickle.seek_offset('
                || quote_literal(g.group_name) || ', ' || last_offset || ')';
    END IF;
    IF last_offset = g.committed_offset THEN
        PERFORM pgtrickle._consumer_seen(g.group_name, consumer, false);
        RETURN;
    END IF;
    PERFORM pgtrickle._require_live_lease(g, consumer, 'commit offset ' || last_offset);
    IF last_offset > g.lease_last_offset THEN
        RAISE EXCEPTION 'cannot commit offset %: consumer "%" was given entries of consumer group "%" up to offset % only',
            last_offset, consumer, g.group_name, g.lease_last_offset USING ERRCODE = '22023',
            HINT = 'commit at most ' || g.lease_last_offset || ' (the last outbox_offset poll_outbox returned), then poll for more';
    END IF;
    UPDATE pgtrickle.pgt_consumer_groups c
       SET committed_offset = last_offset, committed_at = clock_timestamp(),
           lease_consumer = CASE WHEN last_offset < c.lease_last_offset THEN c.lease_consumer END,
           lease_last_offset = CASE WHEN last_offset < c.lease_last_offset THEN c.lease_last_offset END,
           lease_expires_at = CASE WHEN last_offset < c.lease_last_offset THEN c.lease_expires_at END
     WHERE c.group_name = g.group_name;
    PERFORM pgtrickle._consumer_seen(g.group_name, consumer, false);
END $$;

-- Moves the group's committed offset anywhere between just before the oldest entry retained and
-- the newest entry: the way back for a replay, or forward to skip. Releases the lease.
CREATE FUNCTION pgtrickle.seek_offset("group" text, "offset" bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    g pgtrickle.pgt_consumer_groups := pgtrickle._require_consumer_group(seek_offset."group");
    earliest bigint;
    latest bigint;
    outbox text;
BEGIN
    IF seek_offset."offset" IS NULL THEN
        RAISE EXCEPTION 'offset must not be NULL' USING ERRCODE = '22023',
            HINT = 'the group resumes with the first entry after the offset given';
    END IF;
    -- FOR UPDATE waits for a retention pass (FOR KEY SHARE) reading this group, so what is retained
    -- below is what stays.
    SELECT * INTO g FROM pgtrickle.pgt_consumer_groups c WHERE c.group_name = g.group_name FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM pgtrickle._require_consumer_group(seek_offset."group");
    END IF;
    earliest := pgtrickle._outbox_earliest(g.pgt_id);
    latest := pgtrickle._outbox_latest(g.pgt_id);
    SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) INTO outbox
      FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = g.pgt_id;
    IF seek_offset."offset" < earliest THEN
        RAISE EXCEPTION 'cannot seek consumer group "%" to offset %: the outbox of % retains entries after offset % only',
            g.group_name, seek_offset."offset", outbox, earliest USING ERRCODE = '22023',
            HINT = 'seek to ' || earliest || ' or later (the earliest available: it replays from the oldest entry retained)';
    END IF;
    IF seek_offset."offset" > latest THEN
        RAISE EXCEPTION 'cannot seek consumer group "%" to offset %: the newest entry of the outbox of % is offset %',
            g.group_name, seek_offset."offset", outbox, latest USING ERRCODE = '22023',
            HINT = 'seek to at most ' || latest || ' (that skips every entry written so far)';
    END IF;
    UPDATE pgtrickle.pgt_consumer_groups c
       SET committed_offset = seek_offset."offset", committed_at = clock_timestamp(),
           lease_consumer = NULL, lease_last_offset = NULL, lease_expires_at = NULL
     WHERE c.group_name = g.group_name;
END $$;

-- Keeps the consumer's live lease for visibility_seconds from now; returns the new expiry.
CREATE FUNCTION pgtrickle.extend_lease("group" text, consumer text, visibility_seconds integer DEFAULT 30)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    g pgtrickle.pgt_consumer_groups := pgtrickle._require_consumer_group(extend_lease."group");
    expires timestamptz;
BEGIN
    PERFORM pgtrickle._check_consumer(consumer);
    PERFORM pgtrickle._check_visibility(visibility_seconds);
    SELECT * INTO g FROM pgtrickle.pgt_consumer_groups c WHERE c.group_name = g.group_name FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM pgtrickle._require_consumer_group(extend_lease."group");
    END IF;
    PERFORM pgtrickle._require_live_lease(g, consumer, 'extend the lease');
    expires := clock_timestamp() + make_interval(secs => visibility_seconds);
    UPDATE pgtrickle.pgt_consumer_groups c SET lease_expires_at = expires WHERE c.group_name = g.group_name;
    PERFORM pgtrickle._consumer_seen(g.group_name, consumer, false);
    RETURN expires;
END $$;

-- The member is alive (a poll and a commit say so too). It does not extend a lease.
CREATE FUNCTION pgtrickle.consumer_heartbeat("group" text, consumer text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    g pgtrickle.pgt_consumer_groups := pgtrickle._require_consumer_group(consumer_heartbeat."group");
BEGIN
    PERFORM pgtrickle._check_consumer(consumer);
    PERFORM pgtrickle._consumer_seen(g.group_name, consumer, false);
END $$;

-- Every group with its position, backlog, lease, members and state. BEHIND: its oldest pending entry
-- is older than half the outbox's retention. DEAD: entries wait and no member has polled, committed
-- or sent a heartbeat for _consumer_dead_after() (counted from the group's creation if none ever did).
CREATE FUNCTION pgtrickle._consumer_group_report()
RETURNS TABLE (group_name text, pgt_id bigint, outbox text, retention_hours integer, committed_offset bigint,
               committed_at timestamptz, newest_offset bigint, entries_pending bigint, changes_pending bigint,
               oldest_pending_at timestamptz, lease_consumer text, lease_last_offset bigint,
               lease_expires_at timestamptz, last_heartbeat_at timestamptz, consumers jsonb, state text)
LANGUAGE sql STABLE AS $$
    SELECT g.group_name, g.pgt_id, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name), c.retention_hours,
           g.committed_offset, g.committed_at, coalesce(greatest(n.newest, w.removed_through), 0),
           p.entries, p.changes, p.oldest, g.lease_consumer, g.lease_last_offset, g.lease_expires_at,
           m.last_seen, coalesce(m.consumers, '[]'::jsonb),
           CASE WHEN p.entries > 0
                 AND greatest(g.created_at, m.last_seen) < clock_timestamp() - pgtrickle._consumer_dead_after() THEN 'DEAD'
                WHEN p.oldest < clock_timestamp() - make_interval(hours => c.retention_hours) / 2 THEN 'BEHIND'
                ELSE 'OK' END
      FROM pgtrickle.pgt_consumer_groups g
      JOIN pgtrickle.pgt_outbox_config c ON c.pgt_id = g.pgt_id
      JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = g.pgt_id
      LEFT JOIN pgtrickle.pgt_outbox_retention w ON w.pgt_id = g.pgt_id
     CROSS JOIN LATERAL (SELECT max(o.outbox_offset) AS newest FROM pgtrickle.pgt_outbox o WHERE o.pgt_id = g.pgt_id) n
     CROSS JOIN LATERAL (SELECT count(*) AS entries, coalesce(sum(o.row_count), 0)::bigint AS changes,
                                min(o.created_at) AS oldest
                           FROM pgtrickle.pgt_outbox o
                          WHERE o.pgt_id = g.pgt_id AND o.outbox_offset > g.committed_offset) p
     CROSS JOIN LATERAL (SELECT max(x.last_seen_at) AS last_seen,
                                jsonb_agg(jsonb_build_object('consumer', x.consumer, 'first_seen_at', x.first_seen_at,
                                                             'last_seen_at', x.last_seen_at, 'last_poll_at', x.last_poll_at)
                                          ORDER BY x.consumer) AS consumers
                           FROM pgtrickle.pgt_consumer_group_members x WHERE x.group_name = g.group_name) m
$$;

-- One row for the group: where it stands, what waits for it, who holds the lease (expired when
-- lease_expires_at has passed: the next poll re-offers it), its members with their last heartbeat.
CREATE FUNCTION pgtrickle.consumer_lag("group" text)
RETURNS TABLE (group_name text, outbox text, committed_offset bigint, newest_offset bigint, entries_pending bigint,
               changes_pending bigint, oldest_pending_at timestamptz, oldest_pending_age interval,
               lease_consumer text, lease_last_offset bigint, lease_expires_at timestamptz, consumers jsonb, state text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM pgtrickle._require_consumer_group(consumer_lag."group");
    RETURN QUERY
    SELECT r.group_name, r.outbox, r.committed_offset, r.newest_offset, r.entries_pending, r.changes_pending,
           r.oldest_pending_at, clock_timestamp() - r.oldest_pending_at, r.lease_consumer, r.lease_last_offset,
           r.lease_expires_at, r.consumers, r.state
      FROM pgtrickle._consumer_group_report() r
     WHERE r.group_name = consumer_lag."group";
END $$;

-- Deletes the outbox entries older than their outbox's retention and committed by every group
-- reading it (all of those older than the retention when no group does); their side-table rows go
-- with them. Removes at most max_rows entries per outbox per call; returns how many it removed.
CREATE FUNCTION pgtrickle._apply_outbox_retention(max_rows integer DEFAULT 10000)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c record;
    g record;
    bound bigint;
    has_groups boolean;
    n bigint;
    top bigint;
    total bigint := 0;
BEGIN
    FOR c IN SELECT x.pgt_id, x.retention_hours FROM pgtrickle.pgt_outbox_config x ORDER BY x.pgt_id LOOP
        bound := NULL;
        has_groups := false;
        -- FOR KEY SHARE: a seek back waits until this transaction ends; commits (forward only) do not.
        FOR g IN SELECT x.committed_offset FROM pgtrickle.pgt_consumer_groups x WHERE x.pgt_id = c.pgt_id FOR KEY SHARE LOOP
            has_groups := true;
            bound := least(bound, g.committed_offset);
        END LOOP;
        WITH gone AS (
            DELETE FROM pgtrickle.pgt_outbox o
             WHERE o.outbox_offset IN (
                   SELECT y.outbox_offset FROM pgtrickle.pgt_outbox y
                    WHERE y.pgt_id = c.pgt_id
                      AND y.created_at < clock_timestamp() - make_interval(hours => c.retention_hours)
                      AND (NOT has_groups OR y.outbox_offset <= bound)
                    ORDER BY y.outbox_offset LIMIT max_rows)
            RETURNING o.outbox_offset)
        SELECT count(*), max(gone.outbox_offset) INTO n, top FROM gone;
        IF n > 0 THEN
            INSERT INTO pgtrickle.pgt_outbox_retention AS r (pgt_id, removed_through, rows_removed, last_removed_at)
            VALUES (c.pgt_id, top, n, clock_timestamp())
            ON CONFLICT (pgt_id) DO UPDATE
               SET removed_through = greatest(r.removed_through, excluded.removed_through),
                   rows_removed = r.rows_removed + excluded.rows_removed, last_removed_at = excluded.last_removed_at;
            total := total + n;
        END IF;
    END LOOP;
    RETURN total;
END $$;

-- V15's disable_outbox, refusing an outbox that groups read unless "cascade" (then they go too).
DROP FUNCTION pgtrickle.disable_outbox(text, boolean);
CREATE FUNCTION pgtrickle.disable_outbox(name text, if_exists boolean DEFAULT false, "cascade" boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    canonical text := pgtrickle._canonical_name(name);
    id bigint := pgtrickle._stream_table_id(canonical);
    groups text;
BEGIN
    IF id IS NULL OR NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id) THEN
        IF if_exists THEN
            RAISE NOTICE 'stream table % has no outbox, skipping', canonical;
            RETURN;
        END IF;
        PERFORM pgtrickle._outbox_stream_table(name, true);
    END IF;
    -- Locks out a concurrent create_consumer_group (its foreign key check) until this one ends.
    PERFORM 1 FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id FOR UPDATE;
    IF NOT disable_outbox."cascade" THEN
        SELECT string_agg('"' || g.group_name || '"', ', ' ORDER BY g.group_name) INTO groups
          FROM pgtrickle.pgt_consumer_groups g WHERE g.pgt_id = id;
        IF groups IS NOT NULL THEN
            RAISE EXCEPTION 'cannot disable the outbox of %: consumer groups % read it', canonical, groups
                USING ERRCODE = '2BP01',
                HINT = 'drop them first with pgtrickle.drop_consumer_group, or pass "cascade" => true to drop them with the outbox';
        END IF;
    END IF;
    DELETE FROM pgtrickle.pgt_outbox_config c WHERE c.pgt_id = id;
END $$;

-- V15's outbox_status with the groups reading the outbox (consumer_groups: a jsonb array, one
-- object per group by name).
DROP FUNCTION pgtrickle.outbox_status(text);
CREATE FUNCTION pgtrickle.outbox_status(name text)
RETURNS TABLE (stream_table text, retention_hours integer, inline_threshold_rows integer, enabled_at timestamptz,
               entries bigint, changes bigint, first_offset bigint, last_offset bigint,
               oldest_at timestamptz, newest_at timestamptz, consumer_groups jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    id bigint := pgtrickle._outbox_stream_table(name, true);
BEGIN
    RETURN QUERY
    SELECT pgtrickle._canonical_name(name), c.retention_hours, c.inline_threshold_rows, c.enabled_at,
           count(o.outbox_offset), coalesce(sum(o.row_count), 0)::bigint, min(o.outbox_offset), max(o.outbox_offset),
           min(o.created_at), max(o.created_at),
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'group', r.group_name, 'committed_offset', r.committed_offset,
                       'entries_pending', r.entries_pending, 'changes_pending', r.changes_pending,
                       'oldest_pending_at', r.oldest_pending_at, 'lease_consumer', r.lease_consumer,
                       'lease_expires_at', r.lease_expires_at, 'last_heartbeat_at', r.last_heartbeat_at,
                       'state', r.state) ORDER BY r.group_name), '[]'::jsonb)
              FROM pgtrickle._consumer_group_report() r WHERE r.pgt_id = id)
      FROM pgtrickle.pgt_outbox_config c LEFT JOIN pgtrickle.pgt_outbox o ON o.pgt_id = c.pgt_id
     WHERE c.pgt_id = id
     GROUP BY c.retention_hours, c.inline_threshold_rows, c.enabled_at;
END $$;

-- V10's health_check, unchanged, plus consumer groups that are DEAD or BEHIND.
CREATE OR REPLACE FUNCTION pgtrickle.health_check()
RETURNS TABLE (check_name text, severity text, detail text)
LANGUAGE sql STABLE AS $$
    WITH st AS (
        SELECT s.*, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) AS name
          FROM pgtrickle.pgt_stream_tables s
    ), latest_request AS (
        SELECT DISTINCT ON (r.pgt_name) r.*
          FROM pgtrickle.pgt_requests r
         WHERE r.requested_at > clock_timestamp() - interval '1 day'
         ORDER BY r.pgt_name, r.request_id DESC
    ), findings AS (
        SELECT 'engine_running' AS check_name, 'WARNING' AS severity,
               'no pg_trickle engine holds this database: requests wait and nothing refreshes on schedule'
                   || ' (start one with: pgtrickle run)' AS detail
         WHERE NOT EXISTS (SELECT 1 FROM pg_locks
                            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database
                                                                         WHERE datname = current_database())
                              AND classid = 1346851842 AND objid = 2 AND objsubid = 2 AND granted)
        UNION ALL
        SELECT 'suspended', 'ERROR',
               name || ' is suspended and not refreshed'
                   || CASE WHEN consecutive_errors > 0 THEN ' after ' || consecutive_errors || ' failed refresh(es)' ELSE '' END
                   || coalesce('; last error: ' || last_error, '')
                   || ' (fix the cause, then resume it: SELECT pgtrickle.alter_stream_table(' || quote_literal(name)
                   || ', status => ''ACTIVE''))'
          FROM st WHERE status = 'SUSPENDED'
        UNION ALL
        -- ERROR: a refresh failed (retried with back-off, suspended after repeated failures), or
        -- a source change broke the query (markBroken: no attempt counted).
        SELECT 'refresh_errors', 'ERROR',
               name || CASE WHEN consecutive_errors > 0
                            THEN ' failed its last ' || consecutive_errors || ' refresh(es)'
                            ELSE ' cannot be refreshed' END
                   || ': ' || coalesce(last_error, 'unknown error')
                   || ' (fix the cause; it is retried with back-off, or now with SELECT pgtrickle.refresh_stream_table('
                   || quote_literal(name) || '); alter_stream_table or create_or_replace_stream_table changes its query)'
          FROM st WHERE status = 'ERROR'
        UNION ALL
        SELECT 'never_populated', 'ERROR',
               name || ' has never been populated: no refresh has succeeded, so it is empty'
                   || ' (SELECT pgtrickle.refresh_stream_table(' || quote_literal(name) || ') populates it or names the error)'
          FROM st WHERE data_timestamp IS NULL AND status = 'ACTIVE'
        UNION ALL
        -- The newest request for a name failed (in the last day): nothing else tells the user,
        -- as the SQL functions return once the request is registered.
        SELECT 'failed_requests', CASE WHEN r.kind IN ('CREATE', 'CREATE_OR_REPLACE') THEN 'ERROR' ELSE 'WARNING' END,
               lower(r.kind) || ' of ' || r.pgt_name || ' (request ' || r.request_id || ') failed: '
                   || coalesce(r.error, 'unknown error')
                   || CASE r.kind
                          WHEN 'CREATE' THEN ' (the stream table was not created; fix the cause and call create_stream_table again)'
                          WHEN 'CREATE_OR_REPLACE' THEN ' (the stream table was not changed; fix the cause and call it again)'
                          WHEN 'ALTER' THEN ' (the stream table keeps its previous definition; fix the cause and alter it again)'
                          WHEN 'DROP' THEN ' (the stream table still exists; fix the cause and drop it again)'
                          ELSE ' (fix the cause and refresh it again)' END
          FROM latest_request r
         WHERE r.state = 'FAILED' AND r.completed_at > clock_timestamp() - interval '1 day'
           -- made good since: a later successful refresh, or the stream table created another way
           AND NOT (r.kind = 'REFRESH' AND EXISTS (SELECT 1 FROM st WHERE st.name = r.pgt_name
                                                       AND st.last_refresh_at > r.completed_at))
           AND NOT (r.kind = 'CREATE' AND EXISTS (SELECT 1 FROM st WHERE st.name = r.pgt_name
                                                      AND st.created_at > r.completed_at))
        UNION ALL
        SELECT 'stale', 'WARNING',
               name || ' is ' || date_trunc('second', clock_timestamp() - data_timestamp) || ' old, schedule ' || schedule
                   || ' (is the engine running and keeping up? see pgtrickle.refresh_timeline())'
          FROM st
         WHERE status = 'ACTIVE' AND schedule IS NOT NULL AND data_timestamp IS NOT NULL
           AND clock_timestamp() - data_timestamp >
               3 * greatest(interval '1 second', (SELECT sum(make_interval(secs =>
                       m[1]::numeric * CASE m[2] WHEN 'ms' THEN 0.001 WHEN 's' THEN 1 WHEN 'm' THEN 60
                                                WHEN 'h' THEN 3600 ELSE 86400 END))
                     FROM regexp_matches(schedule, '([0-9]+)(ms|s|m|h|d)', 'g') AS m))
        UNION ALL
        SELECT 'pending_requests', 'WARNING',
               count(*) || ' request(s) waiting for more than 10 seconds'
          FROM pgtrickle.pgt_requests WHERE state = 'PENDING' AND requested_at < clock_timestamp() - interval '10 seconds'
        HAVING count(*) > 0
        UNION ALL
        -- Retention keeps every entry a group has not committed, so a dead group makes its outbox grow.
        SELECT 'consumer_group_dead', 'ERROR',
               'consumer group "' || g.group_name || '" on the outbox of ' || g.outbox || ' is dead: '
                   || CASE WHEN g.last_heartbeat_at IS NULL THEN 'no member has ever polled or sent a heartbeat'
                           ELSE 'no member has polled or sent a heartbeat for '
                                || date_trunc('second', clock_timestamp() - g.last_heartbeat_at) END
                   || ' while ' || g.entries_pending || ' entr' || CASE WHEN g.entries_pending = 1 THEN 'y waits' ELSE 'ies wait' END
                   || ' after offset ' || g.committed_offset
                   || ', and retention keeps them (start a consumer for it, or drop the group: SELECT pgtrickle.drop_consumer_group('
                   || quote_literal(g.group_name) || '))'
          FROM pgtrickle._consumer_group_report() g WHERE g.state = 'DEAD'
        UNION ALL
        SELECT 'consumer_group_behind', 'WARNING',
               'consumer group "' || g.group_name || '" on the outbox of ' || g.outbox || ' is behind: its oldest pending entry is '
                   || date_trunc('second', clock_timestamp() - g.oldest_pending_at) || ' old, over half the retention of '
                   || g.retention_hours || ' hour(s), with ' || g.entries_pending || ' entries pending'
                   || ' (speed up or add consumers, see pgtrickle.consumer_lag(' || quote_literal(g.group_name)
                   || '); retention keeps what it has not committed, so the outbox grows meanwhile)'
          FROM pgtrickle._consumer_group_report() g WHERE g.state = 'BEHIND'
    )
    SELECT * FROM findings
    UNION ALL
    SELECT 'all', 'OK', 'no problems found' WHERE NOT EXISTS (SELECT 1 FROM findings)
$$;
