package io.pgtrickle.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server (18 by default) started from the binaries published on Maven Central,
 * configured the way the engine needs it: logical replication on, durable commits.
 *
 * <p>It backs both the product's zero-install mode ({@code pgtrickle run --embedded}) and the test
 * suite, so tests run against exactly the server users get; {@link PostgresBinaries} chooses
 * another major version (the suite against PostgreSQL 15, 16 or 17).
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    /** The superuser zonky creates; the embedded server trusts local connections. */
    public static final String SUPERUSER = "postgres";

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;
    private final int majorVersion;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDirectory, int majorVersion) {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
        this.majorVersion = majorVersion;
    }

    /** Starts a server as described by {@code options}; blocks until it accepts connections. */
    public static EmbeddedPostgresServer start(Options options) {
        Objects.requireNonNull(options, "options");
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            if (options.binaries().resolver() != null) {
                builder.setPgBinaryResolver(options.binaries().resolver());
            }
            serverConfig(options).forEach(builder::setServerConfig);
            if (options.port() > 0) {
                requireFree(options.port());
                builder.setPort(options.port());
            }
            if (options.dataDirectory() != null) {
                Files.createDirectories(options.dataDirectory());
                builder.setDataDirectory(options.dataDirectory());
                builder.setCleanDataDirectory(false);
            }
            long started = System.nanoTime();
            EmbeddedPostgres postgres = builder.start();
            log.info("PostgreSQL {} ready on port {} in {} ms (data directory: {})",
                    options.binaries().majorVersion(), postgres.getPort(), (System.nanoTime() - started) / 1_000_000,
                    options.dataDirectory() == null ? "temporary" : options.dataDirectory());
            return new EmbeddedPostgresServer(postgres, options.dataDirectory(), options.binaries().majorVersion());
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL " + options.binaries().majorVersion()
                    + " server"
                    + (options.port() > 0 ? " on port " + options.port() + " (is the port in use?)" : "")
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * PostgreSQL starts even when only some of its listen addresses bind, so a port already in use
     * on one of them would give two servers behind one URL; refuse that up front.
     */
    private static void requireFree(int port) throws IOException {
        for (InetAddress address : new InetAddress[] {InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1")}) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress(address, port), 200);
                throw new IOException("port " + port + " is already in use on " + address.getHostAddress()
                        + "; choose another with --port");
            } catch (java.net.ConnectException | java.net.SocketTimeoutException | java.net.NoRouteToHostException free) {
                // nobody listening there
            } catch (java.net.SocketException unsupported) {
                // e.g. no IPv6 on this host
            }
        }
    }

    static Map<String, String> serverConfig(Options options) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("wal_level", "logical");
        config.put("max_replication_slots", "20");
        config.put("max_wal_senders", "20");
        // Logical decoding only sees a commit once its WAL is flushed; with asynchronous commit
        // that waits for the WAL writer (~200 ms), which would put a floor under every refresh.
        config.put("synchronous_commit", "on");
        // Zonky turns fsync off for speed; a product that keeps user data must not.
        config.put("fsync", options.durable() ? "on" : "off");
        config.put("full_page_writes", options.durable() ? "on" : "off");
        config.put("max_connections", "200");
        config.put("timezone", "UTC");
        config.putAll(options.extraConfig());
        return config;
    }

    public int port() {
        return postgres.getPort();
    }

    /** The PostgreSQL major version this server runs. */
    public int majorVersion() {
        return majorVersion;
    }

    /** The data directory, or {@code null} for a throw-away server. */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** A JDBC URL for {@code database} as the superuser. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + port() + "/" + database + "?user=" + SUPERUSER;
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not stop the embedded PostgreSQL server", e);
        }
    }

    /**
     * How to start the server.
     *
     * @param port a fixed port, or 0 for any free one
     * @param dataDirectory a persistent data directory, or {@code null} for a temporary one
     * @param durable whether commits survive a machine crash (fsync on); tests trade it for speed
     * @param extraConfig further {@code postgresql.conf} settings, applied last
     * @param binaries the PostgreSQL to run
     */
    public record Options(int port, Path dataDirectory, boolean durable, Map<String, String> extraConfig,
                          PostgresBinaries binaries) {
        public Options {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
            }
            extraConfig = Map.copyOf(extraConfig);
            Objects.requireNonNull(binaries, "binaries");
        }

        /** Options running the {@linkplain PostgresBinaries#selected() selected} binaries (PostgreSQL 18 unless chosen otherwise). */
        public Options(int port, Path dataDirectory, boolean durable, Map<String, String> extraConfig) {
            this(port, dataDirectory, durable, extraConfig, PostgresBinaries.selected());
        }

        /** A durable server that keeps its data in {@code dataDirectory}. */
        public static Options persistent(int port, Path dataDirectory) {
            return new Options(port, Objects.requireNonNull(dataDirectory, "dataDirectory"), true, Map.of());
        }

        /** A fast, throw-away server on a free port, as the tests use. */
        public static Options ephemeral() {
            return new Options(0, null, false, Map.of());
        }

        /** These options with other binaries (another PostgreSQL major version). */
        public Options withBinaries(PostgresBinaries other) {
            return new Options(port, dataDirectory, durable, extraConfig, other);
        }
    }
}
