package io.pgtrickle.relay.pipeline;

import io.pgtrickle.core.outbox.ConsumerGroupLag;
import io.pgtrickle.core.outbox.ConsumerGroups;
import io.pgtrickle.core.outbox.OutboxChange;
import io.pgtrickle.core.outbox.OutboxHeader;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.core.outbox.Outboxes;
import io.pgtrickle.format.ChangeEvent;
import io.pgtrickle.format.MessageFormat;
import io.pgtrickle.relay.metrics.PipelineMetrics;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.Target;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outbox to target. Each session opens a new target and resumes after the later of two positions:
 * the highest one the target already holds (read back from it, so a crash between publishing and
 * committing never duplicates) and the pipeline's consumer group offset in PostgreSQL (for targets
 * that cannot tell, and for one that lost its data). Changes go out in position order, in batches
 * of at most {@code batchSize}; after each read the group is moved past the entries delivered, so
 * outbox retention keeps what is not delivered yet and {@code consumer_lag} shows the backlog.
 * Entries are read as headers and their changes in pages, so a refresh that changed millions of
 * rows is never held whole: memory is bounded by one page and one batch.
 */
public final class ForwardPipeline implements PipelineWork {
    private static final Logger log = LoggerFactory.getLogger(ForwardPipeline.class);
    private static final int ENTRIES_PER_READ = 20;
    /** Changes per page of an entry: the batch size, but not so few that a big entry takes a query per change. */
    private static final int MIN_PAGE = 1_000;
    private static final int MAX_PAGE = 10_000;
    private static final Duration IDLE_WAIT = Duration.ofMillis(100);
    private static final Duration LAG_PERIOD = Duration.ofSeconds(1);

    private final String pipeline;
    private final String streamTable;
    private final String group;
    private final Outboxes outboxes;
    private final ConsumerGroups groups;
    private final Supplier<Target> targets;
    private final MessageFormat format;
    private final Function<ChangeEvent, String> destination;
    private final int batchSize;
    private final int pageSize;
    private final PipelineMetrics metrics;
    private long lagReportedAt = System.nanoTime() - LAG_PERIOD.toNanos();

    /**
     * @param group the consumer group that records this pipeline's progress; created (from the
     *     outbox's earliest entry) when missing
     * @param destination the topic, subject or stream key of a change
     */
    public ForwardPipeline(String pipeline, String streamTable, String group, Outboxes outboxes, ConsumerGroups groups,
                           Supplier<Target> targets, MessageFormat format, Function<ChangeEvent, String> destination,
                           int batchSize, PipelineMetrics metrics) {
        this.pipeline = pipeline;
        this.streamTable = streamTable;
        this.group = group;
        this.outboxes = outboxes;
        this.groups = groups;
        this.targets = targets;
        this.format = format;
        this.destination = destination;
        this.batchSize = batchSize;
        this.pageSize = Math.min(Math.max(batchSize, MIN_PAGE), MAX_PAGE);
        this.metrics = metrics;
    }

