package io.pgtrickle.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code bench load --audit} found: how many writer transactions it followed, and every one
 * that {@code load_join} lacks or holds twice, with its {@link LostWrite.Kind}.
 */
public record AuditResult(long transactions, long rows, List<LostWrite> findings) {
    /** At most this many examples per kind are printed. */
    static final int EXAMPLES = 5;

    public AuditResult {
        findings = List.copyOf(findings);
    }

    public long missing() {
        return findings.stream().filter(f -> !f.doubled()).count();
    }

    public long doubled() {
        return findings.stream().filter(LostWrite::doubled).count();
    }

    public boolean clean() {
        return findings.isEmpty();
    }

    /** The summary: a headline, then one line per kind with its count and up to five examples. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "audit: %,d writer transactions (%,d rows): %d missing, %d doubled",
                transactions, rows, missing(), doubled()));
        for (LostWrite.Kind kind : LostWrite.Kind.values()) {
            List<LostWrite> of = findings.stream().filter(f -> f.kind() == kind).toList();
            if (of.isEmpty() && kind == LostWrite.Kind.UNEXPLAINED) {
                continue;
            }
            lines.add(String.format(Locale.ROOT, "  %-27s %d", kind.label() + ":", of.size()));
            of.stream().limit(EXAMPLES).forEach(f -> lines.add("      " + (f.doubled() ? "doubled: " : "missing: ")
                    + f.detail()));
            if (of.size() > EXAMPLES) {
                lines.add("      … and " + (of.size() - EXAMPLES) + " more");
            }
        }
        return lines;
    }
}
