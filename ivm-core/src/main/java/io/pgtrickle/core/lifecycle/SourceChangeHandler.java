package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.capture.ChangeSources;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.query.SourceRelation;
import io.pgtrickle.core.sql.AdvisoryLocks;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reacts to schema changes and drops of tracked sources, which the event triggers record in
 * {@code pgtrickle.pgt_source_events}: each stream table reading the source is re-validated.
 * One whose query still works (and whose columns may have changed, e.g. {@code SELECT *} after
 * ADD COLUMN) is migrated and refilled; one whose query broke goes to ERROR with a message naming
 * the source and the change, and the scheduler retries it (and suspends it if it stays broken).
 * The others are not touched.
 *
 * <p>Views and user-defined functions a stream table depends on are recorded too: a replaced or
 * altered view, or a redefined function, makes each reader be planned again and refilled (a view
 * may now read other tables, or no longer have a delta rule); a dropped one puts its readers in
 * ERROR naming it.
 */
public final class SourceChangeHandler {
    private static final Logger log = LoggerFactory.getLogger(SourceChangeHandler.class);

    private final DataSource dataSource;
    private final Catalog catalog;
    private final StreamTables streamTables;
    private final ChangeSources changeSources;

    public SourceChangeHandler(DataSource dataSource, Catalog catalog, StreamTables streamTables,
                               ChangeSources changeSources) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.streamTables = streamTables;
        this.changeSources = changeSources;
    }

    private record Event(long id, long relid, String source, String command, String detail) {
        String describe() {
            return (aboutFunction() ? "function " : "source ") + source + " changed (" + command + ": " + detail + ")";
        }

        boolean aboutFunction() {
            return command.endsWith(" FUNCTION");
        }

        /** A view or function was redefined or altered: the readers are planned again and refilled. */
        boolean redefinition() {
            return Set.of("CREATE VIEW", "ALTER VIEW", "CREATE FUNCTION", "ALTER FUNCTION").contains(command);
        }

        boolean drop() {
            return command.startsWith("DROP ");
        }
    }

    /** Handles the events not handled yet; returns how many. */
    public int handlePending() throws SQLException {
        List<Event> events = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT event_id, source_relid::bigint, source, command, detail"
                     + " FROM pgtrickle.pgt_source_events WHERE NOT handled ORDER BY event_id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                events.add(new Event(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5)));
            }
        }
        for (Event e : events) {
            handle(e);
        }
        return events.size();
    }

    private void handle(Event e) throws SQLException {
        log.info("{}", e.describe());
        List<StreamTableRecord> readers;
        try (Connection c = dataSource.getConnection()) {
            readers = e.aboutFunction() ? catalog.readersOfFunction(c, e.relid()) : catalog.readersOf(c, e.relid());
            if (e.command().equals("DROP TABLE")) {
                AdvisoryLocks.withLifecycleLock(c, conn -> Jdbc.inTransaction(conn,
                        Connection.TRANSACTION_READ_COMMITTED, tx -> {
                            changeSources.forgetDropped(tx, e.relid());
                            return null;
                        }));
            }
        }
        for (StreamTableRecord reader : readers) {
            try {
                if (e.drop()) {
                    markBroken(reader, e.describe());
                } else if (e.redefinition() || isView(reader, e.relid())) {
                    streamTables.replan(reader.name());
                    log.info("stream table {} was planned again and refilled after {}", reader.name(), e.describe());
                } else if (streamTables.revalidate(reader.name())) {
                    log.info("stream table {} follows the change of its source {}", reader.name(), e.source());
                }
            } catch (PgTrickleException failure) {
                markBroken(reader, e.describe() + ": " + failure.getMessage());
            }
        }
        try (Connection c = dataSource.getConnection()) {
            Jdbc.update(c, "UPDATE pgtrickle.pgt_source_events SET handled = true WHERE event_id = ?", e.id());
        }
    }

    /** Whether {@code relid} is a view {@code reader} reads (ALTER TABLE also alters views). */
    private boolean isView(StreamTableRecord reader, long relid) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return catalog.sources(c, reader.id()).stream()
                    .anyMatch(s -> s.relid() == relid && s.kind() == SourceRelation.Kind.VIEW);
        }
    }

    private void markBroken(StreamTableRecord st, String message) throws SQLException {
        log.warn("stream table {} is broken: {}", st.name(), message);
        try (Connection c = dataSource.getConnection()) {
            AdvisoryLocks.withStreamTableLock(c, st.id(), conn -> {
                catalog.markBroken(conn, st.id(), message);
                return null;
            });
        }
    }
}
