package io.pgtrickle.core.ivm.harness;

import io.pgtrickle.core.lifecycle.RefreshMode;
import java.util.Objects;

/**
 * One defining query the harness maintains as a stream table of the same name.
 *
 * @param name the stream table's name, unique across every workload
 * @param sql the defining query
 * @param differential whether the compiler maintains it differentially today (see {@link ExpectedModes})
 */
public record Shape(String name, String sql, boolean differential) {
    public Shape {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(sql, "sql");
        if (!name.matches("[a-z][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("shape names are plain lower-case identifiers: " + name);
        }
    }

    /** A shape whose expected mode is looked up in {@link ExpectedModes}, the one place the flags live. */
    public static Shape of(String name, String sql) {
        return new Shape(name, sql, ExpectedModes.differentialToday(name));
    }

    /** What goes wrong when it refreshes differentially, or {@code null} (see {@link ExpectedModes}). */
    public String knownBug() {
        return ExpectedModes.knownBug(name);
    }

    /** The mode the main runs ask for: DIFFERENTIAL where supported, else AUTO (which must then choose FULL). */
    public RefreshMode expectedMode() {
        return differential ? RefreshMode.DIFFERENTIAL : RefreshMode.AUTO;
    }

    /** What the engine must make of {@code requested}: AUTO turns FULL exactly when no delta rule applies. */
    public RefreshMode expectedEffectiveMode(RefreshMode requested) {
        return requested == RefreshMode.AUTO ? (differential ? RefreshMode.DIFFERENTIAL : RefreshMode.FULL) : requested;
    }

    /**
     * Whether a refresh that reported {@code action} fits {@code requested}. AUTO may recompute a
     * differential shape in full when a batch touched much of its sources, so both actions fit there;
     * so does DIFFERENTIAL for a shape that {@link ExpectedModes#mayRecompute} some windows.
     */
    public boolean allows(RefreshMode requested, String action) {
        RefreshMode effective = expectedEffectiveMode(requested);
        if (requested == RefreshMode.AUTO && effective == RefreshMode.DIFFERENTIAL
                || effective == RefreshMode.DIFFERENTIAL && ExpectedModes.mayRecompute(name)) {
            return action.equals("DIFFERENTIAL") || action.equals("FULL");
        }
        return action.equals(effective.name());
    }
}
