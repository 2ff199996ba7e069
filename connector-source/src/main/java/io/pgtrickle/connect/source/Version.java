package io.pgtrickle.connect.source;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The connector's version, from the build (a filtered resource: the plugin jar has no manifest version). */
final class Version {
    private static final String VERSION = load();

    private Version() {
    }

    static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
