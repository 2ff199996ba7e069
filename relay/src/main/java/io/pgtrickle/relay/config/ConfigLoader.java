package io.pgtrickle.relay.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;

/**
 * Reads relay.toml into a validated {@link RelayConfig}. Every problem found (syntax, unknown,
 * misspelt or misplaced keys, types, values, references, overrides) is reported together in one
 * {@link ConfigException}. The environment is a parameter, for {@code ${ENV:NAME}} and the
 * {@code PGTRICKLE_RELAY_*} overrides, so tests do not depend on the real one.
 */
public final class ConfigLoader {
    private static final Pattern HOST_PORT = Pattern.compile("(.+):(\\d{1,5})");
    private static final Pattern URL_PASSWORD = Pattern.compile("^(?:jdbc:)?postgres(?:ql)?://[^/@:]*:([^@/]*)@");
    private static final Pattern QUERY_PASSWORD = Pattern.compile("[?&]password=([^&]*)", Pattern.CASE_INSENSITIVE);

    private final String sourceName;
    private final Problems problems = new Problems();
    private final Map<ConfigKey, EnvironmentOverrides.Override> overrides;
    private final SecretReferences references;

    private ConfigLoader(String sourceName, Map<String, String> env, Path baseDir) {
        this.sourceName = sourceName;
        this.overrides = EnvironmentOverrides.read(env, problems);
        this.references = new SecretReferences(env::get, baseDir);
    }