    @Override
    public void run(BooleanSupplier keepGoing, Runnable progressed) throws Exception {
        ConsumerGroupLag committed = groups.find(group).orElseGet(() -> {
            groups.create(group, streamTable, ConsumerGroups.OffsetReset.EARLIEST);
            return groups.lag(group);
        });
        // Reads and encodes the next page of the outbox while the target acknowledges this one.
        ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pipeline-" + pipeline + "-reader");
            t.setDaemon(true);
            return t;
        });
        try (Target target = targets.get()) {
            target.open();
            Optional<OutboxPosition> inTarget = target.lastPublished();
            // Every change of the group's committed entry is delivered: the position after its last one.
            OutboxPosition fromGroup = new OutboxPosition(committed.committedOffset(), Integer.MAX_VALUE);
            OutboxPosition position = inTarget.filter(p -> p.compareTo(fromGroup) > 0).orElse(fromGroup);
            log.info("pipeline {}: {} -> {}, resuming after {} (target holds {}, group {} committed {})", pipeline,
                    streamTable, target.describe(), position, inTarget.map(Object::toString).orElse("nothing it can tell"),
                    group, committed.committedOffset());
            long groupOffset = committed.committedOffset();
            progressed.run();
            while (keepGoing.getAsBoolean()) {
                // From the entry the position is inside of, or after the one it completes.
                long after = position.rowIndex() == Integer.MAX_VALUE ? position.offset() : position.offset() - 1;
                List<OutboxHeader> entries = outboxes.headers(streamTable, after, ENTRIES_PER_READ);
                if (entries.isEmpty()) {
                    reportLag();
                    progressed.run();
                    Thread.sleep(IDLE_WAIT.toMillis());
                    continue;
                }
                position = deliver(target, entries, position, keepGoing, reader);
                long done = position.rowIndex() == Integer.MAX_VALUE ? position.offset() : position.offset() - 1;
                if (done > groupOffset) {
                    groups.seek(group, done);
                    groupOffset = done;
                }
                reportLag();
                progressed.run();
            }
        } finally {
            reader.shutdownNow();
        }
    }

    /**
     * Publishes every change after {@code position} of the entries, reading each entry's changes in
     * pages; returns the new position (the last change published when stopped mid-way). Everything
     * it sends is flushed (durable in the target) before it returns, so the caller may record it.
     */
    private OutboxPosition deliver(Target target, List<OutboxHeader> entries, OutboxPosition position,
                                   BooleanSupplier keepGoing, Executor reader) throws Exception {
        List<OutboundMessage> batch = new ArrayList<>(batchSize);
        InFlight inFlight = new InFlight(target);
        PagePrefetch pages = new PagePrefetch(outboxes, streamTable, pageSize, this::message, reader, entries, position);
        for (PagePrefetch.Page page = pages.take(); page != null; page = pages.take()) {
            for (OutboundMessage m : page.messages()) {
                batch.add(m);
                inFlight.committedAt.add(page.entry().createdAt());
                if (batch.size() == batchSize) {
                    inFlight.send(batch);
                    if (!keepGoing.getAsBoolean()) {
                        inFlight.flush();
                        return batch.get(batch.size() - 1).position();
                    }
                    batch.clear();
                    // Several batches in flight: the target acks (Kafka commits one transaction for)
                    // them at once while the reader prepares the next; progress is recorded after.
                    if (inFlight.messages >= target.batchesPerFlush(batchSize) * batchSize) {
                        inFlight.flush();
                    }
                }
            }
        }
        if (!batch.isEmpty()) {
            inFlight.send(batch);
        }
        inFlight.flush();
        return new OutboxPosition(entries.get(entries.size() - 1).offset(), Integer.MAX_VALUE);
    }

    private OutboundMessage message(OutboxHeader entry, OutboxChange change) {
        ChangeEvent event = ChangeEvent.of(entry, change);
        return new OutboundMessage(destination.apply(event), format.encode(event), event.position(), event.dedupKey());
    }

    /** The batches sent to the target and not flushed yet, with the commit times of their changes. */
    private final class InFlight {
        private final Target target;
        private final List<OffsetDateTime> committedAt = new ArrayList<>();
        private int messages;

        InFlight(Target target) {
            this.target = target;
        }

        void send(List<OutboundMessage> batch) throws Exception {
            try {
                target.send(List.copyOf(batch));
            } catch (Exception e) {
                metrics.failed();
                throw e;
            }
            messages += batch.size();
        }

        void flush() throws Exception {
            PublishResult r;
            try {
                r = target.flush();
            } catch (Exception e) {
                metrics.failed();
                throw e;
            }
            metrics.published(r.published());
            metrics.deduplicated(r.deduplicated());
            OffsetDateTime now = OffsetDateTime.now();
            for (OffsetDateTime at : committedAt) {
                if (at != null) {
                    metrics.commitToAck(Duration.between(at, now));
                }
            }
            committedAt.clear();
            messages = 0;
        }
    }

    /** At most once a second: {@code consumer_lag} is a query, and the idle loop turns ten times a second. */
    private void reportLag() {
        long now = System.nanoTime();
        if (now - lagReportedAt < LAG_PERIOD.toNanos()) {
            return;
        }
        lagReportedAt = now;
        groups.find(group).ifPresent(l -> metrics.lag(l.changesPending(), l.oldestPendingAge()));
    }
}
