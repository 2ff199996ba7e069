package io.pgtrickle.connect.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnectTestClusterIT {
    @Test
    void aWorkerStartsOnAnEmptyPluginPathAndItsBrokerServesReadCommittedReads(@TempDir Path dir) throws Exception {
        try (ConnectTestCluster connect = ConnectTestCluster.start(dir, List.of())) {
            assertThat(connect.cluster().allWorkersHealthy()).isTrue();
            connect.cluster().kafka().createTopic("smoke", 1);
            connect.cluster().kafka().produce("smoke", "k", "hello");
            List<ConsumerRecord<byte[], byte[]>> read = connect.readCommitted("smoke", 1, Duration.ofSeconds(30));
            assertThat(read).extracting(r -> new String(r.value(), StandardCharsets.UTF_8)).containsExactly("hello");
        }
    }
}
