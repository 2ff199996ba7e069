package io.pgtrickle.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class InboxDatabaseTest {
    @Test
    void connectionLossAndServerShutdownAreRetriable() {
        assertThat(InboxDatabase.retriable(new SQLException("refused", "08001"))).isTrue();
        assertThat(InboxDatabase.retriable(new SQLException("I/O error", "08006"))).isTrue();
        assertThat(InboxDatabase.retriable(new SQLException("terminating connection", "57P01"))).isTrue();
        assertThat(InboxDatabase.retriable(new SQLException("starting up", "57P03"))).isTrue();
        assertThat(InboxDatabase.retriable(new SQLException("deadlock", "40P01"))).isTrue();
        assertThat(InboxDatabase.retriable(new SQLTransientConnectionException("pool"))).isTrue();
        SQLException wrapped = new SQLException("batch failed", (String) null);
        wrapped.initCause(new SQLException("lost", "08003"));
        assertThat(InboxDatabase.retriable(wrapped)).as("a cause counts").isTrue();
    }

    @Test
    void refusedDataAndMissingObjectsArePermanent() {
        assertThat(InboxDatabase.retriable(new SQLException("unsupported Unicode escape", "22P05"))).isFalse();
        assertThat(InboxDatabase.retriable(new SQLException("inbox x does not exist", "42704"))).isFalse();
        assertThat(InboxDatabase.retriable(new BatchUpdateException("aborted", "23502", new int[0]))).isFalse();
        assertThat(InboxDatabase.retriable(new SQLException("no state"))).isFalse();
    }

    @Test
    void aFailedBatchIsExplainedByTheServersError() {
        BatchUpdateException batch = new BatchUpdateException("Batch entry 1 INSERT INTO t ... was aborted", "22P05",
                new int[0]);
        batch.setNextException(new SQLException("ERROR: unsupported Unicode escape sequence", "22P05"));
        assertThat(InboxDatabase.cause(batch)).isEqualTo("ERROR: unsupported Unicode escape sequence (SQLSTATE 22P05)");
        assertThat(InboxDatabase.cause(new SQLException("plain"))).isEqualTo("plain");
    }

    @Test
    void inboxProblemsSayWhatToDo() {
        assertThat(InboxDatabase.inboxProblem("orders", new SQLException("x", "42704")))
                .contains("SELECT pgtrickle.create_inbox('orders')");
        assertThat(InboxDatabase.inboxProblem("orders", new SQLException("schema missing", "3F000")))
                .contains("is the engine installed");
    }
}
