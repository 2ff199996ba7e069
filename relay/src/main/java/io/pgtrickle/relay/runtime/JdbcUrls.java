package io.pgtrickle.relay.runtime;

/** {@code postgres_url} as JDBC wants it, and as logs may show it. */
final class JdbcUrls {
    private JdbcUrls() {
    }

    /**
     * {@code postgresql://[user[:password]@]h:p/db[?...]} and {@code postgres://...} become
     * {@code jdbc:postgresql://h:p/db?user=...&password=...}: pgjdbc does not read a user and
     * password in the authority part.
     */
    static String jdbc(String url) {
        if (url.startsWith("jdbc:postgresql:")) {
            return url;
        }
        String rest = url.startsWith("postgresql://") ? url.substring("postgresql://".length())
                : url.startsWith("postgres://") ? url.substring("postgres://".length()) : null;
        if (rest != null) {
            int slash = rest.indexOf('/');
            String authority = slash < 0 ? rest : rest.substring(0, slash);
            String path = slash < 0 ? "" : rest.substring(slash);
            int at = authority.lastIndexOf('@');
            if (at < 0) {
                return "jdbc:postgresql://" + rest;
            }
            String userInfo = authority.substring(0, at);
            int colon = userInfo.indexOf(':');
            String credentials = "user=" + userInfo.substring(0, colon < 0 ? userInfo.length() : colon)
                    + (colon < 0 ? "" : "&password=" + userInfo.substring(colon + 1));
            return "jdbc:postgresql://" + authority.substring(at + 1) + path + (path.contains("?") ? "&" : "?")
                    + credentials;
        }
        throw new IllegalArgumentException("postgres_url must start with jdbc:postgresql://, postgresql:// or"
                + " postgres://, got " + redacted(url));
    }

    static String redacted(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1****").replaceAll("//([^:/@]+):[^@/]*@", "//$1:****@");
    }
}
