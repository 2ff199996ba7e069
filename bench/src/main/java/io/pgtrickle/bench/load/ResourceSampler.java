package io.pgtrickle.bench.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Samples the engine's CPU and memory once a second. The engine runs in this JVM beside the
 * load generator, so its CPU is the process CPU time minus the CPU time of the benchmark's own
 * threads (writers, poller, this sampler), as {@link ThreadMXBean} counts them; what remains is
 * the engine's threads, the JDBC driver's work for them, JIT and GC. Memory is the heap in use
 * and the process's resident set. PostgreSQL's own CPU is not included: it runs elsewhere.
 */
final class ResourceSampler implements AutoCloseable {
    /** One sample: since the previous one, the engine's CPU in percent of one core; memory now. */
    record Sample(double seconds, double engineCpuPercent, double heapMb, double rssMb) {
    }

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Set<Long> benchThreads = ConcurrentHashMap.newKeySet();
    /** CPU time of bench threads that have ended, so their share is still subtracted. */
    private volatile long endedBenchCpu;
    private final List<Sample> samples = new ArrayList<>();
    private final Thread thread;
    private final long startNanos;
    private volatile boolean stopping;

    ResourceSampler() {
        startNanos = System.nanoTime();
        thread = new Thread(this::loop, "bench-sampler");
        thread.setDaemon(true);
        benchThreads.add(thread.getId());
        thread.start();
    }

    /** Counts {@code t} as the benchmark's, not the engine's. */
    void benchThread(Thread t) {
        benchThreads.add(t.getId());
    }

    /** A bench thread reports its own CPU time as it ends. */
    void benchThreadEnded(long cpuNanos) {
        benchThreads.remove(Thread.currentThread().getId());
        synchronized (this) {
            endedBenchCpu += cpuNanos;
        }
    }

    private long benchCpu() {
        long sum = endedBenchCpu;
        for (long id : benchThreads) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    private void loop() {
        long lastWall = System.nanoTime();
        long lastEngine = os.getProcessCpuTime() - benchCpu();
        while (!stopping) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            long wall = System.nanoTime();
            long engine = os.getProcessCpuTime() - benchCpu();
            double cpu = 100.0 * Math.max(0, engine - lastEngine) / Math.max(1, wall - lastWall);
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            synchronized (samples) {
                samples.add(new Sample((wall - startNanos) / 1e9, cpu, heap / 1048576.0, rssBytes() / 1048576.0));
            }
            lastWall = wall;
            lastEngine = engine;
        }
    }

    /** Resident set size from /proc (Linux); NaN elsewhere. */
    private static double rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no RSS figure
        }
        return Double.NaN;
    }

    List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    @Override
    public void close() {
        stopping = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
