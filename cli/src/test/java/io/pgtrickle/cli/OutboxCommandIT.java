package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code pgtrickle outbox enable|status|tail|disable} through the real command line against a real PostgreSQL 18. */
@ExtendWith(PostgresExtension.class)
class OutboxCommandIT {
    private final TestDatabase db;

    OutboxCommandIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void tables() {
        db.execute("DROP TABLE IF EXISTS totals, orders CASCADE",
                "DO $$ BEGIN IF to_regclass('pgtrickle.pgt_stream_tables') IS NOT NULL THEN"
                        + " DELETE FROM pgtrickle.pgt_stream_tables; END IF; END $$",
                "CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10,2))",
                "INSERT INTO orders VALUES (1, 'Ada', 10.50), (2, 'Ada', 20.25), (3, 'Bob', 5.00)");
    }

    private Cli.Result pgtrickle(String... args) {
        return Cli.runAgainst(db.jdbcUrl(), "pgtrickle_" + db.name(), args);
    }

    @Test
    void enableStatusTailAndDisableAnOutbox() {
        pgtrickle("create", "totals", "--query", "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer",
                "--schedule", "1h", "--mode", "DIFFERENTIAL");
        Cli.Result enabled = pgtrickle("outbox", "enable", "totals", "--inline-threshold-rows", "10");
        assertThat(enabled.exitCode()).as(enabled.toString()).isZero();
        assertThat(enabled.out()).contains("enabled the outbox of totals");

        db.execute("UPDATE orders SET amount = 1 WHERE id = 3");
        assertThat(pgtrickle("refresh", "totals").exitCode()).isZero();

        Cli.Result status = pgtrickle("outbox", "status", "totals");
        assertThat(status.exitCode()).as(status.toString()).isZero();
        assertThat(status.out()).contains("public.totals").contains("10 rows").contains("24 h");

        Cli.Result tail = pgtrickle("outbox", "tail", "totals", "--from-beginning", "--max-entries", "2");
        assertThat(tail.exitCode()).as(tail.toString()).isZero();
        List<String> lines = tail.out().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("\"op\": \"insert\"", "\"key\": {\"customer\": \"Ada\"}", "\"full_refresh\": true");
        assertThat(lines.get(2)).contains("\"op\": \"update\"", "\"key\": {\"customer\": \"Bob\"}",
                "\"before\": {\"total\": 5.00, \"customer\": \"Bob\"}", "\"after\": {\"total\": 1.00, \"customer\": \"Bob\"}");

        Cli.Result missing = pgtrickle("outbox", "status", "orders");
        assertThat(missing.exitCode()).isEqualTo(4);
        assertThat(missing.err()).contains("stream table public.orders does not exist");

        assertThat(pgtrickle("outbox", "disable", "totals").exitCode()).isZero();
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox")).isEqualTo(0L);
    }
}
