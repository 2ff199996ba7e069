package io.pgtrickle.core.ivm;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The shape of a FROM clause: items combined by joins (with their ON conditions as SQL text). */
sealed interface FromTree permits FromTree.Item, FromTree.Join {
    enum JoinKind { INNER, LEFT, RIGHT, FULL }

    record Item(FromItem item) implements FromTree {
    }

    /** {@code condition} is null for a comma or CROSS JOIN. */
    record Join(FromTree left, FromTree right, JoinKind kind, String condition) implements FromTree {
    }

    /**
     * One inner-join part of an outer join: its items (a side without a match stands as a row of
     * NULLs) and the predicates (NOT EXISTS of a match) that select the rows this part contributes.
     */
    record Branch(FromTree tree, List<String> predicates) {
    }

    default List<FromItem> items() {
        List<FromItem> out = new ArrayList<>();
        collect(out);
        return out;
    }

    private void collect(List<FromItem> out) {
        if (this instanceof Item i) {
            out.add(i.item());
        } else {
            ((Join) this).left().collect(out);
            ((Join) this).right().collect(out);
        }
    }

    default boolean hasOuterJoin() {
        return this instanceof Join j && (j.kind() != JoinKind.INNER || j.left().hasOuterJoin() || j.right().hasOuterJoin());
    }

    /** The FROM clause as written, with each item rendered by {@code render}. */
    default String render(Function<FromItem, String> render) {
        if (this instanceof Item i) {
            return render.apply(i.item());
        }
        Join j = (Join) this;
        String left = j.left().render(render);
        String right = j.right().render(render);
        if (j.condition() == null) {
            return left + " CROSS JOIN " + (j.right() instanceof Join ? "(" + right + ")" : right);
        }
        String keyword = switch (j.kind()) {
            case INNER -> " JOIN ";
            case LEFT -> " LEFT JOIN ";
            case RIGHT -> " RIGHT JOIN ";
            case FULL -> " FULL JOIN ";
        };
        return left + keyword + (j.right() instanceof Join ? "(" + right + ")" : right) + " ON " + j.condition();
    }

    /**
     * The outer joins spelled out as a union of inner joins (DESIGN §2.2: the inner-join delta plus
     * the NULL-padding transitions): {@code A LEFT JOIN B ON c} is {@code A JOIN B ON c} plus
     * {@code A × NULL-row(B)} where {@code NOT EXISTS (B where c)}. The predicates are ordinary
     * subquery predicates, differentiated like any other.
     */
    default List<Branch> innerBranches() {
        if (this instanceof Item) {
            return List.of(new Branch(this, List.of()));
        }
        Join j = (Join) this;
        List<Branch> out = new ArrayList<>();
        List<Branch> lefts = j.left().innerBranches();
        List<Branch> rights = j.right().innerBranches();
        for (Branch l : lefts) {
            for (Branch r : rights) {
                out.add(new Branch(new Join(l.tree(), r.tree(), JoinKind.INNER, j.condition()), concat(l.predicates(),
                        r.predicates(), null)));
            }
        }
        if (j.kind() == JoinKind.LEFT || j.kind() == JoinKind.FULL) {
            String unmatched = "NOT EXISTS (SELECT 1 FROM " + j.right().render(FromItem::current) + " WHERE " + j.condition() + ")";
            for (Branch l : lefts) {
                out.add(new Branch(new Join(l.tree(), j.right().nulled(), JoinKind.INNER, null),
                        concat(l.predicates(), List.of(), unmatched)));
            }
        }
        if (j.kind() == JoinKind.RIGHT || j.kind() == JoinKind.FULL) {
            String unmatched = "NOT EXISTS (SELECT 1 FROM " + j.left().render(FromItem::current) + " WHERE " + j.condition() + ")";
            for (Branch r : rights) {
                out.add(new Branch(new Join(j.left().nulled(), r.tree(), JoinKind.INNER, null),
                        concat(r.predicates(), List.of(), unmatched)));
            }
        }
        return out;
    }

    /** This side as one row of NULLs per item, cross joined. */
    private FromTree nulled() {
        if (this instanceof Item i) {
            return new Item(i.item().asNulled());
        }
        Join j = (Join) this;
        return new Join(j.left().nulled(), j.right().nulled(), JoinKind.INNER, null);
    }

    private static List<String> concat(List<String> a, List<String> b, String extra) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        if (extra != null) {
            out.add(extra);
        }
        return out;
    }
}
