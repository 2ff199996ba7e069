package io.pgtrickle.core.ivm;

import java.util.function.Function;

/** The shape of a FROM clause: tables combined by inner joins (with their ON conditions as SQL text). */
sealed interface FromTree permits FromTree.Table, FromTree.Join {
    record Table(FromItem item) implements FromTree {
    }

    /** {@code condition} is null for a comma or CROSS JOIN. */
    record Join(FromTree left, FromTree right, String condition) implements FromTree {
    }

    /** The FROM clause with each table rendered by {@code render}. */
    default String render(Function<FromItem, String> render) {
        if (this instanceof Table t) {
            return render.apply(t.item());
        }
        Join j = (Join) this;
        String left = j.left().render(render);
        String right = j.right().render(render);
        return j.condition() == null ? left + " CROSS JOIN " + right
                : left + " JOIN " + right + " ON " + j.condition();
    }
}
