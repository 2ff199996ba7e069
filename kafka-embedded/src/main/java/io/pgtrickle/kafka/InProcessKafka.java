package io.pgtrickle.kafka;

import java.io.OutputStream;
import java.io.PrintStream;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A single-node Kafka 4 cluster (one combined broker and controller, KRaft) in this JVM, for
 * benchmarks and demos on a machine without a broker. Its logs live in a temporary directory that
 * {@link #close()} removes.
 */
public final class InProcessKafka implements AutoCloseable {
    private final KafkaClusterTestKit kit;

    private InProcessKafka(KafkaClusterTestKit kit) {
        this.kit = kit;
    }

    /** Formats, starts and waits for the broker (about 2 s). */
    public static InProcessKafka start() throws Exception {
        TestKitNodes nodes = new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1)
                .setNumControllerNodes(1).build();
        // Replication factors of 1: one broker cannot meet the defaults of 3; no rebalance delay,
        // or every new consumer group waits for nothing.
        KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(nodes)
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .build();
        try {
            formatQuietly(kit);
            kit.startup();
            kit.waitForReadyBrokers();
        } catch (Exception e) {
            kit.close();
            throw e;
        }
        return new InProcessKafka(kit);
    }

    /**
     * Formatting prints the bootstrap metadata to {@link System#out}, which belongs to the report of
     * the command that started the broker; the lines say nothing a user of it needs.
     */
    private static void formatQuietly(KafkaClusterTestKit kit) throws Exception {
        PrintStream out = System.out;
        synchronized (InProcessKafka.class) {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                kit.format();
            } finally {
                System.setOut(out);
            }
        }
    }

    public String bootstrapServers() {
        return kit.bootstrapServers();
    }

    @Override
    public void close() throws Exception {
        kit.close();
    }
}
