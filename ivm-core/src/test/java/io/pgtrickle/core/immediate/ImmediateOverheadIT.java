package io.pgtrickle.core.immediate;

import static io.pgtrickle.core.immediate.ImmediateModeIT.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an IMMEDIATE stream table costs the writer: the median time of a single-row UPDATE
 * (autocommit) of the source with no stream table, with a DIFFERENTIAL one (capture only) and with
 * an IMMEDIATE one, for a projection and an aggregate. Logged, not asserted (machine-dependent);
 * {@code -Dpgtrickle.overhead.rounds=N} for more rounds.
 */
@ExtendWith(PostgresExtension.class)
class ImmediateOverheadIT {
    private static final Logger log = LoggerFactory.getLogger(ImmediateOverheadIT.class);
    private static final int ROUNDS = Integer.getInteger("pgtrickle.overhead.rounds", 300);

    @Test
    void singleRowUpdateWithAndWithoutAnImmediateStreamTable(TestDatabase db) throws Exception {
        db.execute("DROP TABLE IF EXISTS acct CASCADE",
                "CREATE TABLE acct (id int PRIMARY KEY, grp int NOT NULL, balance numeric NOT NULL)",
                "INSERT INTO acct SELECT g, g % 1000, 0 FROM generate_series(1, 100000) g", "ANALYZE acct");
        StringBuilder report = new StringBuilder("\nsingle-row UPDATE of a 100000-row source, median of " + ROUNDS
                + " (ms):\n");
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            report.append(line("no stream table", median(w)));
            for (String[] shape : new String[][] {
                    {"projection", "SELECT id, balance * 2 AS doubled FROM acct WHERE balance >= 0"},
                    {"aggregate", "SELECT grp, count(*) AS n, sum(balance) AS total FROM acct GROUP BY grp"}}) {
                api.create(StreamTableSpec.parse("ov_" + shape[0], shape[1], "1h", "DIFFERENTIAL"));
                report.append(line(shape[0] + ", DIFFERENTIAL (capture only)", median(w)));
                api.alter("ov_" + shape[0], io.pgtrickle.core.lifecycle.AlterSpec.none().withRefreshMode("IMMEDIATE"));
                if (Boolean.getBoolean("pgtrickle.overhead.explain")) {
                    run(w, "LOAD 'auto_explain'");
                    run(w, "SET auto_explain.log_min_duration = 2");
                    run(w, "SET auto_explain.log_nested_statements = on");
                    run(w, "SET client_min_messages = log");
                    run(w, "SET auto_explain.log_level = notice");
                    java.sql.Statement s = w.createStatement();
                    s.execute("UPDATE acct SET balance = balance + 1 WHERE id = 77");
                    for (java.sql.SQLWarning x = s.getWarnings(); x != null; x = x.getNextWarning()) {
                        log.info("auto_explain: {}", x.getMessage());
                    }
                    run(w, "RESET auto_explain.log_min_duration");
                }
                report.append(line(shape[0] + ", IMMEDIATE", median(w)));
                assertThat(ImmediateModeIT.differences(w, "ov_" + shape[0], shape[1])).isEmpty();
                api.drop("ov_" + shape[0]);
            }
        }
        log.info(report.toString());
    }

    private static String line(String what, double ms) {
        return String.format(Locale.ROOT, "  %-40s %8.3f%n", what, ms);
    }

    private static double median(Connection w) throws Exception {
        for (int i = 0; i < 30; i++) {
            run(w, "UPDATE acct SET balance = balance + 1 WHERE id = " + (1 + i));
        }
        double[] ms = new double[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            long start = System.nanoTime();
            run(w, "UPDATE acct SET balance = balance + 1 WHERE id = " + (1 + (i * 7919) % 100000));
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ROUNDS / 2];
    }
}
