package io.pgtrickle.relay.target.nats;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.format.Template;
import io.pgtrickle.relay.config.NatsEndpoint;
import io.pgtrickle.relay.config.SinkConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class NatsStreamSubjectsTest {
    private static NatsTarget target(String subject) {
        return new NatsTarget(new SinkConfig.Nats(new NatsEndpoint("nats://127.0.0.1:4222", null, null, null), "S",
                new Template(subject), Duration.ofMinutes(2), true), "orders");
    }

    @Test
    void anOpThatIsAWholeTokenBecomesAWildcard() {
        assertThat(target("pgt.{stream_table}.{op}").streamSubjects()).containsExactly("pgt.orders.*");
    }

    @Test
    void anOpInsideATokenIsListedPerOpBecauseAWildcardMustBeAWholeToken() {
        assertThat(target("pgt.{stream_table}_{op}").streamSubjects())
                .containsExactly("pgt.orders_insert", "pgt.orders_update", "pgt.orders_delete");
    }

    @Test
    void aTemplateWithoutOpIsOneSubject() {
        assertThat(target("pgt.{stream_table}").streamSubjects()).containsExactly("pgt.orders");
    }
}
