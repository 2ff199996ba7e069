package io.pgtrickle.core.immediate;

import io.pgtrickle.core.sql.ChangeSink;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.ServerCapabilities;
import io.pgtrickle.core.sql.SqlRunner;
import io.pgtrickle.core.sql.StorageMerge;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link SqlRunner} that writes the statements of a delta down as PL/pgSQL ({@code EXECUTE}),
 * for the body of an IMMEDIATE trigger function. A count check becomes an {@code IF … RAISE}.
 *
 * <p>Every temporary table the statements create gets this emitter's {@code suffix}, and is
 * dropped at the end: the MERGE into a stream table fires the triggers of the IMMEDIATE stream
 * tables that read it while this function's tables still exist (a cascade runs nested), and the
 * next statement of the same transaction fires this function again.
 */
final class PlpgsqlEmitter implements SqlRunner {
    private static final Pattern CREATED = Pattern.compile(
            "CREATE TEMP TABLE (?:IF NOT EXISTS )?(?:pg_temp\\.)?\"?(__pgt[A-Za-z0-9_]*)\"?");
    /** A named index (an unnamed one, {@code CREATE INDEX ON t}, needs no renaming). */
    private static final Pattern INDEX = Pattern.compile(
            "CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?\"?(__pgt[A-Za-z0-9_]*)\"? ON ");

    private final String suffix;
    private final WriterLocks locks;
    private final List<String> body = new ArrayList<>();

    /**
     * @param suffix appended to the name of every temporary table created (unique per stream table)
     * @param locks how the trigger serialises writers ({@code null}: no key locks)
     */
    PlpgsqlEmitter(String suffix, WriterLocks locks) {
        this.suffix = suffix;
        this.locks = locks;
    }

    @Override
    public void lockKeys(String keysSql) {
        String lock = locks == null ? null : locks.keyLockSql(keysSql);
        if (lock != null) {
            execute(lock);
        }
    }

    @Override
    public void execute(String sql) {
        String statement = "EXECUTE " + Identifiers.literal(sql) + ";";
        if (sql.startsWith("ANALYZE pg_temp.") && !body.isEmpty()
                && body.get(body.size() - 1).replace("\"", "").equals(statement.replace("\"", ""))) {
            return; // the table this emitter just created and analyzed
        }
        body.add(statement);
        Matcher m = CREATED.matcher(sql);
        if (m.lookingAt() && !sql.contains(";\n")) { // a script (a FULL refresh) drops its own tables
            // Temporary tables get no statistics but from ANALYZE: unanalyzed, a one-row delta is
            // planned as ~1000 rows and joined to the stream table by a scan of all of it. A
            // refresh amortises that over its window; a trigger would pay it on every statement.
            body.add("EXECUTE " + Identifiers.literal("ANALYZE pg_temp." + Identifiers.quote(m.group(1))) + ";");
        }
    }

    @Override
    public void failIfPositive(String countSql, String message) {
        body.add("EXECUTE " + Identifiers.literal(countSql) + " INTO __pgt_count;\n"
                + "IF __pgt_count > 0 THEN RAISE EXCEPTION USING ERRCODE = 'XX000', MESSAGE = "
                + Identifiers.literal(message + " (IMMEDIATE trigger)") + "; END IF;");
    }

    /** A trigger's statements must hold for every statement's change: the general form. */
    @Override
    public boolean holds(String sql) {
        return true;
    }

    @Override
    public StorageMerge.Counts merge(StorageMerge merge, ServerCapabilities server, ChangeSink sink) {
        if (sink != null) {
            throw new IllegalStateException("an IMMEDIATE trigger writes no outbox");
        }
        // A statement's delta is usually a few rows, but the planner takes generate_series (the
        // occurrences of a row) for 1000 rows per input row and would hash all of the stream table:
        // for a small window, index lookups on __pgt_row_id. Restored after, for the rest of the
        // transaction (and for nested triggers, which save and restore the same way).
        body.add("__pgt_hj := current_setting('enable_hashjoin'); __pgt_mj := current_setting('enable_mergejoin');\n"
                + "IF __pgt_rows < 1000 THEN PERFORM set_config('enable_hashjoin', 'off', true);"
                + " PERFORM set_config('enable_mergejoin', 'off', true); END IF;");
        execute(merge.sql(server));
        body.add("PERFORM set_config('enable_hashjoin', __pgt_hj, true); PERFORM set_config('enable_mergejoin', __pgt_mj, true);");
        return new StorageMerge.Counts(0, 0, 0);
    }

    /** Adds a PL/pgSQL statement as it is. */
    void raw(String plpgsql) {
        body.add(plpgsql);
    }

    /**
     * The body so far with every created temporary table renamed (whole words only), and the
     * statements that drop them.
     */
    String finish() {
        Set<String> created = new LinkedHashSet<>();
        for (String statement : body) {
            for (Pattern p : List.of(CREATED, INDEX)) {
                Matcher m = p.matcher(statement);
                while (m.find()) {
                    if (!m.group(1).endsWith(suffix)) {
                        created.add(m.group(1));
                    }
                }
            }
        }
        String text = String.join("\n", body);
        for (String name : created) {
            text = text.replaceAll("(?<![A-Za-z0-9_])" + Pattern.quote(name) + "(?![A-Za-z0-9_])",
                    Matcher.quoteReplacement(name + suffix));
        }
        Set<String> dropped = new LinkedHashSet<>();
        for (String statement : body) {
            Matcher m = CREATED.matcher(statement);
            while (m.find()) {
                dropped.add(m.group(1).endsWith(suffix) ? m.group(1) : m.group(1) + suffix);
            }
        }
        StringBuilder drops = new StringBuilder();
        dropped.forEach(name -> drops.append("DROP TABLE IF EXISTS pg_temp.").append(Identifiers.quote(name)).append(";\n"));
        return text + "\n" + drops;
    }
}
