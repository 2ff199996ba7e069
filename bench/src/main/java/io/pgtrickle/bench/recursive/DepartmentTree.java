package io.pgtrickle.bench.recursive;

import java.util.Set;
import java.util.function.IntPredicate;

/**
 * The shape of the benchmark's departments: a complete {@code fanout}-ary tree of ids
 * {@code 1..nodes} in heap order (node 1 the root, the children of p are
 * {@code (p-1)·F+2 .. p·F+1}, so the parent of g ≥ 2 is {@code (g+F-2)/F}), and a chain of ids
 * {@code nodes+1 .. nodes+chainDepth} whose first node is a second root. The heap order keeps
 * every id in the tree; {@code g / F} as parent would leave nodes 2..F-1 under a missing node 0.
 * Subtree sizes are computed once, to pick the changed nodes and to print what each change reaches.
 */
final class DepartmentTree {
    private final int nodes;
    private final int fanout;
    private final int chainDepth;
    private final int[] subtree;

    DepartmentTree(RecursiveOptions options) {
        this.nodes = options.nodes();
        this.fanout = options.fanout();
        this.chainDepth = options.chainDepth();
        subtree = new int[nodes + 1];
        for (int g = nodes; g >= 1; g--) {
            subtree[g] += 1;
            if (g > 1) {
                subtree[parent(g)] += subtree[g];
            }
        }
    }

    int nodes() {
        return nodes;
    }

    int fanout() {
        return fanout;
    }

    int chainDepth() {
        return chainDepth;
    }

    /** The parent of tree node {@code g ≥ 2}. */
    int parent(int g) {
        return (g + fanout - 2) / fanout;
    }

    /** Nodes in the subtree of tree node {@code g}, itself included. */
    int subtree(int g) {
        return subtree[g];
    }

    /** The tree's last node: always a leaf, below the deepest level's parent. */
    int leaf() {
        return nodes;
    }

    /** The non-root node whose subtree size is closest to {@code target} (the lowest id of equals). */
    int closestSubtree(long target) {
        return closestSubtree(target, g -> true);
    }

    private int closestSubtree(long target, IntPredicate allowed) {
        int best = -1;
        for (int g = 2; g <= nodes; g++) {
            if (allowed.test(g) && (best < 0 || Math.abs(subtree[g] - target) < Math.abs(subtree[best] - target))) {
                best = g;
            }
        }
        return best;
    }

    /** Moving {@code node}'s subtree from under {@code from} to under {@code to}. */
    record Move(int node, int from, int to) {
    }

    /**
     * A subtree to move back and forth, its size closest to {@code target}, such that no subtree
     * rooted at a node of {@code fixed} changes size: the other parent is a sibling of the old one
     * (they share every ancestor), or, under the root, a sibling of the moved node; neither is in
     * {@code fixed}.
     */
    Move move(long target, Set<Integer> fixed) {
        int node = closestSubtree(target, g -> otherParent(g, fixed) > 0 && !fixed.contains(parent(g)));
        if (node < 0) {
            throw new IllegalArgumentException("no subtree of the tree can move without resizing the renamed ones");
        }
        return new Move(node, parent(node), otherParent(node, fixed));
    }

    /** A new parent for {@code g} on the level of its parent and sharing its ancestors, or -1. */
    private int otherParent(int g, Set<Integer> fixed) {
        int p = parent(g);
        int of = p == 1 ? g : p;
        int first = (parent(of) - 1) * fanout + 2;
        for (int s = first; s < first + fanout && s <= nodes; s++) {
            if (s != of && !fixed.contains(s)) {
                return s;
            }
        }
        return -1;
    }

    /** The chain's first node (the second root) and the ids after it. */
    int chainTop() {
        return nodes + 1;
    }

    /** The chain node with {@code below} nodes in its subtree, itself included. */
    int chainNode(int below) {
        return nodes + chainDepth - below + 1;
    }

    /** An id no node has: the leaf the benchmark inserts (and deletes again). */
    int freeId() {
        return nodes + chainDepth + 1;
    }

    /** Rows of the query: every node of the tree and of the chain reaches a root. */
    long rows() {
        return (long) nodes + chainDepth;
    }
}
