package io.pgtrickle.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code pgtrickle-relay check}: prints the effective configuration with secrets masked, tries
 * PostgreSQL and every pipeline's target, and names what failed; an invalid file exits 2 with the
 * key, the line and the nearest valid key.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RelayCheckIT {
    private final TestDatabase db;

    RelayCheckIT(TestDatabase db) {
        this.db = db;
    }

    record Run(int exitCode, String out, String err) {
    }

    private static Run check(Path config) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new RelayMain()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("check", "--config", config.toString(), "--timeout", "3");
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void namesEachFailedConnectionAndMasksSecrets(@TempDir Path dir) throws Exception {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, customer text, amount int)");
        // The check needs no running engine, only the catalog: an engine opened briefly installs it.
        try (var engine = io.pgtrickle.core.PgTrickleEngine.open(io.pgtrickle.core.EngineConfig.of(db.jdbcUrl())
                .withSlotName("pgtrickle_" + db.name()))) {
            engine.streamTables().create(io.pgtrickle.core.lifecycle.StreamTableSpec.parse("totals",
                    "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer", "1s", "DIFFERENTIAL"));
            engine.outboxes().enable("totals");
        }
        Path config = Files.writeString(dir.resolve("relay.toml"), """
                postgres_url = "%s&password=s3cret-in-url"
                metrics_addr = "127.0.0.1:0"

                [[pipeline]]
                name = "ok-stdout"
                direction = "forward"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "stdout"

                [[pipeline]]
                name = "redis-down"
                direction = "forward"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "redis"
                url = "redis://127.0.0.1:1"
                password = "hunter2"

                [[pipeline]]
                name = "no-such-table"
                direction = "forward"
                [pipeline.source]
                stream_table = "ghost"
                [pipeline.sink]
                type = "stdout"
                """.formatted(db.jdbcUrl().contains("?") ? db.jdbcUrl() : db.jdbcUrl() + "?user=postgres"));

        Run r = check(config);

        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).doesNotContain("hunter2", "s3cret-in-url").contains("****")
                .contains("ok    pipeline ok-stdout target")
                .containsPattern("FAIL  pipeline redis-down target: .*127\\.0\\.0\\.1:1")
                .contains("stream table ghost does not exist; create it, or declare it in a [[stream_table]]")
                .contains("some checks failed");
    }

    @Test
    void anInvalidFileExitsTwoNamingTheKeyTheLineAndTheNearestKey(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("relay.toml"), """
                postgres_url = "%s"

                [[pipeline]]
                name = "orders"
                direction = "forward"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "kafka"
                bootstrap_server = "localhost:9092"
                """.formatted(db.jdbcUrl()));

        Run r = check(config);

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("bootstrap_server", "line 10", "did you mean 'bootstrap_servers'?");
        assertThat(r.out()).isEmpty();
    }
}
