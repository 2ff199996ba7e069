package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.query.SqlJsonSyntax;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every example of the README's "Supported SQL per refresh mode" table is maintained as the table says. */
@ExtendWith(PostgresExtension.class)
class ReadmeSupportedSqlIT {
    private static final Pattern ROW = Pattern.compile("^\\| [^|]+ \\| `([^`]+)` \\| (DIFFERENTIAL|FULL) \\|$");

    @Test
    void eachExampleGetsTheDocumentedMode(TestDatabase db) throws IOException {
        db.execute("CREATE TABLE dept (id int PRIMARY KEY, name text, parent_id int)",
                "CREATE TABLE emp (id int PRIMARY KEY, dept_id int, name text, salary numeric, hired_at timestamptz)",
                "INSERT INTO dept VALUES (1, 'a')", "INSERT INTO emp VALUES (1, 1, 'ann', 10), (2, 1, 'bob', 20)",
                "CREATE TABLE orders (id int, region text, amount int) PARTITION BY LIST (region)",
                "CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu')",
                "CREATE TABLE orders_rest PARTITION OF orders DEFAULT",
                "CREATE TABLE animals (id int, name text)", "CREATE TABLE dogs (breed text) INHERITS (animals)",
                "CREATE VIEW emp_dept AS SELECT e.id, e.salary, d.name AS dept FROM emp e JOIN dept d ON d.id = e.dept_id",
                "CREATE VIEW top_paid AS SELECT id FROM emp ORDER BY salary DESC LIMIT 3",
                "CREATE TABLE lines (id int PRIMARY KEY, price numeric, qty int,"
                        + " total numeric GENERATED ALWAYS AS (price * qty) STORED)",
                "CREATE DOMAIN posint AS int CHECK (VALUE > 0)", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                "CREATE TYPE address AS (city text, zip text)",
                "CREATE TABLE people (id int PRIMARY KEY, age posint, mood mood, home address, tags jsonb)");
        String readme = Files.readString(Path.of("..", "README.md"));
        String section = readme.substring(readme.indexOf("### Supported SQL per refresh mode"),
                readme.indexOf("### Command line"));
        int checked = 0;
        int skipped = 0;
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            for (String line : section.lines().toList()) {
                Matcher m = ROW.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                if (SqlJsonSyntax.minimumServerVersion(m.group(1)) > db.serverVersionNum()) {
                    skipped++; // SQL/JSON syntax this server does not have (-Dpgtrickle.postgres.version=15)
                    continue;
                }
                String name = "example_" + (++checked);
                StreamTableRecord st = engine.streamTables().create(StreamTableSpec.parse(name, m.group(1), "calculated", null));
                assertThat(st.effectiveMode().name()).as(m.group(1)).isEqualTo(m.group(2));
                if (st.modeReason() != null) {
                    assertThat(st.modeReason()).as("a FULL example says why").isNotBlank();
                }
            }
        }
        assertThat(checked + skipped).isEqualTo(38);
    }
}
