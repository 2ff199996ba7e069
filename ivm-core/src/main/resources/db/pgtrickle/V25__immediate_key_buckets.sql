-- IMMEDIATE writers whose delta depends on their own rows' keys only (one source, no join) lock
-- the buckets of those keys, not the whole stream table: one row per (stream table, bucket). A
-- writer UPDATEs the rows of its buckets (in bucket order), so READ COMMITTED writers of the same
-- bucket wait for each other and REPEATABLE READ / SERIALIZABLE ones that missed a commit fail to
-- serialize (first updater wins). Other plans lock bucket 0, the stream table as a whole.
ALTER TABLE pgtrickle.pgt_immediate_writes ADD COLUMN bucket int NOT NULL DEFAULT 0;
ALTER TABLE pgtrickle.pgt_immediate_writes DROP CONSTRAINT pgt_immediate_writes_pkey;
ALTER TABLE pgtrickle.pgt_immediate_writes ADD PRIMARY KEY (pgt_id, bucket);