    /** Reads {@code file}; {@code ${FILE:...}} paths are relative to its directory. */
    public static RelayConfig load(Path file, Map<String, String> env) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of(new ConfigProblem(null, null,
                    "cannot read the config file: " + e + "; check the --config path")));
        }
        Path dir = file.toAbsolutePath().getParent();
        return new ConfigLoader(file.toString(), env, dir == null ? Path.of("") : dir).read(text);
    }

    /** Reads TOML text; {@code sourceName} names it in errors; {@code ${FILE:...}} is relative to the working directory. */
    public static RelayConfig parse(String toml, String sourceName, Map<String, String> env) {
        return new ConfigLoader(sourceName, env, Path.of("").toAbsolutePath()).read(toml);
    }

    private RelayConfig read(String toml) {
        TomlParseResult parsed = Toml.parse(toml);
        for (TomlParseError e : parsed.errors()) {
            problems.add(null, ConfigProblem.at(e.position()), "TOML syntax error: " + e.getMessage()
                    + "; fix the syntax there");
        }
        problems.throwIfAny(sourceName);
        TableReader top = new TableReader(parsed, "", null, TableShape.TOP, overrides, references, problems);
        top.checkKeys();
        EngineSettings engine = engine(top);
        String url = postgresUrl(top, engine);
        Secret password = top.has(ConfigKey.POSTGRES_PASSWORD) ? top.secret(ConfigKey.POSTGRES_PASSWORD)
                : passwordIn(url);
        String metrics = metricsAddr(top);
        String logLevel = top.choice(ConfigKey.LOG_LEVEL);
        String logFormat = top.choice(ConfigKey.LOG_FORMAT);
        String group = top.nonBlank(ConfigKey.RELAY_GROUP_ID);
        List<StreamTableConfig> streamTables = streamTables(top);
        List<PipelineConfig> pipelines = new PipelineReader(top, group == null ? "default" : group).read();
        problems.throwIfAny(sourceName);
        return new RelayConfig(url, password, metrics, logLevel, logFormat, group, engine, streamTables, pipelines);
    }

    private EngineSettings engine(TableReader top) {
        TableReader r = top.child(top.table(ConfigKey.ENGINE), "engine", top.positionOf(ConfigKey.ENGINE),
                TableShape.ENGINE).withOverrides(overrides);
        r.checkKeys();
        Boolean enabled = r.bool(ConfigKey.ENGINE_ENABLED);
        Boolean embedded = r.bool(ConfigKey.ENGINE_EMBEDDED);
        String dataDir = r.nonBlank(ConfigKey.ENGINE_DATA_DIR);
        Long port = r.integer(ConfigKey.ENGINE_PORT);
        String slot = r.nonBlank(ConfigKey.ENGINE_SLOT_NAME);
        if (slot != null && !slot.matches("[a-z0-9_]{1,63}")) {
            r.problem(ConfigKey.ENGINE_SLOT_NAME, "must be 1-63 lower-case letters, digits or underscores, got \"" + slot
                    + "\"");
        }
        Long concurrent = r.integer(ConfigKey.ENGINE_MAX_CONCURRENT_REFRESHES);
        Boolean tiered = r.bool(ConfigKey.ENGINE_TIERED_SCHEDULING);
        return new EngineSettings(Boolean.TRUE.equals(enabled), Boolean.TRUE.equals(embedded),
                dataDir == null ? null : Path.of(dataDir), port == null ? 0 : port.intValue(),
                slot == null ? EngineSettings.DEFAULT_SLOT : slot, concurrent == null ? 1 : concurrent.intValue(),
                Boolean.TRUE.equals(tiered));
    }

    private String postgresUrl(TableReader top, EngineSettings engine) {
        String url = top.string(ConfigKey.POSTGRES_URL);
        if (url == null) {
            if (!engine.embedded() && !top.has(ConfigKey.POSTGRES_URL)) {
                problems.add(ConfigKey.POSTGRES_URL.key(), null, "postgres_url is missing; add postgres_url ="
                        + " \"jdbc:postgresql://host:5432/db\" (or set PGTRICKLE_RELAY_POSTGRES_URL), or set"
                        + " [engine] embedded = true to start an embedded PostgreSQL");
            }
            return null;
        }
        if (!url.startsWith("jdbc:postgresql://") && !url.startsWith("postgresql://")) {
            top.problem(ConfigKey.POSTGRES_URL, "bad postgres_url \"" + ConfigPrinter.maskUrl(url)
                    + "\"; it must start with jdbc:postgresql:// or postgresql://");
            return null;
        }
        return url;
    }

    /** The password written in the URL ({@code user:pass@} or {@code ?password=}), if any. */
    static Secret passwordIn(String url) {
        if (url == null) {
            return null;
        }
        Matcher m = URL_PASSWORD.matcher(url);
        if (m.find()) {
            return new Secret(m.group(1));
        }
        m = QUERY_PASSWORD.matcher(url);
        return m.find() ? new Secret(m.group(1)) : null;
    }

    private static String metricsAddr(TableReader top) {
        String addr = top.nonBlank(ConfigKey.METRICS_ADDR);
        if (addr == null) {
            return null;
        }
        Matcher m = HOST_PORT.matcher(addr);
        if (!m.matches() || Integer.parseInt(m.group(2)) > 65535) {
            top.problem(ConfigKey.METRICS_ADDR, "bad metrics_addr \"" + addr + "\"; write host:port, e.g."
                    + " 127.0.0.1:9464 (0.0.0.0:9464 to listen on every interface)");
            return null;
        }
        return addr;
    }

    private List<StreamTableConfig> streamTables(TableReader top) {
        List<StreamTableConfig> out = new ArrayList<>();
        TomlArray array = top.tableArray(ConfigKey.STREAM_TABLES);
        if (array == null) {
            return out;
        }
        Map<String, String> seen = new HashMap<>();
        for (int i = 0; i < array.size(); i++) {
            TableReader r = top.child(array.getTable(i), "stream_table[" + (i + 1) + "]", array.inputPositionOf(i),
                    TableShape.STREAM_TABLE);
            String name = r.nonBlank(ConfigKey.STREAM_TABLE_NAME);
            if (name != null) {
                String where = r.where(ConfigKey.STREAM_TABLE_NAME);
                r = r.withPath("stream_table \"" + name + "\"");
                String previous = seen.putIfAbsent(name, where);
                if (previous != null) {
                    r.problem(ConfigKey.STREAM_TABLE_NAME, "duplicate stream table \"" + name + "\" (first at "
                            + previous + "); declare each stream table once");
                }
            }
            r.checkKeys();
            String query = r.nonBlank(ConfigKey.STREAM_TABLE_QUERY);
            String schedule = r.nonBlank(ConfigKey.STREAM_TABLE_SCHEDULE);
            String mode = r.choice(ConfigKey.STREAM_TABLE_REFRESH_MODE);
            Integer retention = r.integer32(ConfigKey.STREAM_TABLE_RETENTION_HOURS);
            Integer inline = r.integer32(ConfigKey.STREAM_TABLE_INLINE_THRESHOLD_ROWS);
            if (name != null && query != null && schedule != null && mode != null && retention != null && inline != null) {
                out.add(new StreamTableConfig(name, query, schedule, mode, retention, inline));
            }
        }
        return out;
    }
}
