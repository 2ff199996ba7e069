package io.pgtrickle.relay.runtime;

/** {@code postgres_url} as JDBC wants it, and as logs may show it. */
final class JdbcUrls {
    private JdbcUrls() {
    }

    /** {@code postgresql://h:p/db} and {@code postgres://...} become {@code jdbc:postgresql://h:p/db}. */
    static String jdbc(String url) {
        if (url.startsWith("jdbc:postgresql:")) {
            return url;
        }
        if (url.startsWith("postgresql://")) {
            return "jdbc:" + url;
        }
        if (url.startsWith("postgres://")) {
            return "jdbc:postgresql://" + url.substring("postgres://".length());
        }
        throw new IllegalArgumentException("postgres_url must start with jdbc:postgresql://, postgresql:// or"
                + " postgres://, got " + redacted(url));
    }

    static String redacted(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1****").replaceAll("//([^:/@]+):[^@/]*@", "//$1:****@");
    }
}
