package io.pgtrickle.core.refresh;

import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The clock of a stream table whose query reads it (a sliding window, see
 * {@code io.pgtrickle.core.ivm.ClockFilter}): this refresh's instant — its transaction's
 * {@code now()}, which every statement of the refresh sees — and the previous refresh's, kept in
 * {@code pgtrickle.pgt_refresh_clock} with the session time zone it was read in.
 *
 * @param now this refresh's clock, as this session prints a timestamptz
 * @param timeZone this session's time zone
 * @param previous the previous refresh's clock, or null when none is recorded
 * @param previousTimeZone the time zone the previous refresh ran in, or null
 */
record RefreshClock(String now, String timeZone, String previous, String previousTimeZone) {

    /** Reads both instants in the refresh transaction. */
    static RefreshClock read(Connection tx, long id) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT now()::text, current_setting('TimeZone'), k.clock::text,"
                + " k.time_zone FROM (SELECT 1) __pgt_one LEFT JOIN pgtrickle.pgt_refresh_clock k ON k.pgt_id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new RefreshClock(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4));
            }
        }
    }

    /**
     * Why the rows that flipped since the previous refresh cannot be derived from the two instants,
     * or null. Under another time zone current_date, and the casts and day arithmetic of the
     * clock, mean other instants than the stored rows were computed with.
     */
    String recomputeReason() {
        if (previous == null) {
            return "the clock of the previous refresh is not recorded: a FULL refresh records it";
        }
        if (!timeZone.equals(previousTimeZone)) {
            return "the session time zone changed (" + previousTimeZone + " -> " + timeZone + ") since the previous"
                    + " refresh: the clock's dates and casts moved with it";
        }
        return null;
    }

    /** Records this transaction's clock as the stream table's latest refresh clock. */
    static void record(Connection tx, long id) throws SQLException {
        Jdbc.update(tx, "INSERT INTO pgtrickle.pgt_refresh_clock (pgt_id, clock, time_zone) VALUES (?, now(),"
                + " current_setting('TimeZone')) ON CONFLICT (pgt_id) DO UPDATE SET clock = EXCLUDED.clock,"
                + " time_zone = EXCLUDED.time_zone", id);
    }

    /** The stream table no longer reads the clock (redefined): it may be confirmed idle again. */
    static void forget(Connection tx, long id) throws SQLException {
        Jdbc.update(tx, "DELETE FROM pgtrickle.pgt_refresh_clock WHERE pgt_id = ?", id);
    }
}
