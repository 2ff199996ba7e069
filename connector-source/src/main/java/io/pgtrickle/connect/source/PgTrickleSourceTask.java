package io.pgtrickle.connect.source;

import com.zaxxer.hikari.HikariDataSource;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.core.outbox.Outboxes;
import io.pgtrickle.format.Template;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the outboxes of its stream tables: each poll returns at most {@code batch.size}
 * records, going round the stream tables, and finishing an entry before moving to another table so
 * that one refresh stays one Kafka transaction. Resumes after the stored source offset.
 */
public final class PgTrickleSourceTask extends SourceTask {
    private static final Logger LOG = LoggerFactory.getLogger(PgTrickleSourceTask.class);

    private final CountDownLatch stopped = new CountDownLatch(1);
    private PgTrickleSourceConfig config;
    private HikariDataSource pool;
    private final List<TableReader> readers = new ArrayList<>();
    private int next;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        config = PgTrickleSourceConfig.forTask(props);
        pool = Database.pool(config, "pgtrickle-source-task");
        Outboxes outboxes = new Outboxes(pool);
        ValueFormat format = ValueFormat.of(config.format());
        Template topics = config.topicTemplate();
        List<StreamTable> tables = config.taskStreamTables().stream().map(StreamTable::ofId).toList();
        List<Map<String, String>> partitions = tables.stream().map(RecordBuilder::partition).toList();
        Map<Map<String, String>, Map<String, Object>> offsets = new HashMap<>(context.offsetStorageReader().offsets(partitions));
        for (StreamTable t : tables) {
            OutboxPosition resume = position(offsets.get(RecordBuilder.partition(t)));
            LOG.info("pgtrickle source task: {} from after {}", t.id(), resume);
            readers.add(new TableReader(t, outboxes, resume, () -> new RecordBuilder(schemas(t), format, topics)));
        }
    }

    static OutboxPosition position(Map<String, Object> offset) {
        if (offset == null || offset.get(RecordBuilder.OFFSET_KEY) == null) {
            return OutboxPosition.START;
        }
        long n = ((Number) offset.get(RecordBuilder.OFFSET_KEY)).longValue();
        Object row = offset.get(RecordBuilder.ROW_INDEX_KEY);
        return new OutboxPosition(n, row == null ? Integer.MAX_VALUE : ((Number) row).intValue());
    }

    private TableSchemas schemas(StreamTable t) {
        try (Connection c = pool.getConnection()) {
            return TableSchemas.load(c, t);
        } catch (SQLException e) {
            throw new RetriableException("cannot read the columns of stream table " + t.id() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        List<SourceRecord> records = new ArrayList<>();
        try {
            int idle = 0;
            while (records.size() < config.batchSize() && idle < readers.size() && stopped.getCount() > 0) {
                TableReader reader = readers.get(next);
                boolean drained = reader.fill(records, config.batchSize() - records.size(), context.transactionContext());
                if (reader.midEntry()) {
                    break; // the batch is full inside an entry: go on with it next poll
                }
                next = (next + 1) % readers.size();
                idle = drained ? idle + 1 : 0;
            }
        } catch (PgTrickleException e) {
            if (!records.isEmpty()) {
                return records; // hand out what was read; the next poll meets the failure again
            }
            if (e.code() == ErrorCode.CONNECTION_FAILED) {
                throw new RetriableException(e.getMessage(), e);
            }
            throw new ConnectException(e.getMessage(), e);
        }
        if (records.isEmpty()) {
            stopped.await(config.pollIntervalMs(), TimeUnit.MILLISECONDS);
            return null;
        }
        return records;
    }

    @Override
    public void stop() {
        stopped.countDown();
        HikariDataSource p = pool;
        if (p != null) {
            p.close();
        }
    }
}
