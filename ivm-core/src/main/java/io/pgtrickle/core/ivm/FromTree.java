package io.pgtrickle.core.ivm;

import java.util.function.Function;

/** The shape of a FROM clause: tables combined by joins (with their ON conditions as SQL text). */
sealed interface FromTree permits FromTree.Table, FromTree.Join {
    enum JoinKind { INNER, LEFT, RIGHT }

    record Table(FromItem item) implements FromTree {
    }

    /** {@code condition} is null for a comma or CROSS JOIN. */
    record Join(FromTree left, FromTree right, JoinKind kind, String condition) implements FromTree {
    }

    /** Whether the tree holds the FROM item at {@code index}. */
    default boolean contains(int index) {
        return this instanceof Table t ? t.item().index() == index
                : ((Join) this).left().contains(index) || ((Join) this).right().contains(index);
    }

    default boolean hasOuterJoin() {
        return this instanceof Join j && (j.kind() != JoinKind.INNER || j.left().hasOuterJoin() || j.right().hasOuterJoin());
    }

    /** The FROM clause as written, with each table rendered by {@code render}. */
    default String render(Function<FromItem, String> render) {
        return render(render, -1);
    }

    /**
     * The FROM clause for finding what a change of FROM item {@code changed} touches: an outer join
     * whose null-supplying side holds the changed item becomes an inner join (an unmatched row on
     * that side reaches no output), while one whose preserved side holds it stays outer (its rows
     * count even without a match). With {@code changed} = -1, joins stay as written.
     */
    default String render(Function<FromItem, String> render, int changed) {
        if (this instanceof Table t) {
            return render.apply(t.item());
        }
        Join j = (Join) this;
        String left = j.left().render(render, changed);
        String right = j.right().render(render, changed);
        if (j.condition() == null) {
            return left + " CROSS JOIN " + right;
        }
        JoinKind kind = j.kind();
        if (changed >= 0 && (kind == JoinKind.LEFT && j.right().contains(changed)
                || kind == JoinKind.RIGHT && j.left().contains(changed))) {
            kind = JoinKind.INNER;
        }
        String keyword = switch (kind) {
            case INNER -> " JOIN ";
            case LEFT -> " LEFT JOIN ";
            case RIGHT -> " RIGHT JOIN ";
        };
        return left + keyword + right + " ON " + j.condition();
    }
}
