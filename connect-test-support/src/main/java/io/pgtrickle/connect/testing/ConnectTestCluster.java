package io.pgtrickle.connect.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfos;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

/**
 * A Kafka Connect cluster (one worker, one broker, Kafka 4.3.1) in the test's JVM whose
 * {@code plugin.path} holds the given plugin archives unpacked, so connectors load through Connect's
 * plugin class loaders as in production, not from the test class path. The worker supports
 * exactly-once source ({@code exactly.once.source.support=enabled}).
 */
public final class ConnectTestCluster implements AutoCloseable {

    private final EmbeddedConnectCluster connect;

    private ConnectTestCluster(EmbeddedConnectCluster connect) {
        this.connect = connect;
    }

    /**
     * Unpacks each {@code .zip} plugin archive into {@code workDir/plugins} and starts the cluster
     * (about 6 s).
     */
    public static ConnectTestCluster start(Path workDir, List<Path> pluginArchives) throws IOException {
        Path plugins = Files.createDirectories(workDir.resolve("plugins"));
        for (Path archive : pluginArchives) {
            unzip(archive, plugins);
        }
        // A mutable map: the builder adds its own defaults to it.
        Map<String, String> worker = new HashMap<>();
        worker.put("plugin.path", plugins.toAbsolutePath().toString());
        worker.put("exactly.once.source.support", "enabled");
        worker.put("offset.flush.interval.ms", "500");
        worker.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        worker.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        Properties broker = new Properties();
        broker.put("transaction.state.log.replication.factor", "1");
        broker.put("transaction.state.log.min.isr", "1");
        broker.put("offsets.topic.replication.factor", "1");
        broker.put("group.initial.rebalance.delay.ms", "0");
        EmbeddedConnectCluster connect = (EmbeddedConnectCluster) new EmbeddedConnectCluster.Builder().name("pgtrickle-connect")
                .numWorkers(1).numBrokers(1).workerProps(worker).brokerProps(broker).maskExitProcedures(true).build();
        connect.start();
        return new ConnectTestCluster(connect);
    }

    private static void unzip(Path archive, Path into) throws IOException {
        try (InputStream in = Files.newInputStream(archive); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                Path target = into.resolve(e.getName()).normalize();
                if (!target.startsWith(into)) {
                    throw new IOException("the archive " + archive + " has an entry outside its folder: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(zip, target);
                }
            }
        }
    }

    public String bootstrapServers() {
        return connect.kafka().bootstrapServers();
    }

    /** The underlying cluster, for what this class does not wrap (restarting tasks, offsets, topics). */
    public EmbeddedConnectCluster cluster() {
        return connect;
    }

    /** Creates or updates a connector through the REST API. */
    public void configure(String name, Map<String, String> config) {
        connect.configureConnector(name, new HashMap<>(config));
    }

    /**
     * Reads a connector's JSON as the REST API takes it ({@code {"name": ..., "config": {...}}}, as in
     * config-examples), replaces {@code ${NAME}} in values with {@code variables}, and configures it.
     *
     * @return the connector's name
     */
    public String configureFromJson(Path file, Map<String, String> variables) throws IOException {
        ConnectorJson connector = ConnectorJson.read(file, variables);
        configure(connector.name(), connector.config());
        return connector.name();
    }

    /** What the REST API's validate endpoint says of a config of {@code connectorClass}. */
    public ConfigInfos validate(String connectorClass, Map<String, String> config) {
        return connect.validateConnectorConfig(connectorClass, new HashMap<>(config));
    }

    /** Waits until the connector and exactly {@code tasks} tasks run. */
    public void awaitRunning(String name, int tasks) throws InterruptedException {
        connect.assertions().assertConnectorAndExactlyNumTasksAreRunning(name, tasks,
                "connector " + name + " did not start with " + tasks + " running tasks");
    }

    /** Stops the worker (its tasks stop without committing more) and starts a new one in its place. */
    public void replaceWorker() {
        connect.removeWorker();
        connect.addWorker();
    }

    /**
     * Every record of {@code topic} visible to a {@code read_committed} consumer, waiting until
     * there are at least {@code atLeast} or {@code timeout} passed; in offset order per partition.
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, int atLeast, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            List<TopicPartition> partitions = new ArrayList<>();
            while (partitions.isEmpty() && System.nanoTime() < deadline) {
                List<PartitionInfo> info = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                if (info != null) {
                    info.forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
                }
            }
            if (partitions.isEmpty()) {
                return records;
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (records.size() < atLeast && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    @Override
    public void close() {
        connect.stop();
    }
}
