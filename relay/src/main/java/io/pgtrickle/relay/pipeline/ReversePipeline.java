package io.pgtrickle.relay.pipeline;

import io.pgtrickle.core.inbox.InboxEvent;
import io.pgtrickle.core.inbox.Inboxes;
import io.pgtrickle.core.inbox.SourceOffsets;
import io.pgtrickle.format.InboxDecoder;
import io.pgtrickle.relay.metrics.PipelineMetrics;
import io.pgtrickle.relay.source.EventSource;
import io.pgtrickle.relay.source.InboundMessage;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Source to inbox. Each batch goes into the inbox in one transaction together with the source
 * positions it reached ({@code pgt_source_offsets}); the source is acknowledged only after that
 * commit. A crash before the commit redelivers the batch, and the inbox skips the event ids it
 * holds: every event is in the inbox exactly once.
 */
public final class ReversePipeline implements PipelineWork {
    private static final Logger log = LoggerFactory.getLogger(ReversePipeline.class);
    private static final Duration POLL_WAIT = Duration.ofMillis(500);

    private final String pipeline;
    private final String consumer;
    private final String inbox;
    private final DataSource dataSource;
    private final Supplier<EventSource> sources;
    private final InboxEventDecoder decoder;
    private final int batchSize;
    private final PipelineMetrics metrics;

    /**
     * @param consumer the name its positions are kept under, {@code <relay_group_id>/<pipeline>}
     */
    public ReversePipeline(String pipeline, String consumer, io.pgtrickle.relay.config.SinkConfig.Inbox sink,
                           DataSource dataSource, Supplier<EventSource> sources, int batchSize,
                           PipelineMetrics metrics) {
        this.pipeline = pipeline;
        this.consumer = consumer;
        this.inbox = sink.inbox();
        this.dataSource = dataSource;
        this.sources = sources;
        this.decoder = new InboxEventDecoder(sink);
        this.batchSize = batchSize;
        this.metrics = metrics;
    }

    @Override
    public void run(BooleanSupplier keepGoing, Runnable progressed) throws Exception {
        Map<String, String> committed;
        try (Connection c = dataSource.getConnection()) {
            committed = SourceOffsets.read(c, consumer);
        }
        try (EventSource source = sources.get()) {
            source.open(committed);
            log.info("pipeline {}: {} -> inbox {}, from {}", pipeline, source.describe(), inbox,
                    committed.isEmpty() ? "the start" : committed);
            progressed.run();
            while (keepGoing.getAsBoolean()) {
                List<InboundMessage> batch;
                try {
                    batch = source.poll(batchSize, POLL_WAIT);
                } catch (Exception e) {
                    metrics.failed();
                    throw e;
                }
                if (!batch.isEmpty()) {
                    store(batch);
                    source.acknowledge(batch);
                }
                progressed.run();
            }
        }
    }

    private void store(List<InboundMessage> batch) throws Exception {
        List<InboxEvent> events = new ArrayList<>();
        List<InboxEvent> dead = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        Map<String, String> positions = new LinkedHashMap<>();
        for (InboundMessage m : batch) {
            InboxDecoder.Decoded d = decoder.decode(m);
            if (d.dead()) {
                dead.add(d.event());
                reasons.add(d.deadLetterReason());
                log.warn("pipeline {}: message {} goes to the dead-letter table of inbox {}: {}", pipeline,
                        m.coordinates(), inbox, d.deadLetterReason());
            } else {
                events.add(d.event());
            }
            positions.put(m.partition(), m.position());
        }
        int inserted;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                inserted = Inboxes.insert(c, inbox, events) + Inboxes.insertDeadLetters(c, inbox, dead, reasons);
                SourceOffsets.write(c, consumer, positions);
                c.commit();
            } catch (Exception e) {
                c.rollback();
                metrics.failed();
                throw e;
            }
        }
        metrics.published(inserted);
        metrics.deduplicated(batch.size() - inserted);
    }
}
