package io.pgtrickle.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every class of relay.toml error, with the key path, line:column and message it is reported with. */
class ConfigErrorsTest {
    private static final String PG = "postgres_url = \"jdbc:postgresql://localhost:5432/app\"\n";

    /** A forward pipeline "orders" from stream table orders; {@code sink} is the body of [pipeline.sink]. */
    private static String forward(String pipelineExtra, String sink) {
        return PG + "\n[[pipeline]]\nname = \"orders\"\ndirection = \"forward\"\n" + pipelineExtra
                + "[pipeline.source]\nstream_table = \"orders\"\n[pipeline.sink]\n" + sink;
    }

    /** A reverse pipeline "in" into inbox "orders_inbox"; {@code source} is the body of [pipeline.source]. */
    private static String reverse(String pipelineExtra, String source) {
        return PG + "\n[[pipeline]]\nname = \"in\"\ndirection = \"reverse\"\n" + pipelineExtra
                + "[pipeline.source]\n" + source + "[pipeline.sink]\ninbox = \"orders_inbox\"\n";
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // description, toml, expected path, expected location, expected message fragment
                Arguments.of("TOML syntax error", PG + "log_level = \n", null, "line 2:13",
                        "TOML syntax error: Unexpected end of line, expected a value"),
                Arguments.of("misspelt top-level key", PG + "log_levl = \"info\"\n", "log_levl", "line 2:1",
                        "unknown key 'log_levl' in the top level; did you mean 'log_level'?"),
                Arguments.of("misspelt table name", PG + "[engin]\nembedded = true\n", "engin", "line 2:1",
                        "did you mean 'engine'?"),
                Arguments.of("misspelt sink key", forward("", "type = \"kafka\"\nbootstrap_server = \"k:9092\"\n"),
                        "pipeline \"orders\".sink.bootstrap_server", "line 10:1",
                        "unknown key 'bootstrap_server' in [pipeline.sink] type = \"kafka\"; did you mean 'bootstrap_servers'?"),
                Arguments.of("unknown key far from any", forward("", "type = \"stdout\"\ncolour = \"red\"\n"),
                        "pipeline \"orders\".sink.colour", "line 10:1",
                        "unknown key 'colour' in [pipeline.sink] type = \"stdout\"; the keys of [pipeline.sink] type = \"stdout\" are type"),
                Arguments.of("topic under a nats sink is misplaced",
                        forward("", "type = \"nats\"\nstream = \"S\"\ntopic = \"t\"\n"),
                        "pipeline \"orders\".sink.topic", "line 11:1",
                        "key 'topic' does not belong in [pipeline.sink] type = \"nats\"; it belongs in [pipeline.sink] type = \"kafka\""),
                Arguments.of("format on a reverse pipeline", reverse("format = \"debezium\"\n",
                                "type = \"redis\"\nstream_key = \"s\"\n"), "pipeline \"in\".format", "line 6:1",
                        "format applies to forward pipelines only"),
                Arguments.of("integer given as a string", forward("batch_size = \"500\"\n", "type = \"stdout\"\n"),
                        "pipeline \"orders\".batch_size", "line 6:1",
                        "expected an integer, found the string \"500\"; write batch_size = a whole number without quotes"),
                Arguments.of("integer out of range", forward("batch_size = 0\n", "type = \"stdout\"\n"),
                        "pipeline \"orders\".batch_size", "line 6:1", "batch_size = 0 is out of range; use 1..100000"),
                Arguments.of("bad boolean", forward("enabled = \"yes\"\n", "type = \"stdout\"\n"),
                        "pipeline \"orders\".enabled", "line 6:1", "expected a boolean, found the string \"yes\""),
                Arguments.of("bad enum value", PG + "log_format = \"xml\"\n", "log_format", "line 2:1",
                        "bad value \"xml\" for log_format; use one of text, json"),
                Arguments.of("bad sink type", forward("", "type = \"rabbitmq\"\n"), "pipeline \"orders\".sink.type",
                        "line 9:1", "bad value \"rabbitmq\" for type; use one of kafka, nats, redis, stdout"),
                Arguments.of("bad duration", forward("retry_max_backoff = \"30 seconds\"\n", "type = \"stdout\"\n"),
                        "pipeline \"orders\".retry_max_backoff", "line 6:1",
                        "bad duration \"30 seconds\"; write a positive whole number and a unit: 250ms, 30s, 2m or 1h"),
                Arguments.of("two stream tables into one stream key",
                        forward("", "type = \"redis\"\nstream_key = \"all-changes\"\n")
                                + "\n[[pipeline]]\nname = \"second\"\ndirection = \"forward\"\n[pipeline.source]\n"
                                + "stream_table = \"totals\"\n[pipeline.sink]\ntype = \"redis\"\nstream_key = \"all-changes\"\n",
                        "pipeline \"second\".stream_key", "line 12:1",
                        "pipelines \"orders\" (orders) and \"second\" (totals) both publish to all-changes on redis"
                                + " redis://127.0.0.1:6379; their positions would collide"),
                Arguments.of("bad template", forward("", "type = \"kafka\"\nbootstrap_servers = \"k:9092\"\ntopic = \"t.{table}\"\n"),
                        "pipeline \"orders\".sink.topic", "line 11:1",
                        "unknown placeholder {table} in template \"t.{table}\"; the placeholders are {stream_table} and {op}"),
                Arguments.of("bad rule", reverse("", "type = \"redis\"\nstream_key = \"s\"\n")
                                .replace("inbox = \"orders_inbox\"\n", "inbox = \"orders_inbox\"\nevent_id = \"key\"\n"),
                        "pipeline \"in\".sink.event_id", "line 11:1",
                        "bad rule \"key\"; write header:<name>, field:<dotted.path> or coordinates"),
                Arguments.of("duplicate pipeline name", forward("", "type = \"stdout\"\n")
                                + "\n[[pipeline]]\nname = \"orders\"\ndirection = \"forward\"\n"
                                + "[pipeline.source]\nstream_table = \"x\"\n[pipeline.sink]\ntype = \"stdout\"\n",
                        "pipeline \"orders\".name", "line 12:1",
                        "duplicate pipeline name \"orders\" (first at line 4:1)"),
                Arguments.of("bad pipeline name", forward("", "type = \"stdout\"\n").replace("\"orders\"\ndirection",
                                "\"my orders\"\ndirection"), "pipeline[1].name", "line 4:1",
                        "bad pipeline name \"my orders\"; use letters, digits"),
                Arguments.of("forward pipeline with a reverse source", forward("", "type = \"stdout\"\n")
                                .replace("stream_table = \"orders\"\n", "type = \"kafka\"\ntopics = [\"t\"]\n"),
                        "pipeline \"orders\".source", "line 6:1",
                        "a forward pipeline reads a stream table's outbox: [pipeline.source] takes stream_table, not type;"
                                + " to fill an inbox from kafka set direction = \"reverse\""),
                Arguments.of("reverse pipeline with a forward source", reverse("", "stream_table = \"orders\"\n"),
                        "pipeline \"in\".source", "line 6:1",
                        "a reverse pipeline reads from kafka, nats or redis: set [pipeline.source] type"),
                Arguments.of("reverse pipeline with a forward sink", reverse("", "type = \"redis\"\nstream_key = \"s\"\n")
                                .replace("inbox = \"orders_inbox\"\n", "type = \"kafka\"\n"),
                        "pipeline \"in\".sink", "line 9:1", "a reverse pipeline fills an inbox: [pipeline.sink] takes inbox,"
                                + " not type; to publish to kafka set direction = \"forward\""),
                Arguments.of("forward pipeline with an inbox sink", forward("", "inbox = \"i\"\n"),
                        "pipeline \"orders\".sink", "line 8:1",
                        "a forward pipeline publishes to kafka, nats, redis or stdout: set [pipeline.sink] type"),
                Arguments.of("missing required key", forward("", "type = \"nats\"\n"), "pipeline \"orders\".sink.stream",
                        "line 8:1", "required key 'stream' is missing from [pipeline.sink] type = \"nats\"; add stream ="),
                Arguments.of("missing direction", PG + "[[pipeline]]\nname = \"p\"\n", "pipeline \"p\".direction",
                        "line 2:1", "required key 'direction' is missing from [[pipeline]]; add direction = <one of forward | reverse"),
                Arguments.of("missing postgres_url", "log_level = \"info\"\n", "postgres_url", null,
                        "postgres_url is missing; add postgres_url ="),
                Arguments.of("bad postgres_url", "postgres_url = \"mysql://u:pw@h/db\"\n", "postgres_url", "line 1:1",
                        "bad postgres_url \"mysql://u:****@h/db\"; it must start with jdbc:postgresql:// or postgresql://"),
                Arguments.of("kafka topics of the wrong type", reverse("", "type = \"kafka\"\nbootstrap_servers = \"k:9092\"\ntopics = \"t\"\n"),
                        "pipeline \"in\".source.topics", "line 9:1", "expected an array of strings, found the string \"t\""),
                Arguments.of("nats token and password both", forward("", "type = \"nats\"\nstream = \"S\"\nuser = \"u\"\n"
                                + "password = \"p\"\ntoken = \"t\"\n"), "pipeline \"orders\".sink.token", "line 13:1",
                        "give either token or user and password, not both"),
                Arguments.of("redis maxlen not positive", forward("", "type = \"redis\"\nmaxlen = 0\n"),
                        "pipeline \"orders\".sink.maxlen", "line 10:1", "maxlen = 0 is out of range; use a whole number >= 1"),
                Arguments.of("retry max shorter than initial", forward("retry_initial_backoff = \"1m\"\nretry_max_backoff = \"10s\"\n",
                                "type = \"stdout\"\n"), "pipeline \"orders\".retry_max_backoff", "line 7:1",
                        "retry_max_backoff (10s) is shorter than retry_initial_backoff (1m)"),
                Arguments.of("stream table missing its query", PG + "[[stream_table]]\nname = \"s\"\n",
                        "stream_table \"s\".query", "line 2:1", "required key 'query' is missing from [[stream_table]]"),
                Arguments.of("bad refresh mode", PG + "[[stream_table]]\nname = \"s\"\nquery = \"SELECT 1\"\nrefresh_mode = \"LAZY\"\n",
                        "stream_table \"s\".refresh_mode", "line 5:1", "use one of AUTO, FULL, DIFFERENTIAL"),
                Arguments.of("engine port out of range", PG + "[engine]\nport = 70000\n", "engine.port", "line 3:1",
                        "port = 70000 is out of range; use 0..65535"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachErrorNamesTheKeyItsLineAndTheFix(String description, String toml, String path, String location,
                                              String message) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(toml, "relay.toml", Map.of()));
        assertThat(e).as(description + " must be rejected").isNotNull();
        assertThat(e.problems()).as(e.getMessage()).anySatisfy(p -> {
            assertThat(p.path()).isEqualTo(path);
            assertThat(p.location()).isEqualTo(location);
            assertThat(p.message()).contains(message);
        });
    }

