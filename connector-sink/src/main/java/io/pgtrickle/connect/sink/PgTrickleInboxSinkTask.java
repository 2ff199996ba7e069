package io.pgtrickle.connect.sink;

import io.pgtrickle.core.inbox.InboxEvent;
import io.pgtrickle.core.inbox.Inboxes;
import io.pgtrickle.core.inbox.SourceOffsets;
import io.pgtrickle.format.InboxDecoder;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each batch into the inbox in one transaction together with the next offset of every
 * topic-partition it covers ({@code pgtrickle.pgt_source_offsets}, consumer = the connector's
 * name), and seeks to those offsets when partitions are assigned. A crash before the commit leaves
 * neither rows nor offsets, a crash after it resumes past the batch, and an event id the inbox holds
 * is skipped: every event is in the inbox exactly once.
 */
public final class PgTrickleInboxSinkTask extends SinkTask {
    private static final Logger log = LoggerFactory.getLogger(PgTrickleInboxSinkTask.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private PgTrickleSinkConfig config;
    private InboxDecoder decoder;
    private String consumer;
    private boolean tolerateAll;
    private Connection connection;
    /** The next offset of each assigned partition as the inbox's database has it. */
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new PgTrickleSinkConfig(props);
        decoder = new InboxDecoder(config.rules());
        consumer = props.get("name");
        if (consumer == null || consumer.isBlank()) {
            throw new ConnectException("the task has no connector name to keep its offsets under");
        }
        tolerateAll = "all".equalsIgnoreCase(props.getOrDefault("errors.tolerance", "none").trim());
        try {
            InboxDatabase.inboxTable(connection(), config.inbox());
        } catch (SQLException e) {
            closeConnection();
            if (InboxDatabase.retriable(e)) {
                // Connect retries put(); the first one that reaches the database checks again.
                log.warn("{}: cannot reach the database at start, will retry: {}", consumer, e.getMessage());
            } else {
                throw new ConnectException(consumer + ": " + InboxDatabase.inboxProblem(config.inbox(), e), e);
            }
        }
        log.info("{}: records into inbox {}, event id from {}", consumer, config.inbox(),
                config.getList(PgTrickleSinkConfig.EVENT_ID));
    }

    @Override
    public void open(Collection<TopicPartition> partitions) {
        Map<String, String> stored;
        try {
            stored = SourceOffsets.read(connection(), consumer);
        } catch (SQLException e) {
            closeConnection();
            // Without the stored offsets the task would read from the consumer group's: fail, Connect restarts it.
            throw new ConnectException(consumer + ": cannot read its offsets from pgtrickle.pgt_source_offsets: "
                    + e.getMessage(), e);
        }
        Map<TopicPartition, Long> seek = new HashMap<>();
        for (TopicPartition tp : partitions) {
            String next = stored.get(tp.toString());
            if (next != null) {
                seek.put(tp, Long.parseLong(next.trim()));
            }
        }
        committed.putAll(seek);
        if (!seek.isEmpty()) {
            context.offset(seek);
        }
        log.info("{}: assigned {}, resuming at {}", consumer, partitions, seek);
    }

    @Override
    public void close(Collection<TopicPartition> partitions) {
        partitions.forEach(committed::remove);
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        if (records.isEmpty()) {
            return;
        }
        List<SinkRecord> kept = new ArrayList<>();
        List<InboxEvent> events = new ArrayList<>();
        List<Future<Void>> reported = new ArrayList<>();
        Map<TopicPartition, Long> next = new LinkedHashMap<>();
        for (SinkRecord r : records) {
            TopicPartition tp = new TopicPartition(r.originalTopic(), r.originalKafkaPartition());
            long offset = r.originalKafkaOffset();
            Long done = committed.get(tp);
            if (done != null && offset < done) {
                continue; // in the inbox already: a redelivery from before the stored offset
            }
            next.merge(tp, offset + 1, Math::max);
            InboxDecoder.Decoded d;
            try {
                d = decoder.decode(RecordDecoding.message(r));
            } catch (RuntimeException e) {
                d = new InboxDecoder.Decoded(null, e.getMessage());
            }
            if (d.dead()) {
                bad(r, d.deadLetterReason(), reported);
            } else {
                kept.add(r);
                events.add(d.event());
            }
        }
        if (next.isEmpty()) {
            return;
        }
        try {
            Connection c = connection();
            c.setAutoCommit(false);
            try {
                int inserted = Inboxes.insert(c, config.inbox(), events);
                SourceOffsets.write(c, consumer, positions(next));
                awaitReported(reported);
                c.commit();
                log.debug("{}: {} records, {} new events", consumer, records.size(), inserted);
            } catch (SQLException | RuntimeException e) {
                rollback(c);
                throw e;
            }
        } catch (SQLException e) {
            throw failed(e, kept, events);
        }
        committed.putAll(next);
    }

