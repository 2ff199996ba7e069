package io.pgtrickle.core.ivm.harness;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Random DML applied between two refreshes, either as one transaction or statement by statement
 * (the change window then holds several transactions).
 */
public record Batch(List<String> statements, boolean oneTransaction) {
    public Batch {
        statements = List.copyOf(statements);
    }

    /**
     * One to {@code maxChanges} statements from {@code change}, in one transaction or not at
     * random (the draws, in this order, are part of what a seed replays).
     */
    public static Batch random(Random random, int maxChanges, Function<Random, String> change) {
        int size = 1 + random.nextInt(maxChanges);
        List<String> statements = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            statements.add(change.apply(random));
        }
        return new Batch(statements, random.nextBoolean());
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
