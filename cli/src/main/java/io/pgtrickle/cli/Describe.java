package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Short descriptions of a stream table shared by the commands' messages. */
final class Describe {
    private Describe() {
    }

    /** {@code AUTO -> FULL (why)}: the requested mode, the one refreshes use, and the reason. */
    static String mode(StreamTableRecord st) {
        String modes = st.refreshMode() == st.effectiveMode() ? st.refreshMode().name()
                : st.refreshMode() + " -> " + st.effectiveMode();
        return st.modeReason() == null ? modes : modes + " (" + st.modeReason() + ")";
    }

    /** {@code 1 row} / {@code 7 rows}: how many rows the stream table holds now. */
    static String rows(PgTrickleEngine engine, QualifiedName name) {
        try (Connection c = engine.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + name.quoted())) {
            rs.next();
            long n = rs.getLong(1);
            return n + (n == 1 ? " row" : " rows");
        } catch (SQLException e) {
            throw SqlErrors.translate("counting the rows of " + name, e);
        }
    }
}
