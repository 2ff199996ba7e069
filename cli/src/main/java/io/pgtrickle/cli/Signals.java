package io.pgtrickle.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT and SIGTERM delivered as a callback. Handling the signals ourselves (instead of in a JVM
 * shutdown hook) lets {@code pgtrickle run} stop the engine before the embedded server, which
 * registers a shutdown hook of its own that would otherwise race the engine.
 */
final class Signals {
    private static final long FALLBACK_WAIT_SECONDS = 30;

    private Signals() {
    }

    /** A registration; closing it restores the previous handling. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** Runs {@code onSignal} on SIGINT or SIGTERM until the registration is closed. */
    static Registration onTermination(Runnable onSignal) {
        try {
            Signal interrupt = new Signal("INT");
            Signal terminate = new Signal("TERM");
            SignalHandler handler = signal -> onSignal.run();
            SignalHandler previousInterrupt = Signal.handle(interrupt, handler);
            SignalHandler previousTerminate = Signal.handle(terminate, handler);
            return () -> {
                Signal.handle(interrupt, previousInterrupt);
                Signal.handle(terminate, previousTerminate);
            };
        } catch (LinkageError | IllegalArgumentException e) {
            return shutdownHook(onSignal);
        }
    }

    /** Where signals cannot be handled: a shutdown hook that waits until the caller has cleaned up. */
    private static Registration shutdownHook(Runnable onSignal) {
        CountDownLatch cleanedUp = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            onSignal.run();
            try {
                cleanedUp.await(FALLBACK_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "pgtrickle-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return () -> {
            cleanedUp.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running and has just been released.
            }
        };
    }
}
