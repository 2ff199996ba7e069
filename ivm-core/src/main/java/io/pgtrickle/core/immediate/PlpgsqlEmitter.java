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

    /**
     * A temporary table a trigger run fills and empties again, kept for the session: creating,
     * analyzing and dropping temporary tables writes the catalog (and the WAL that logical decoding
     * reads through) on every statement of the writer.
     */
    private static final Pattern REUSABLE = Pattern.compile(
            "CREATE TEMP TABLE (?:pg_temp\\.)?(\"?__pgt[A-Za-z0-9_]*\"?) ON COMMIT DROP AS (.*)", Pattern.DOTALL);
    /** At or above this many window rows a reused table is analyzed again (its statistics say a few rows). */
    private static final int REANALYZE_ROWS = 1000;

    private final String suffix;
    private final WriterLocks locks;
    private final List<String> body = new ArrayList<>();
    /** The reused tables (names as written, quotes removed). */
    private final Set<String> reused = new LinkedHashSet<>();

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
        Matcher reuse = REUSABLE.matcher(sql);
        if (reuse.matches() && !sql.contains(";\n") && namesItsColumns(reuse.group(2))) {
            String name = reuse.group(1);
            String query = reuse.group(2);
            reused.add(name.replace("\"", ""));
            body.add("IF to_regclass(" + Identifiers.literal("pg_temp." + name) + ") IS NULL THEN\n"
                    + "EXECUTE " + Identifiers.literal("CREATE TEMP TABLE " + name + " ON COMMIT DELETE ROWS AS " + query) + ";\n"
                    + "EXECUTE " + Identifiers.literal("ANALYZE pg_temp." + name) + ";\n"
                    + "ELSE\nEXECUTE " + Identifiers.literal("INSERT INTO pg_temp." + name + " " + query) + ";\n"
                    + "IF __pgt_rows >= " + REANALYZE_ROWS + " THEN EXECUTE " + Identifiers.literal("ANALYZE pg_temp." + name)
                    + "; END IF;\nEND IF;");
            return;
        }
        if (analyzesOnlyReused(sql)) {
            // analyzed when created; again only for a large window
            body.add("IF __pgt_rows >= " + REANALYZE_ROWS + " THEN EXECUTE " + Identifiers.literal(sql) + "; END IF;");
            return;
        }
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

    /**
     * Whether the columns of {@code query} are named in it: a star ({@code t.*}, {@code SELECT *})
     * could expand to other columns after a schema change of a source, and a reused table made
     * before it would take the rows column by column, silently misplaced. A row image
     * ({@code to_jsonb(n.*)}) is one jsonb column whatever the row.
     */
    private static boolean namesItsColumns(String query) {
        String q = query.replaceAll("to_jsonb\\([A-Za-z_]+\\.\\*\\)", "").replace("count(*)", "");
        return !q.contains(".*") && !Pattern.compile("(?i)SELECT\\s+(DISTINCT\\s+)?\\*").matcher(q).find();
    }

    /** Whether {@code sql} only analyzes reused tables (and sets the statistics target for that). */
    private boolean analyzesOnlyReused(String sql) {
        boolean any = false;
        for (String part : sql.split(";")) {
            String p = part.strip();
            if (p.startsWith("SET LOCAL default_statistics_target")) {
                continue;
            }
            Matcher m = Pattern.compile("ANALYZE pg_temp\\.(\"?__pgt[A-Za-z0-9_]*\"?)(?: \\([a-z_, ]+\\))?").matcher(p);
            if (!m.matches() || !reused.contains(m.group(1).replace("\"", ""))) {
                return false;
            }
            any = true;
        }
        return any;
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
        String joined = String.join("\n", body);
        // Reused tables outlive the function's version: a re-planned stream table's tables differ.
        String suffix = this.suffix + "_" + Integer.toHexString(joined.hashCode());
        Set<String> created = new LinkedHashSet<>();
        Pattern createdHere = Pattern.compile("CREATE TEMP TABLE (?:IF NOT EXISTS )?(?:pg_temp\\.)?\"?(__pgt[A-Za-z0-9_]*)\"?");
        for (String statement : body) {
            for (Pattern p : List.of(createdHere, INDEX)) {
                Matcher m = p.matcher(statement);
                while (m.find()) {
                    if (!m.group(1).endsWith(this.suffix)) {
                        created.add(m.group(1));
                    }
                }
            }
        }
        String text = joined;
        for (String name : created) {
            text = text.replaceAll("(?<![A-Za-z0-9_])" + Pattern.quote(name) + "(?![A-Za-z0-9_])",
                    Matcher.quoteReplacement(name + suffix));
        }
        Set<String> dropped = new LinkedHashSet<>();
        for (String statement : body) {
            Matcher m = createdHere.matcher(statement);
            while (m.find()) {
                if (!reused.contains(m.group(1))) {
                    dropped.add(m.group(1).endsWith(this.suffix) ? m.group(1) : m.group(1) + suffix);
                }
            }
        }
        StringBuilder end = new StringBuilder();
        // Emptied for the next statement of the transaction (at commit, ON COMMIT DELETE ROWS does it).
        for (String name : reused) {
            String table = "pg_temp." + Identifiers.quote(name.endsWith(this.suffix) ? name : name + suffix);
            end.append("IF to_regclass(").append(Identifiers.literal(table)).append(") IS NOT NULL THEN IF __pgt_rows < 10000")
                    .append(" THEN EXECUTE ").append(Identifiers.literal("DELETE FROM " + table)).append("; ELSE EXECUTE ")
                    .append(Identifiers.literal("TRUNCATE " + table)).append("; END IF; END IF;\n");
        }
        dropped.forEach(name -> end.append("DROP TABLE IF EXISTS pg_temp.").append(Identifiers.quote(name)).append(";\n"));
        return text + "\n" + end;
    }
}
