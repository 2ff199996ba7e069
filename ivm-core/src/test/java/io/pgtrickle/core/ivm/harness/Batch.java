package io.pgtrickle.core.ivm.harness;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Random DML applied between two refreshes, either as one transaction or statement by statement
 * (the change window then holds several transactions).
 */
public record Batch(List<String> statements, boolean oneTransaction) {
    public Batch {
        statements = List.copyOf(statements);
    }

    public void applyTo(Connection c) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(!oneTransaction);
        try (Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
            if (oneTransaction) {
                c.commit();
            }
        } catch (SQLException e) {
            if (oneTransaction) {
                c.rollback();
            }
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** The statements as a script, for failure messages that must let a person replay the batch. */
    public String describe() {
        StringBuilder out = new StringBuilder(oneTransaction ? "BEGIN;\n" : "");
        statements.forEach(s -> out.append("  ").append(s).append(";\n"));
        return out.append(oneTransaction ? "COMMIT;" : "").toString();
    }
}
