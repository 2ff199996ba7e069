package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Cron schedules end to end: created and altered through the Java and SQL APIs, kept as written,
 * due once they fired after the last refresh, pulling their CALCULATED sources along; an invalid
 * one refused with the reason.
 */
@ExtendWith(PostgresExtension.class)
class CronScheduleIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    CronScheduleIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void setUp() {
        engine = EngineFixture.open(db).start();
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS readings CASCADE", "CREATE TABLE readings (id int PRIMARY KEY, v int NOT NULL)",
                "INSERT INTO readings VALUES (1, 10), (2, 20)");
    }

    @AfterEach
    void tearDown() {
        engine.close();
    }

    private Scheduler manualScheduler() {
        Catalog catalog = new Catalog();
        return new Scheduler(engine.dataSource(), catalog, new Refresher(engine.dataSource(), catalog,
                EngineFixture.config(db).retryPolicy(), engine.capture(), engine.serverCapabilities()), Duration.ofHours(1));
    }

    private long id(String name) {
        return api.require(QualifiedName.parse(name)).id();
    }

    @Test
    void aCronStreamTableRefreshesWhenItFiresAndPullsItsCalculatedSourceAlong() throws Exception {
        engine.close(); // only the manual scheduler refreshes here
        engine = EngineFixture.open(db);
        api = engine.streamTables();
        api.create(StreamTableSpec.parse("cr_yearly", "SELECT count(*) AS n FROM readings", "0 0 1 1 *", null));
        api.create(StreamTableSpec.parse("cr_source", "SELECT id, v * 2 AS v2 FROM readings", "calculated", null));
        api.create(StreamTableSpec.parse("cr_every_second", "SELECT sum(v2) AS total FROM cr_source", "* * * * * *", null));
        db.execute("INSERT INTO readings VALUES (3, 30)");
        Thread.sleep(1100); // a firing of the every-second cron after the creation's refresh

        assertThat(manualScheduler().runOnce()).containsExactly(id("cr_source"), id("cr_every_second"));
        assertThat(db.value("SELECT total FROM cr_every_second")).hasToString("120");
        assertThat(db.value("SELECT schedule FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'cr_every_second'"))
                .isEqualTo("* * * * * *");
    }

    @Test
    void cronSchedulesGoThroughTheSqlFunctionsAndInvalidOnesAreRefusedWithTheReason() {
        long created = (Long) db.value("SELECT pgtrickle.create_stream_table('cr_sql', 'SELECT id, v FROM readings',"
                + " schedule => 'CRON_TZ=Europe/Oslo 30 6 * * 1-5')");
        db.value("SELECT pgtrickle.await_request(?, '20 seconds')", created);
        assertThat(api.require(QualifiedName.parse("cr_sql")).schedule().text()).isEqualTo("CRON_TZ=Europe/Oslo 30 6 * * 1-5");

        api.alter("cr_sql", AlterSpec.none().withSchedule("@hourly"));
        assertThat(db.value("SELECT schedule FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'cr_sql'")).isEqualTo("@hourly");

        long bad = (Long) db.value("SELECT pgtrickle.alter_stream_table('cr_sql', schedule => '61 * * * *')");
        assertThatThrownBy(() -> db.value("SELECT pgtrickle.await_request(?, '20 seconds')", bad))
                .hasMessageContaining("invalid cron schedule \"61 * * * *\"").hasMessageContaining("61");
        assertThatThrownBy(() -> db.value("SELECT pgtrickle.create_stream_table('cr_x', 'SELECT 1 AS a', schedule => 'daily at 6')"))
                .hasMessageContaining("invalid schedule \"daily at 6\"");
        assertThat(db.value("SELECT schedule FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'cr_sql'"))
                .as("the refused alter changed nothing").isEqualTo("@hourly");
    }
}