    /** Connect may commit the consumer group's offsets too; they only inform, the inbox's database decides. */
    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (TopicPartition tp : currentOffsets.keySet()) {
            Long n = committed.get(tp);
            if (n != null) {
                out.put(tp, new OffsetAndMetadata(n));
            }
        }
        return out;
    }

    @Override
    public void stop() {
        closeConnection();
    }

    /** Sends a bad record to the errant-record reporter (the DLQ) under errors.tolerance=all, else fails the task. */
    private void bad(SinkRecord r, String reason, List<Future<Void>> reported) {
        String message = "record at " + RecordDecoding.describe(r) + " cannot go into inbox " + config.inbox() + ": "
                + reason;
        if (!tolerateAll) {
            throw new ConnectException(message + " (with errors.tolerance=all it would go to the dead-letter queue)");
        }
        ErrantRecordReporter reporter = context.errantRecordReporter();
        if (reporter == null) {
            log.warn("{}: {}; skipped (errors.tolerance=all, no dead-letter queue)", consumer, message);
            return;
        }
        log.warn("{}: {}; to the dead-letter queue", consumer, message);
        reported.add(reporter.report(r, new DataException(message)));
    }

    /** The bad records must be in the dead-letter queue before the offsets past them commit. */
    private void awaitReported(List<Future<Void>> reported) {
        for (Future<Void> f : reported) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RetriableException("interrupted while reporting bad records", e);
            } catch (ExecutionException e) {
                throw new ConnectException(consumer + ": the dead-letter queue did not take a record: "
                        + e.getCause(), e.getCause());
            }
        }
    }

    private ConnectException failed(SQLException e, List<SinkRecord> records, List<InboxEvent> events) {
        closeConnection();
        if (InboxDatabase.retriable(e)) {
            log.warn("{}: the inbox's database failed, retrying in {} ms: {}", consumer, config.retryBackoffMs(),
                    e.getMessage());
            context.timeout(config.retryBackoffMs());
            return new RetriableException(consumer + ": writing into inbox " + config.inbox() + " failed, will retry: "
                    + e.getMessage(), e);
        }
        String culprit = culprit(records, events);
        return new ConnectException(consumer + ": " + (culprit != null ? culprit
                : "a batch of " + records.size() + " records could not go into inbox " + config.inbox()) + ": "
                + InboxDatabase.cause(e), e);
    }

    /**
     * Finds the first record the inbox refuses, inserting one at a time in a transaction that is
     * rolled back: the batch error alone does not say which record it was.
     */
    private String culprit(List<SinkRecord> records, List<InboxEvent> events) {
        try {
            Connection c = connection();
            c.setAutoCommit(false);
            try {
                for (int i = 0; i < events.size(); i++) {
                    Savepoint s = c.setSavepoint();
                    try {
                        Inboxes.insert(c, config.inbox(), List.of(events.get(i)));
                        c.releaseSavepoint(s);
                    } catch (SQLException one) {
                        return "record at " + RecordDecoding.describe(records.get(i)) + " (event id "
                                + events.get(i).eventId() + ") cannot go into inbox " + config.inbox();
                    }
                }
            } finally {
                rollback(c);
            }
        } catch (SQLException e) {
            closeConnection();
        }
        return null;
    }

    private static Map<String, String> positions(Map<TopicPartition, Long> next) {
        Map<String, String> out = new LinkedHashMap<>();
        next.forEach((tp, n) -> out.put(tp.toString(), Long.toString(n)));
        return out;
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = InboxDatabase.connect(config, CONNECT_TIMEOUT);
        }
        return connection;
    }

    private void rollback(Connection c) {
        try {
            c.rollback();
            c.setAutoCommit(true);
        } catch (SQLException e) {
            closeConnection();
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                // gone already
            }
            connection = null;
        }
    }
}
