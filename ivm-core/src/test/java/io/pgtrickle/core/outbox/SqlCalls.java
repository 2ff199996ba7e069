package io.pgtrickle.core.outbox;

import static org.assertj.core.api.Assertions.fail;

import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** The consumer-group SQL functions as a test calls them, each in a transaction of its own. */
final class SqlCalls {
    private final TestDatabase db;

    SqlCalls(TestDatabase db) {
        this.db = db;
    }

    /** poll_outbox's offsets. */
    List<Long> poll(String group, String consumer, int batchSize) {
        return poll(group, consumer, batchSize, 30);
    }

    List<Long> poll(String group, String consumer, int batchSize, int visibilitySeconds) {
        return db.rows("SELECT outbox_offset FROM pgtrickle.poll_outbox(?, ?, ?, ?)", group, consumer, batchSize,
                visibilitySeconds).stream().map(r -> ((Number) r.get(0)).longValue()).toList();
    }

    void commit(String group, String consumer, long offset) {
        db.rows("SELECT pgtrickle.commit_offset(?, ?, ?)", group, consumer, offset);
    }

    long create(String group, String outbox, String reset) {
        return ((Number) db.value("SELECT pgtrickle.create_consumer_group(?, ?, ?)", group, outbox, reset)).longValue();
    }

    void seek(String group, long offset) {
        db.rows("SELECT pgtrickle.seek_offset(?, ?)", group, offset);
    }

    long committed(String group) {
        return ((Number) db.value("SELECT committed_offset FROM pgtrickle.consumer_lag(?)", group)).longValue();
    }

    /** The error PostgreSQL raises for {@code sql}; fails the test when it succeeds. */
    ServerErrorMessage refused(String sql, Object... parameters) {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            ps.execute();
        } catch (PSQLException e) {
            if (e.getServerErrorMessage() == null) {
                throw new IllegalStateException(e);
            }
            return e.getServerErrorMessage();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return fail("expected an error from " + sql);
    }
}
