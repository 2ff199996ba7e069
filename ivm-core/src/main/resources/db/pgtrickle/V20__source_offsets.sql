-- Where a consumer that fills inboxes (the relay's reverse pipelines, the sink connector) stands in
-- each part of its source: written in the same transaction as the events, so after a crash it
-- resumes exactly after what the inboxes hold. One row per (consumer, source partition), e.g.
-- ('default/orders-in', 'orders-3', '1041').
CREATE TABLE pgtrickle.pgt_source_offsets (
    consumer          text        NOT NULL CHECK (btrim(consumer) <> ''),
    source_partition  text        NOT NULL,
    source_position   text        NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, source_partition)
);
COMMENT ON TABLE pgtrickle.pgt_source_offsets IS
    'pg_trickle: the last source position each inbox consumer committed, per source partition';
