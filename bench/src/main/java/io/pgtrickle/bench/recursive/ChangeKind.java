package io.pgtrickle.bench.recursive;

import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * One kind of change to the departments: a statement with bound values per round, the node it
 * changes, how many rows of the query it reaches (the node's subtree), and what the differential
 * refresh should then insert and delete (a rename or a move rewrites the paths of the subtree).
 */
record ChangeKind(String label, int node, long subtree, long expectedInserted, long expectedDeleted, String sql,
                  IntFunction<List<Object>> parameters) {
    static final String TABLE = "recursive_bench_departments";

    /** Renames {@code node} to a name of its own per round. */
    static ChangeKind rename(String label, int node, long subtree) {
        return new ChangeKind(label, node, subtree, subtree, subtree, "UPDATE " + TABLE + " SET name = ? WHERE id = ?",
                round -> List.of("d" + node + "-r" + round, node));
    }

    /** Moves {@code node} under {@code other} in even rounds and back under {@code parent} in odd ones. */
    static ChangeKind move(String label, int node, long subtree, int parent, int other) {
        return new ChangeKind(label, node, subtree, subtree, subtree, "UPDATE " + TABLE + " SET parent_id = ? WHERE id = ?",
                round -> List.of(round % 2 == 0 ? other : parent, node));
    }

    /** Inserts the leaf {@code node} under {@code parent}. */
    static ChangeKind insert(String label, int node, int parent) {
        return new ChangeKind(label, node, 1, 1, 0, "INSERT INTO " + TABLE + " (id, name, parent_id) VALUES (?, ?, ?)",
                round -> List.of(node, "d" + node, parent));
    }

    /** Deletes the leaf {@code node}. */
    static ChangeKind delete(String label, int node) {
        return new ChangeKind(label, node, 1, 0, 1, "DELETE FROM " + TABLE + " WHERE id = ?", round -> List.of(node));
    }

    /**
     * The change kinds over {@code tree}, in the order a round applies them. The leaf inserted is
     * the one deleted next, and the moved subtree goes back and forth between siblings, so the
     * subtree each change reaches is the same every round.
     */
    static List<ChangeKind> of(DepartmentTree tree) {
        int f = tree.fanout();
        int leaf = tree.leaf();
        int medium = tree.closestSubtree(pow(f, 3));
        int large = tree.closestSubtree(pow(f, 5));
        DepartmentTree.Move moved = tree.move(pow(f, 4), Set.copyOf(List.of(medium, large)));
        int chainEnd = tree.chainNode(5);
        return List.of(
                rename("rename leaf", leaf, tree.subtree(leaf)),
                rename("rename subtree ~F^3", medium, tree.subtree(medium)),
                rename("rename subtree ~F^5", large, tree.subtree(large)),
                insert("insert leaf", tree.freeId(), tree.parent(leaf)),
                delete("delete leaf", tree.freeId()),
                move("move subtree ~F^4", moved.node(), tree.subtree(moved.node()), moved.from(), moved.to()),
                rename("rename chain top", tree.chainTop(), tree.chainDepth()),
                rename("rename chain end", chainEnd, 5));
    }

    private static long pow(int base, int exponent) {
        long r = 1;
        for (int i = 0; i < exponent; i++) {
            r *= base;
        }
        return r;
    }
}
