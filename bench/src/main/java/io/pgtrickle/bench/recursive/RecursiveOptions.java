package io.pgtrickle.bench.recursive;

/**
 * What {@code bench recursive} loads and how often it measures: a tree of {@code nodes} nodes with
 * {@code fanout} children per inner node, a separate chain {@code chainDepth} deep, and
 * {@code rounds} measured rounds (after one untimed round).
 */
public record RecursiveOptions(int nodes, int fanout, int chainDepth, int rounds) {
    public RecursiveOptions {
        if (fanout < 2) {
            throw new IllegalArgumentException("the fanout must be at least 2, got " + fanout);
        }
        // The picks need a leaf with a parent other than the root and a subtree to move.
        if (nodes < fanout + 2) {
            throw new IllegalArgumentException("the tree needs at least fanout + 2 nodes, got " + nodes);
        }
        // The change near the end of the chain renames the node five from its end.
        if (chainDepth < 10) {
            throw new IllegalArgumentException("the chain must be at least 10 deep, got " + chainDepth);
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("at least one round, got " + rounds);
        }
    }
}
