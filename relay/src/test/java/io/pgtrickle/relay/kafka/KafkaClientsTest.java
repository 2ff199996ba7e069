package io.pgtrickle.relay.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.relay.config.KafkaEndpoint;
import io.pgtrickle.relay.config.Secret;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

class KafkaClientsTest {
    private static final KafkaEndpoint ENDPOINT = new KafkaEndpoint("h1:9092,h2:9092", Map.of(
            "sasl.jaas.config", new Secret("password=\"s3cret\""), "linger.ms", new Secret("5"),
            "bootstrap.servers", new Secret("ignored:1"), "max.block.ms", new Secret("2500")));

    @Test
    void secretsAreRevealedAndTheEndpointsBootstrapServersWin() {
        Map<String, Object> props = KafkaClients.properties(ENDPOINT, Map.of("acks", "all"));

        assertThat(props).containsEntry("sasl.jaas.config", "password=\"s3cret\"")
                .containsEntry("bootstrap.servers", "h1:9092,h2:9092").containsEntry("acks", "all");
    }

    @Test
    void theConsumerGetsOnlyConsumerPropertiesAndReadsCommittedWithoutAGroup() {
        Map<String, Object> props = KafkaClients.readCommittedConsumer(ENDPOINT);

        assertThat(props).doesNotContainKeys("linger.ms", "max.block.ms", "group.id")
                .containsEntry("sasl.jaas.config", "password=\"s3cret\"")
                .containsEntry("isolation.level", "read_committed").containsEntry("enable.auto.commit", false);
    }

    @Test
    void timeoutsComeFromTheEndpointElseKafkasDefaults() {
        assertThat(KafkaClients.maxBlock(ENDPOINT)).isEqualTo(Duration.ofMillis(2500));
        assertThat(KafkaClients.apiTimeout(ENDPOINT)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void aTimeoutThatIsNotANumberIsRefusedByName() {
        KafkaEndpoint bad = new KafkaEndpoint("h:1", Map.of("max.block.ms", new Secret("soon")));

        assertThatThrownBy(() -> KafkaClients.maxBlock(bad)).hasMessageContaining("max.block.ms")
                .hasMessageContaining("soon");
    }

    @Test
    void timeoutsAndRetriableErrorsAnywhereInTheChainAreRetriableOthersAreNot() {
        assertThat(KafkaClients.retriable(new KafkaException("wrapped", new TimeoutException("t")))).isTrue();
        assertThat(KafkaClients.retriable(new NotEnoughReplicasException("isr"))).isTrue();
        assertThat(KafkaClients.retriable(new KafkaException("wrapped", new RecordTooLargeException("big")))).isFalse();
        assertThat(KafkaClients.retriable(new ProducerFencedException("fenced"))).isFalse();
    }

    @Test
    void messagesNameTheCauseKafkaWrapsInAGenericError() {
        KafkaException wrapped = new KafkaException("in an error state",
                new KafkaException("in an error state", new RecordTooLargeException("larger than max.request.size")));

        assertThat(KafkaClients.messages(wrapped)).isEqualTo("in an error state: larger than max.request.size");
    }
}