    @Test
    void everyProblemIsReportedNotOnlyTheFirst() {
        String toml = forward("batch_size = -1\n", "type = \"kafka\"\nbootstrap_server = \"k\"\n")
                + "\n[[pipeline]]\nname = \"second\"\ndirection = \"sideways\"\n";
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(toml, "relay.toml", Map.of()));
        assertThat(e.problems()).extracting(ConfigProblem::path).containsExactly(
                "pipeline \"orders\".batch_size", "pipeline \"orders\".sink.bootstrap_server",
                "pipeline \"orders\".sink.bootstrap_servers", "pipeline \"second\".direction",
                "pipeline \"second\".source", "pipeline \"second\".sink");
        assertThat(e.getMessage()).startsWith("relay.toml: 6 problems\n  - pipeline \"orders\".batch_size (line 6:1): ");
    }

    @Test
    void anUnreadableFileNamesThePath() {
        assertThatThrownBy(() -> ConfigLoader.load(java.nio.file.Path.of("/nonexistent/relay.toml"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("/nonexistent/relay.toml")
                .hasMessageContaining("check the --config path");
    }

    @Test
    void aValidFileHasNoProblems() {
        assertThat(ConfigLoader.parse(forward("", "type = \"stdout\"\n"), "relay.toml", Map.of()).pipelines())
                .extracting(PipelineConfig::name).isEqualTo(List.of("orders"));
    }
}
