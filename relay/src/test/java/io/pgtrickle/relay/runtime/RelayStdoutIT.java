package io.pgtrickle.relay.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.format.FormatName;
import io.pgtrickle.relay.config.Direction;
import io.pgtrickle.relay.config.EngineSettings;
import io.pgtrickle.relay.config.PipelineConfig;
import io.pgtrickle.relay.config.RelayConfig;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.config.StreamTableConfig;
import io.pgtrickle.relay.pipeline.PipelineState;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The relay hosting the engine: declares a stream table, enables its outbox and prints each change
 * as a JSON line, in order; a restarted relay resumes after what it delivered; /ready and /metrics
 * answer.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RelayStdoutIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final TestDatabase db;

    RelayStdoutIT(TestDatabase db) {
        this.db = db;
    }

    private RelayConfig config() {
        return new RelayConfig(db.jdbcUrl(), null, "127.0.0.1:0", "info", "text", "it",
                new EngineSettings(true, false, null, 0, "pgtrickle_" + db.name()),
                List.of(new StreamTableConfig("order_totals",
                        "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer", "1s", "DIFFERENTIAL", 24,
                        1000)),
                List.of(new PipelineConfig("totals-out", Direction.FORWARD, true,
                        new SourceConfig.StreamTable("order_totals"), new SinkConfig.Stdout(), FormatName.NATIVE, 2,
                        Duration.ofMillis(100), Duration.ofSeconds(1))));
    }

    private Relay start(ByteArrayOutputStream out) throws Exception {
        return Relay.start(config(), new PrintStream(out, true, StandardCharsets.UTF_8),
                e -> e.withSlotName("pgtrickle_" + db.name()));
    }

    @Test
    void printsEveryChangeOnceInOrderAndResumesAfterARestart() throws Exception {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount int NOT NULL)",
                "INSERT INTO orders VALUES (1, 'a', 10), (2, 'b', 20)");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Relay relay = start(out)) {
            // The outbox starts with the contents: two inserts.
            await().atMost(Duration.ofSeconds(30)).until(() -> lines(out).size() == 2);
            db.execute("UPDATE orders SET amount = 15 WHERE id = 1", "INSERT INTO orders VALUES (3, 'c', 5)");
            await().atMost(Duration.ofSeconds(30)).until(() -> lines(out).size() == 4);
            assertThat(relay.pipelines()).extracting(s -> s.state()).containsExactly(PipelineState.RUNNING);

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + relay.statusPort() + "/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).contains("pipeline totals-out: running");
            String metrics = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + relay.statusPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("pgtrickle_relay_published_total{pipeline=\"totals-out\"} 4.0",
                    "pgtrickle_relay_owned{pipeline=\"totals-out\"} 1.0");
            // The engine's refreshes, read from the catalog every 10 s.
            await().atMost(Duration.ofSeconds(30)).until(() -> http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + relay.statusPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()
                    .matches("(?s).*pgtrickle_engine_refreshes_5m\\{stream_table=\"public.order_totals\"} [1-9].*"));
        }
        List<JsonNode> first = lines(out);
        assertThat(first).extracting(n -> n.get("op").asText() + " " + n.get("key").get("customer").asText())
                .containsExactly("insert a", "insert b", "update a", "insert c");
        assertThat(first.get(2).get("before").get("total").asInt()).isEqualTo(10);
        assertThat(first.get(2).get("after").get("total").asInt()).isEqualTo(15);
        assertThat(first).extracting(n -> n.get("position").asText()).doesNotHaveDuplicates();

        db.execute("DELETE FROM orders WHERE id = 2");
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        try (Relay relay = start(again)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> lines(again).size() >= 1);
            Thread.sleep(1500); // nothing else may follow: the rest was delivered before the restart
        }
        assertThat(lines(again)).extracting(n -> n.get("op").asText() + " " + n.get("key").get("customer").asText())
                .containsExactly("delete b");
    }

    private static List<JsonNode> lines(ByteArrayOutputStream out) throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                nodes.add(JSON.readTree(line));
            }
        }
        return nodes;
    }
}
