package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A FULL refresh is atomic: readers see the old contents or the new, never an empty or partial table. */
@ExtendWith(PostgresExtension.class)
class ConcurrentReadersIT {
    @Test
    void readersNeverSeeAnEmptyOrPartialTableDuringFullRefreshes(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE readings (id int PRIMARY KEY, v int NOT NULL)",
                "INSERT INTO readings SELECT g, 0 FROM generate_series(1, 2000) g");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            api.create(StreamTableSpec.of("snapshot", "SELECT id, v FROM readings"));

            AtomicBoolean running = new AtomicBoolean(true);
            List<String> anomalies = Collections.synchronizedList(new ArrayList<>());
            List<Long> reads = Collections.synchronizedList(new ArrayList<>());
            Thread reader = new Thread(() -> {
                try (Connection c = db.connect(); Statement s = c.createStatement()) {
                    while (running.get()) {
                        try (ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT v), min(v) FROM snapshot")) {
                            rs.next();
                            reads.add(rs.getLong(1));
                            if (rs.getLong(1) != 2000 || rs.getLong(2) != 1) {
                                anomalies.add("rows=" + rs.getLong(1) + " distinct v=" + rs.getLong(2));
                            }
                        }
                    }
                } catch (Exception e) {
                    anomalies.add(e.toString());
                }
            });
            reader.start();
            // Every round changes every row, so each refresh deletes and inserts all 2000.
            for (int round = 1; round <= 15; round++) {
                db.execute("UPDATE readings SET v = " + round);
                assertThat(api.refresh("snapshot").rowsInserted()).isEqualTo(2000);
            }
            running.set(false);
            reader.join();

            assertThat(anomalies).isEmpty();
            assertThat(reads).isNotEmpty();
            assertThat(db.multisetDifference("SELECT id, v FROM snapshot", "SELECT id, v FROM readings")).isEmpty();
        }
    }
}
