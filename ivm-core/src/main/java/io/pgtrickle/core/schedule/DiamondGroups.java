package io.pgtrickle.core.schedule;

import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The atomic diamonds' branch groups, from {@code pgtrickle.diamond_groups()}. */
final class DiamondGroups {
    private DiamondGroups() {
    }

    /** The member ids of every supported group whose sink asks for atomic consistency (cheap when none does). */
    static List<List<Long>> atomic(Connection c) throws SQLException {
        List<List<Long>> out = new ArrayList<>();
        // The function runs only when a sink asks for atomic (LATERAL of no outer row is not called).
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT g.member_ids FROM (SELECT 1 WHERE"
                + " EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables WHERE diamond_consistency = 'atomic')) x"
                + " CROSS JOIN LATERAL pgtrickle.diamond_groups() g WHERE g.consistency = 'atomic' AND g.supported")) {
            while (rs.next()) {
                Array ids = rs.getArray(1);
                out.add(Arrays.stream((Long[]) ids.getArray()).toList());
            }
        }
        return out;
    }
}
