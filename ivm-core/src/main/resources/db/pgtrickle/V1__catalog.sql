-- The engine's catalog. Names follow pg_trickle's documentation so it reads true here.
CREATE SCHEMA IF NOT EXISTS pgtrickle;
CREATE SCHEMA IF NOT EXISTS pgtrickle_changes;

CREATE TABLE pgtrickle.pgt_stream_tables (
    pgt_id              bigserial PRIMARY KEY,
    pgt_schema          text        NOT NULL,
    pgt_name            text        NOT NULL,
    pgt_relid           oid         NOT NULL,
    defining_query      text        NOT NULL,
    schedule            text,                       -- NULL: CALCULATED
    refresh_mode        text        NOT NULL,       -- as requested: AUTO, FULL, DIFFERENTIAL
    effective_mode      text        NOT NULL,       -- what refreshes actually do: FULL, DIFFERENTIAL
    mode_reason         text,                       -- why effective_mode differs from a differential wish
    status              text        NOT NULL DEFAULT 'ACTIVE',
    consecutive_errors  integer     NOT NULL DEFAULT 0,
    last_error          text,
    last_error_at       timestamptz,
    next_attempt_at     timestamptz,                -- back-off after failures
    data_timestamp      timestamptz,                -- the moment the contents reflect
    last_refresh_at     timestamptz,
    frontier            pg_snapshot,                -- snapshot the contents were computed at
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (pgt_schema, pgt_name),
    CHECK (refresh_mode IN ('AUTO', 'FULL', 'DIFFERENTIAL')),
    CHECK (effective_mode IN ('FULL', 'DIFFERENTIAL')),
    CHECK (status IN ('ACTIVE', 'ERROR', 'SUSPENDED'))
);

CREATE TABLE pgtrickle.pgt_dependencies (
    pgt_id          bigint  NOT NULL REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    source_relid    oid     NOT NULL,
    source_schema   text    NOT NULL,
    source_name     text    NOT NULL,
    source_kind     text    NOT NULL,               -- TABLE, STREAM_TABLE, VIEW, MATERIALIZED_VIEW, FOREIGN_TABLE
    PRIMARY KEY (pgt_id, source_relid)
);
CREATE INDEX ON pgtrickle.pgt_dependencies (source_relid);

CREATE TABLE pgtrickle.pgt_refresh_history (
    refresh_id      bigserial   PRIMARY KEY,
    pgt_id          bigint      NOT NULL,           -- no foreign key: history outlives a dropped stream table
    pgt_schema      text        NOT NULL,
    pgt_name        text        NOT NULL,
    action          text        NOT NULL,           -- FULL, DIFFERENTIAL
    trigger         text        NOT NULL,           -- CREATE, ALTER, SCHEDULE, MANUAL
    status          text        NOT NULL,           -- SUCCESS, FAILED
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    rows_inserted   bigint,
    rows_deleted    bigint,
    error           text
);
CREATE INDEX ON pgtrickle.pgt_refresh_history (pgt_id, refresh_id);

-- Lifecycle requests made through the SQL functions; the engine carries them out.
CREATE TABLE pgtrickle.pgt_requests (
    request_id      bigserial   PRIMARY KEY,
    kind            text        NOT NULL,
    pgt_name        text        NOT NULL,
    args            jsonb       NOT NULL DEFAULT '{}',
    state           text        NOT NULL DEFAULT 'PENDING',
    error           text,
    requested_by    name        NOT NULL DEFAULT current_user,
    requested_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    completed_at    timestamptz,
    CHECK (kind IN ('CREATE', 'CREATE_OR_REPLACE', 'ALTER', 'DROP', 'REFRESH')),
    CHECK (state IN ('PENDING', 'RUNNING', 'DONE', 'FAILED'))
);
CREATE INDEX ON pgtrickle.pgt_requests (request_id) WHERE state IN ('PENDING', 'RUNNING');
