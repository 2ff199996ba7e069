package io.pgtrickle.core.sql;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * What the connected PostgreSQL can do, detected once when the engine opens; the code that
 * generates version-dependent SQL asks it instead of the server.
 *
 * @param versionNum the server's {@code server_version_num}, e.g. 150019 for 15.19
 */
public record ServerCapabilities(int versionNum) {
    /** The oldest major version the engine supports: MERGE, which every refresh uses, came in 15. */
    public static final int OLDEST_SUPPORTED_MAJOR = 15;

    /** Reads the version of the server {@code c} is connected to. */
    public static ServerCapabilities detect(Connection c) throws SQLException {
        Integer num = Jdbc.queryValue(c, Integer.class, "SELECT current_setting('server_version_num')::int");
        return new ServerCapabilities(num == null ? 0 : num);
    }

    public int major() {
        return versionNum / 10000;
    }

    /**
     * MERGE with {@code WHEN NOT MATCHED BY SOURCE}, {@code RETURNING} and {@code merge_action()}
     * (17+): one statement per refresh, counted inside PostgreSQL. Older servers get DELETE,
     * UPDATE and INSERT statements counted by their command tags.
     */
    public boolean mergeReturning() {
        return major() >= 17;
    }

    /** {@code RETURNING old.*, new.*} (18+): a MERGE can report the rows it changed, before and after. */
    public boolean returningOldNew() {
        return major() >= 18;
    }

    /**
     * @throws PgTrickleException {@code UNSUPPORTED_SERVER} naming the version found and the
     *     supported ones, for a server older than {@value #OLDEST_SUPPORTED_MAJOR}
     */
    public ServerCapabilities requireSupported(String server) {
        if (major() < OLDEST_SUPPORTED_MAJOR) {
            throw new PgTrickleException(ErrorCode.UNSUPPORTED_SERVER, server + " runs PostgreSQL " + version()
                    + ", which pg_trickle does not support: it needs PostgreSQL " + OLDEST_SUPPORTED_MAJOR
                    + " or later (15, 16, 17 and 18 are tested); upgrade the server");
        }
        return this;
    }

    /** The version as PostgreSQL prints it, e.g. 15.19 (9.6.24 before 10). */
    public String version() {
        return major() >= 10 ? major() + "." + versionNum % 10000
                : versionNum / 10000 + "." + versionNum / 100 % 100 + "." + versionNum % 100;
    }
}
