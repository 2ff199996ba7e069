package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The capture sections of {@code pgtrickle status} for a database whose engine captures with
 * triggers: buffers fill inside the writers' transactions, and there is no replication slot. The
 * sections are printed directly, since the command line's own engine would capture from the WAL on
 * this server.
 */
@ExtendWith(PostgresExtension.class)
class StatusTriggerIT {
    @Test
    void captureSectionsShowTriggerBuffersAndNoSlot(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE readings (id int PRIMARY KEY, v int)");
        EngineConfig config = EngineConfig.of(db.jdbcUrl()).withCdcMode(CdcMode.TRIGGER)
                .withSlotName("pgtrickle_" + db.name());
        try (PgTrickleEngine engine = PgTrickleEngine.open(config); Connection c = db.connect()) {
            assertThat(capture(c)).isEqualTo("change buffers\nnone: no stream table reads a table yet\n\n"
                    + "replication slot\nno replication slot (trigger capture)\n");

            engine.streamTables().create(StreamTableSpec.of("totals", "SELECT sum(v) AS total FROM readings"));
            db.execute("INSERT INTO readings VALUES (1, 10), (2, 20)");

            assertThat(capture(c)).containsPattern("(?m)^ public\\.readings +\\| TRIGGER +\\|"
                            + " pgtrickle_changes\\.changes_\\d+ +\\| +2 \\| +\\d+(\\.\\d)? [kMG]?B \\|"
                            + " \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$")
                    .endsWith("replication slot\nno replication slot (trigger capture)\n");
            assertThat(engine.streamTables().status()).singleElement()
                    .satisfies(row -> assertThat(row.cdcMode()).isEqualTo("TRIGGER"));
        }
    }

    private static String capture(Connection c) throws Exception {
        StringWriter text = new StringWriter();
        try (PrintWriter out = new PrintWriter(text)) {
            StatusCommand.printCapture(c, out);
        }
        return text.toString();
    }
}
