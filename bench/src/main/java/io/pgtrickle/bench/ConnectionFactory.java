package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.SQLException;

/** Opens a connection of its own (a writer's), outside the engine's pool. */
@FunctionalInterface
public interface ConnectionFactory {
    Connection open() throws SQLException;
}
