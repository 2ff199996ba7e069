package io.pgtrickle.connect.sink;

/** The connector's version, from the jar's manifest (Implementation-Version), else "unknown". */
final class Version {
    private Version() {
    }

    static String get() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
