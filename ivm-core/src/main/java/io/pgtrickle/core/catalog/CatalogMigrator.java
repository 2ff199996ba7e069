package io.pgtrickle.core.catalog;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Installs and upgrades the {@code pgtrickle} catalog schema with versioned Flyway migrations. */
public final class CatalogMigrator {
    private static final Logger log = LoggerFactory.getLogger(CatalogMigrator.class);

    private CatalogMigrator() {
    }

    /** Brings the catalog to the newest version; safe to call on every start and concurrently. */
    public static void migrate(DataSource dataSource) {
        Flyway flyway = Flyway.configure()
                .dataSource(dataSource)
                .schemas("pgtrickle")
                .table("pgt_schema_history")
                .locations("classpath:db/pgtrickle")
                .createSchemas(true)
                .baselineOnMigrate(false)
                .loggers("slf4j")
                .load();
        MigrateResult result = flyway.migrate();
        if (result.migrationsExecuted > 0) {
            log.info("pgtrickle catalog migrated to version {} ({} migrations)", result.targetSchemaVersion,
                    result.migrationsExecuted);
        }
    }
}
