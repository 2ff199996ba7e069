package io.pgtrickle.testing;

import io.pgtrickle.embedded.EmbeddedPostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real PostgreSQL ({@code wal_level=logical}; 18 unless {@code -Dpgtrickle.postgres.version}
 * chose another, see {@link io.pgtrickle.embedded.PostgresBinaries#selected()}) for integration
 * tests: one server per test JVM, started on first use, and a fresh database per test class,
 * dropped afterwards.
 *
 * <p>Test methods, lifecycle methods and constructors may declare a {@link TestDatabase} parameter.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(PostgresExtension.class);
    private static final AtomicInteger DATABASE_COUNTER = new AtomicInteger();

    @Override
    public void beforeAll(ExtensionContext context) throws SQLException {
        ServerResource server = server(context);
        String name = databaseName(context.getRequiredTestClass());
        try (Connection c = DriverManager.getConnection(server.server.jdbcUrl("postgres"));
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        context.getStore(NAMESPACE).put(TestDatabase.class, new TestDatabase(server.server, name));
    }

    @Override
    public void afterAll(ExtensionContext context) throws SQLException {
        TestDatabase db = context.getStore(NAMESPACE).remove(TestDatabase.class, TestDatabase.class);
        if (db != null) {
            db.drop();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        TestDatabase db = database(context);
        if (db == null) {
            throw new ParameterResolutionException("no test database: register PostgresExtension on the class");
        }
        return db;
    }

    private static TestDatabase database(ExtensionContext context) {
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            TestDatabase db = c.getStore(NAMESPACE).get(TestDatabase.class, TestDatabase.class);
            if (db != null) {
                return db;
            }
        }
        return null;
    }

    private static ServerResource server(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(ServerResource.class, k -> new ServerResource(), ServerResource.class);
    }

    static String databaseName(Class<?> testClass) {
        String base = testClass.getSimpleName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "_");
        String name = "t" + DATABASE_COUNTER.incrementAndGet() + "_" + base;
        return name.length() > 60 ? name.substring(0, 60) : name;
    }

    /** Stops the shared server when the whole test run is over. */
    private static final class ServerResource implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        final EmbeddedPostgresServer server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.ephemeral());

        @Override
        public void close() {
            server.close();
        }
    }
}
