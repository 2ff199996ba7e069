package io.pgtrickle.bench.immediate;

/**
 * What {@code bench immediate} loads and how often it measures: pgbench-like tables at
 * {@code scale} (100,000 accounts per unit, as {@code pgbench -i -s}; fractions allowed for toy
 * runs), {@code warmup} untimed and {@code statements} timed single-row UPDATEs per configuration,
 * their accounts and deltas drawn from {@code seed}.
 */
public record ImmediateOptions(double scale, int statements, int warmup, long seed) {
    /** Accounts per unit of scale, as pgbench has them. */
    public static final int ACCOUNTS_PER_BRANCH = 100_000;
    /** Tellers per branch, as pgbench has them. */
    public static final int TELLERS_PER_BRANCH = 10;

    public ImmediateOptions {
        if (!(scale > 0) || accounts(scale) < 100) {
            throw new IllegalArgumentException("the scale must give at least 100 accounts, got " + scale);
        }
        if (statements < 1) {
            throw new IllegalArgumentException("at least one measured statement, got " + statements);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("the warm-up cannot be negative, got " + warmup);
        }
    }

    private static long accounts(double scale) {
        return Math.round(scale * ACCOUNTS_PER_BRANCH);
    }

    /** Rows of {@code pgbench_accounts}: 100,000 per unit of scale. */
    public int accounts() {
        return Math.toIntExact(accounts(scale));
    }

    /** Rows of {@code pgbench_branches}: one per 100,000 accounts begun (pgbench: the scale). */
    public int branches() {
        return (accounts() + ACCOUNTS_PER_BRANCH - 1) / ACCOUNTS_PER_BRANCH;
    }

    /** Rows of {@code pgbench_tellers}: ten per branch. */
    public int tellers() {
        return branches() * TELLERS_PER_BRANCH;
    }
}
