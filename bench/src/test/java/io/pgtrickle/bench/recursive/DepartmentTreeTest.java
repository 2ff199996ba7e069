package io.pgtrickle.bench.recursive;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The tree's shape and the picked changes, against a brute-force count of each subtree. */
class DepartmentTreeTest {
    @Test
    void everyNodeIsInTheTreeAndSubtreesAreCounted() {
        DepartmentTree tree = new DepartmentTree(new RecursiveOptions(2000, 5, 50, 1));
        assertThat(tree.subtree(1)).isEqualTo(2000);
        assertThat(tree.parent(2)).isEqualTo(1);
        assertThat(tree.parent(6)).isEqualTo(1);
        assertThat(tree.parent(7)).isEqualTo(2);
        assertThat(tree.subtree(tree.leaf())).isEqualTo(1);
        int[] parents = parents(tree);
        for (int g = 1; g <= 2000; g++) {
            assertThat(tree.subtree(g)).as("node %d", g).isEqualTo(bruteForceSubtree(parents, g));
        }
        assertThat(tree.chainNode(5)).isEqualTo(2046);
        assertThat(tree.rows()).isEqualTo(2050);
    }

    @Test
    void theMoveResizesNoRenamedSubtreeEitherWay() {
        for (RecursiveOptions o : List.of(new RecursiveOptions(2000, 5, 50, 1), new RecursiveOptions(200_000, 5, 1500, 5),
                new RecursiveOptions(5000, 2, 10, 1), new RecursiveOptions(100, 10, 10, 1))) {
            DepartmentTree tree = new DepartmentTree(o);
            List<ChangeKind> kinds = ChangeKind.of(tree);
            assertThat(kinds).extracting(ChangeKind::label).containsExactly("rename leaf", "rename subtree ~F^3",
                    "rename subtree ~F^5", "insert leaf", "delete leaf", "move subtree ~F^4", "rename chain top",
                    "rename chain end");
            ChangeKind move = kinds.get(5);
            int[] parents = parents(tree);
            int to = (Integer) move.parameters().apply(0).get(0);
            assertThat(parents[move.node()]).isEqualTo((Integer) move.parameters().apply(1).get(0));
            parents[move.node()] = to;
            for (ChangeKind rename : List.of(kinds.get(1), kinds.get(2))) {
                assertThat(bruteForceSubtree(parents, rename.node())).as(o + " " + rename.label())
                        .isEqualTo(rename.subtree());
            }
            assertThat(bruteForceSubtree(parents, 1)).as("still one tree").isEqualTo(o.nodes());
        }
    }

    @Test
    void theDefaultTreeHasSubtreesNearThePowersOfTheFanout() {
        DepartmentTree tree = new DepartmentTree(new RecursiveOptions(200_000, 5, 1500, 5));
        List<ChangeKind> kinds = ChangeKind.of(tree);
        assertThat(kinds.get(1).subtree()).isBetween(100L, 160L);
        assertThat(kinds.get(2).subtree()).isBetween(2500L, 4000L);
        assertThat(kinds.get(5).subtree()).isBetween(500L, 800L);
        assertThat(kinds.get(6).subtree()).isEqualTo(1500);
    }

    private static int[] parents(DepartmentTree tree) {
        int[] parents = new int[tree.nodes() + 1];
        for (int g = 2; g <= tree.nodes(); g++) {
            parents[g] = tree.parent(g);
        }
        return parents;
    }

    private static int bruteForceSubtree(int[] parents, int root) {
        int n = 0;
        for (int g = 1; g < parents.length; g++) {
            int a = g;
            while (a != 0 && a != root) {
                a = parents[a];
            }
            if (a == root) {
                n++;
            }
        }
        return n;
    }
}
