package io.pgtrickle.core.immediate;

import io.pgtrickle.core.ivm.IvmPlan;
import io.pgtrickle.core.ivm.SelectPlan;

/**
 * How the IMMEDIATE triggers of one stream table serialise concurrent writers, through its rows of
 * {@code pgtrickle.pgt_immediate_writes}: a writer UPDATEs the rows it needs, in bucket order.
 * Under READ COMMITTED a second writer of the same row waits for the first to commit, and its
 * next statement sees the first's changes; under REPEATABLE READ and SERIALIZABLE PostgreSQL's
 * first-updater-wins rule fails a writer whose snapshot missed the first with a serialization
 * error, whatever the isolation of the first.
 *
 * <p><b>By key</b>, for a plan over one table with no join or subquery (a filter, a projection, a
 * function in FROM, a grouping, an aggregate): its delta is a function of the writer's own rows,
 * and it reads what is stored only for the keys those rows produce (the content hash of an output
 * row, the hash of a group). Two writers interfere only when they produce a common key, so each
 * locks the buckets of its keys ({@link #BUCKETS} per stream table) after computing them and
 * before reading what is stored: writers of different keys go on in parallel (a rare collision
 * of buckets makes them wait, never wrong). A TRUNCATE locks every bucket.
 *
 * <p><b>As a whole</b> (bucket 0) for every other plan: a join's delta for one writer's rows reads
 * the other tables, where a concurrent writer's rows must be seen.
 */
public final class WriterLocks {
    /** Buckets per stream table locked by key: collisions stay rare for a few concurrent writers. */
    static final int BUCKETS = 1024;

    private final long id;
    private final boolean byKey;

    private WriterLocks(long id, boolean byKey) {
        this.id = id;
        this.byKey = byKey;
    }

    /** The locks of stream table {@code id} maintained by {@code plan}. */
    public static WriterLocks of(long id, IvmPlan plan) {
        return new WriterLocks(id, keyedByOwnRows(plan));
    }

    /** Whether the writers of {@code plan} lock by key (see the class comment). */
    static boolean keyedByOwnRows(IvmPlan plan) {
        // set operations, top-k, recursion, grouping sets: as a whole
        return plan instanceof SelectPlan s && s.readsOnlyTheChangedRows();
    }

    boolean byKey() {
        return byKey;
    }

    /** Creates the rows the locks update (none already there is fine). */
    String installSql() {
        int buckets = byKey ? BUCKETS : 1;
        return "INSERT INTO pgtrickle.pgt_immediate_writes (pgt_id, bucket) SELECT " + id + ", b FROM generate_series(0, "
                + (buckets - 1) + ") b ON CONFLICT DO NOTHING";
    }

    /**
     * The PL/pgSQL at the start of every trigger run: the whole stream table for a plan locked as a
     * whole; for one locked by key, every bucket on a TRUNCATE (the others lock their keys later).
     */
    String onEntry() {
        return byKey ? "IF TG_OP = 'TRUNCATE' THEN " + wholeTableSql() + " END IF;" : wholeTableSql();
    }

    /** The PL/pgSQL statement locking the stream table as a whole (every bucket, for one locked by key). */
    String wholeTableSql() {
        if (!byKey) {
            return "UPDATE pgtrickle.pgt_immediate_writes SET writes = writes + 1 WHERE pgt_id = " + id + " AND bucket = 0;";
        }
        return lockSql("SELECT bucket FROM pgtrickle.pgt_immediate_writes WHERE pgt_id = " + id) + ";";
    }

    /**
     * The statement locking the buckets of the key hashes {@code keysSql} returns (one uuid
     * column), or {@code null} when this stream table is locked as a whole.
     */
    String keyLockSql(String keysSql) {
        return byKey ? lockSql("SELECT hashtext(__pgt_q.k::text) & " + (BUCKETS - 1) + " FROM (" + keysSql + ") __pgt_q(k)")
                : null;
    }

    /** Locks (FOR UPDATE, sorted: no deadlock between writers) then updates the buckets {@code bucketsSql} selects. */
    private String lockSql(String bucketsSql) {
        String table = "pgtrickle.pgt_immediate_writes";
        return "WITH __pgt_l AS MATERIALIZED (SELECT bucket FROM " + table + " WHERE pgt_id = " + id + " AND bucket IN ("
                + bucketsSql + ") ORDER BY bucket FOR UPDATE) UPDATE " + table + " __pgt_w SET writes = __pgt_w.writes + 1"
                + " FROM __pgt_l WHERE __pgt_w.pgt_id = " + id + " AND __pgt_w.bucket = __pgt_l.bucket";
    }
}
