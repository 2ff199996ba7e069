package io.pgtrickle.bench.messaging;

/**
 * A reader's loop on a thread of its own: it repeats {@code poll} until closed, then closes the
 * client on that same thread (Kafka consumers may only be used from one thread).
 */
final class ReaderThread implements AutoCloseable {
    interface Poll {
        void once() throws Exception;
    }

    interface Close {
        void close() throws Exception;
    }

    private final Thread thread;
    private final Runnable wakeUp;
    private volatile boolean open = true;
    private volatile Exception failure;

    private ReaderThread(String name, Poll poll, Runnable wakeUp, Close close) {
        this.wakeUp = wakeUp;
        this.thread = new Thread(() -> {
            try {
                while (open) {
                    poll.once();
                }
            } catch (Exception e) {
                if (open) {
                    failure = e;
                }
            } finally {
                try {
                    close.close();
                } catch (Exception ignored) {
                    // closing a reader at the end of a run; what it read is already counted
                }
            }
        }, name);
        thread.setDaemon(true);
    }

    static ReaderThread start(String name, Poll poll, Runnable wakeUp, Close close) {
        ReaderThread r = new ReaderThread(name, poll, wakeUp, close);
        r.thread.start();
        return r;
    }

    @Override
    public void close() throws Exception {
        open = false;
        wakeUp.run();
        thread.join(10_000);
        if (failure != null) {
            throw new IllegalStateException("the reader " + thread.getName() + " failed: " + failure, failure);
        }
    }
}
