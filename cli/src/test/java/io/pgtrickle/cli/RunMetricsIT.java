package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * {@code pgtrickle run --metrics-addr}: the engine's metrics per stream table, change buffer and
 * replication slot on a Prometheus scrape endpoint; {@code --log-format json}: one JSON object
 * per log line on stderr.
 */
@ExtendWith(PostgresExtension.class)
class RunMetricsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void runServesEngineMetricsAndLogsJson(TestDatabase db) throws Exception {
        db.execute("DROP TABLE IF EXISTS readings CASCADE",
                "CREATE TABLE readings (id int PRIMARY KEY, sensor text, v int)",
                "INSERT INTO readings VALUES (1, 'a', 10), (2, 'b', 20)");
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        Cli daemon = new Cli();
        RunCommand run = daemon.subcommand("run");
        CompletableFuture<Cli.Result> running = CompletableFuture.supplyAsync(() -> daemon.execute("run",
                "--jdbc-url", db.jdbcUrl(), "--slot-name", "pgtrickle_" + db.name(),
                "--metrics-addr", "127.0.0.1:0", "--log-format", "json"));
        try {
            assertThat(run.awaitRunning(Duration.ofSeconds(60))).as(daemon.out() + daemon.err()).isTrue();
            assertThat(daemon.out()).contains("metrics on http://127.0.0.1:" + run.metricsPort() + "/metrics");
            // Two statements: the engine sees a request once its transaction commits.
            awaitRequest(db, db.value("SELECT pgtrickle.create_stream_table('per_sensor',"
                    + " 'SELECT sensor, sum(v) AS total FROM readings GROUP BY sensor', '1s')"));
            awaitRequest(db, db.value("SELECT pgtrickle.create_stream_table('big', 'SELECT id FROM readings WHERE v > 15', '1s')"));
            db.value("SELECT pgtrickle.enable_outbox('big')");
            db.execute("INSERT INTO readings VALUES (3, 'a', 30)");

            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + run.metricsPort() + "/metrics");
            String[] scrape = new String[1];
            // The gauges are read every 10 s; wait for a read that saw both stream tables refreshed.
            await().atMost(60, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(500)).until(() -> {
                scrape[0] = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
                return value(scrape[0], "pgtrickle_engine_refreshes_5m", "stream_table", "public.per_sensor") >= 1
                        && value(scrape[0], "pgtrickle_engine_refreshes_5m", "stream_table", "public.big") >= 1
                        && value(scrape[0], "pgtrickle_engine_outbox_entries", "stream_table", "public.big") >= 1;
            });
            String metrics = scrape[0];
            assertThat(value(metrics, "pgtrickle_engine_failed_refreshes_5m", "stream_table", "public.per_sensor"))
                    .isZero();
            assertThat(value(metrics, "pgtrickle_engine_rows_inserted_5m", "stream_table", "public.per_sensor"))
                    .isGreaterThanOrEqualTo(2);
            assertThat(value(metrics, "pgtrickle_engine_refresh_max_ms_5m", "stream_table", "public.big"))
                    .isGreaterThanOrEqualTo(value(metrics, "pgtrickle_engine_refresh_mean_ms_5m", "stream_table",
                            "public.big"));
            assertThat(value(metrics, "pgtrickle_engine_staleness_seconds", "stream_table", "public.big"))
                    .isBetween(0.0, 60.0);
            assertThat(value(metrics, "pgtrickle_engine_consecutive_errors", "stream_table", "public.big")).isZero();
            assertThat(value(metrics, "pgtrickle_engine_change_buffer_rows", "source", "public.readings"))
                    .isGreaterThanOrEqualTo(0);
            assertThat(value(metrics, "pgtrickle_engine_capture_lag_seconds", "source", "public.readings"))
                    .isGreaterThanOrEqualTo(0);
            assertThat(metrics).contains("jvm_memory_used_bytes");
            List<List<Object>> slots = db.rows("SELECT slot_name::text FROM pgtrickle.slot_health()");
            assertThat(slots).as("the embedded server allows WAL capture").isNotEmpty();
            for (List<Object> slot : slots) {
                assertThat(value(metrics, "pgtrickle_engine_slot_retained_wal_bytes", "slot", (String) slot.get(0)))
                        .as("WAL capture keeps WAL").isGreaterThan(0);
            }
        } finally {
            run.stop();
            try {
                running.get(60, TimeUnit.SECONDS);
            } finally {
                System.setErr(stderr);
                restoreLogging();
            }
        }
        Cli.Result stopped = running.get();
        assertThat(stopped.exitCode()).as(stopped.toString()).isZero();

        // Every line the run logged is one JSON object with the level and the message.
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).isNotEmpty();
        for (String line : lines) {
            JsonNode event = JSON.readTree(line);
            assertThat(event.has("level") && event.has("message")).as(line).isTrue();
        }
        assertThat(lines).anyMatch(l -> l.contains("public.per_sensor"));
    }

    private static void awaitRequest(TestDatabase db, Object request) {
        db.value("SELECT pgtrickle.await_request(?)", request);
    }

    /** The value of {@code name{tag="value"}} in a Prometheus scrape, or -1 when absent. */
    private static double value(String scrape, String name, String tag, String value) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{" + tag + "=\"" + Pattern.quote(value)
                + "\",?} (\\S+)$").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** Back to logback.xml, for the tests that run after this one in the same JVM. */
    private static void restoreLogging() throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        new ContextInitializer(context).autoConfig();
    }
}
