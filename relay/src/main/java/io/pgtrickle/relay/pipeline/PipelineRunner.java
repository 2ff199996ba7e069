package io.pgtrickle.relay.pipeline;

import io.pgtrickle.relay.metrics.PipelineMetrics;
import io.pgtrickle.relay.source.SourceException;
import io.pgtrickle.relay.target.TargetException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one pipeline on a thread of its own: stands by until this relay owns the pipeline, then runs
 * its work, retrying failures with back-off, until {@link #stop()}; gives the pipeline up when the
 * ownership session is lost. A failing pipeline never stops the others.
 */
public final class PipelineRunner implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(PipelineRunner.class);
    private static final Duration STANDBY_POLL = Duration.ofSeconds(1);

    private final String pipeline;
    private final PipelineOwnership ownership;
    private final PipelineWork work;
    private final Backoff backoff;
    private final PipelineStatus status;
    private final PipelineMetrics metrics;
    private volatile boolean running = true;
    private volatile Thread thread;

    public PipelineRunner(String pipeline, PipelineOwnership ownership, PipelineWork work, Duration initialBackoff,
                          Duration maxBackoff, PipelineStatus status, PipelineMetrics metrics) {
        this.pipeline = pipeline;
        this.ownership = ownership;
        this.work = work;
        this.backoff = new Backoff(initialBackoff, maxBackoff);
        this.status = status;
        this.metrics = metrics;
    }

    public PipelineStatus status() {
        return status;
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            while (running) {
                if (!ownership.tryAcquire()) {
                    if (status.snapshot().state() != PipelineState.STANDBY) {
                        log.info("pipeline {}: another relay of the group owns it; standing by", pipeline);
                    }
                    status.set(PipelineState.STANDBY);
                    metrics.owned(false);
                    sleep(STANDBY_POLL);
                    continue;
                }
                metrics.owned(true);
                if (status.snapshot().state() == PipelineState.STANDBY) {
                    log.info("pipeline {}: this relay owns it now", pipeline);
                    status.set(PipelineState.STARTING);
                }
                runOwned();
            }
        } finally {
            ownership.close();
            metrics.owned(false);
            status.set(PipelineState.STOPPED);
        }
    }

    private void runOwned() {
        try {
            work.run(() -> running && ownership.held(), () -> {
                status.set(PipelineState.RUNNING);
                backoff.reset();
            });
            if (running && !ownership.held()) {
                log.warn("pipeline {}: lost the ownership session; stopping delivery until it is owned again",
                        pipeline);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } catch (Exception e) {
            if (!running) {
                return;
            }
            boolean retriable = !(e instanceof TargetException t && !t.retriable())
                    && !(e instanceof SourceException s && !s.retriable());
            Duration wait = retriable ? backoff.next() : backoff.longest();
            String message = describe(e);
            status.set(PipelineState.RETRYING, message);
            if (retriable) {
                log.warn("pipeline {}: {}; retrying in {} ms", pipeline, message, wait.toMillis());
            } else {
                log.error("pipeline {}: {}; retrying in {} ms", pipeline, message, wait.toMillis(), e);
            }
            sleep(wait);
        }
    }

    /** The message, and for a failed JDBC batch the statement's own error (the batch's says only "Batch entry 0 ..."). */
    private static String describe(Exception e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        if (e instanceof java.sql.SQLException sql && sql.getNextException() != null) {
            message = sql.getNextException().getMessage();
        }
        return message;
    }

    /** Asks the pipeline to finish the batch in flight and stop; {@link #awaitStop} waits for it. */
    public void stop() {
        running = false;
    }

    public void awaitStop(Duration timeout) throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.join(timeout.toMillis());
            if (t.isAlive()) {
                t.interrupt();
                t.join(1000);
            }
        }
    }

    private void sleep(Duration d) {
        try {
            long until = System.nanoTime() + d.toNanos();
            while (running && System.nanoTime() < until) {
                Thread.sleep(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }
}
