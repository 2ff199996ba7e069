package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.format.FormatName;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class PgTrickleSourceConfigTest {
    private static Map<String, String> minimal() {
        Map<String, String> p = new HashMap<>();
        p.put("connection.url", "jdbc:postgresql://localhost:5432/app");
        p.put("stream.tables", "order_totals");
        return p;
    }

    @Test
    void everyKeyIsDeclaredFully() {
        assertThat(PgTrickleSourceConfig.CONFIG_DEF.configKeys()).hasSize(10);
        for (ConfigKey k : PgTrickleSourceConfig.CONFIG_DEF.configKeys().values()) {
            assertThat(k.documentation).as(k.name + " doc").isNotBlank();
            assertThat(k.group).as(k.name + " group").isNotBlank();
            assertThat(k.displayName).as(k.name + " display name").isNotBlank();
            assertThat(k.orderInGroup).as(k.name + " order").isPositive();
            assertThat(k.importance).as(k.name + " importance").isNotNull();
        }
        assertThat(PgTrickleSourceConfig.CONFIG_DEF.configKeys()).doesNotContainKey(PgTrickleSourceConfig.TASK_STREAM_TABLES);
    }

    @Test
    void defaultsApply() {
        PgTrickleSourceConfig c = new PgTrickleSourceConfig(minimal());
        assertThat(c.topicTemplate().text()).isEqualTo("pgtrickle.{stream_table}");
        assertThat(c.format()).isEqualTo(FormatName.NATIVE);
        assertThat(c.batchSize()).isEqualTo(500);
        assertThat(c.pollIntervalMs()).isEqualTo(200);
        assertThat(c.tablesPollIntervalMs()).isEqualTo(10_000);
        assertThat(c.streamTables()).containsExactly("order_totals");
        assertThat(c.streamTablesPattern()).isNull();
        assertThat(c.user()).isNull();
        assertThat(c.password()).isNull();
    }

    @Test
    void thePasswordIsHiddenWhenTheConfigIsPrinted() {
        Map<String, String> p = minimal();
        p.put("connection.password", "s3cret-value");
        PgTrickleSourceConfig c = new PgTrickleSourceConfig(p);
        assertThat(c.password()).isEqualTo("s3cret-value");
        assertThat(c.values().toString()).doesNotContain("s3cret-value");
        assertThat(c.getPassword("connection.password").toString()).isEqualTo("[hidden]");
    }

    @Test
    void badValuesAreRejectedOnTheirKey() {
        assertRejected("connection.url", "jdbc:mysql://x/y", "PostgreSQL JDBC URL");
        assertRejected("topic.template", "t.{table}", "unknown placeholder {table}");
        assertRejected("topic.template", "t.{stream_table", "unbalanced brace");
        assertRejected("format", "avro", "native or debezium");
        assertRejected("batch.size", "0", "batch.size");
        assertRejected("poll.interval.ms", "1", "poll.interval.ms");
        assertRejected("tables.poll.interval.ms", "10", "tables.poll.interval.ms");
        assertRejected("stream.tables.pattern", "public.(", "not a regular expression");
    }

    private static void assertRejected(String key, String value, String message) {
        Map<String, String> p = minimal();
        p.put(key, value);
        if (key.equals("stream.tables.pattern")) {
            p.remove("stream.tables");
        }
        assertThatThrownBy(() -> new PgTrickleSourceConfig(p)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(key).hasMessageContaining(message);
        ConfigValue v = PgTrickleSourceConfig.CONFIG_DEF.validate(p).stream().filter(cv -> cv.name().equals(key)).findFirst()
                .orElseThrow();
        assertThat(v.errorMessages()).as(key + "=" + value).isNotEmpty();
    }

    @Test
    void exactlyOneOfTheListAndThePatternIsSet() {
        Map<String, String> both = minimal();
        both.put("stream.tables.pattern", "public\\..*");
        assertThatThrownBy(() -> new PgTrickleSourceConfig(both)).hasMessageContaining("exactly one of stream.tables");
        Map<String, String> neither = minimal();
        neither.remove("stream.tables");
        assertThatThrownBy(() -> new PgTrickleSourceConfig(neither)).hasMessageContaining("exactly one of stream.tables");
        Map<String, String> pattern = minimal();
        pattern.remove("stream.tables");
        pattern.put("stream.tables.pattern", "public\\.order_.*");
        assertThat(new PgTrickleSourceConfig(pattern).streamTablesPattern().matcher("public.order_totals").matches()).isTrue();
    }

    @Test
    void theFormatIsCaseInsensitive() {
        Map<String, String> p = minimal();
        p.put("format", "Debezium");
        assertThat(new PgTrickleSourceConfig(p).format()).isEqualTo(FormatName.DEBEZIUM);
    }

    @Test
    void tasksSplitTheStreamTablesRoundRobin() {
        List<Map<String, String>> configs = PgTrickleSourceConnector.taskConfigs(minimal(),
                List.of("public.a", "public.b", "public.c"), 2);
        assertThat(configs).extracting(c -> c.get(PgTrickleSourceConfig.TASK_STREAM_TABLES))
                .containsExactly("public.a,public.c", "public.b");
        assertThat(PgTrickleSourceConnector.taskConfigs(minimal(), List.of("public.a"), 4)).hasSize(1);
        assertThat(PgTrickleSourceConnector.taskConfigs(minimal(), List.of(), 4)).isEmpty();
        PgTrickleSourceConfig task = PgTrickleSourceConfig.forTask(configs.get(0));
        assertThat(task.taskStreamTables()).containsExactly("public.a", "public.c");
    }

    @Test
    void aStoredOffsetIsAPosition() {
        assertThat(PgTrickleSourceTask.position(null).toString()).isEqualTo("0:-1");
        assertThat(PgTrickleSourceTask.position(Map.of("offset", 12L, "row_index", 3)).toString()).isEqualTo("12:3");
    }
}
