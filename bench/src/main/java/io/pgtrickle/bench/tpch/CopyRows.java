package io.pgtrickle.bench.tpch;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Rows streamed into a table with {@code COPY … FROM STDIN} in pipe-delimited text, the format of
 * the TPC-H generator, in chunks of about a megabyte.
 */
final class CopyRows implements AutoCloseable {
    private static final int CHUNK = 1 << 20;

    private final CopyIn copy;
    private final StringBuilder buffer = new StringBuilder(CHUNK + 1024);
    private boolean finished;

    private CopyRows(CopyIn copy) {
        this.copy = copy;
    }

    static CopyRows open(Connection c, String table) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        return new CopyRows(pg.getCopyAPI().copyIn("COPY public." + table + " FROM STDIN WITH (FORMAT text,"
                + " DELIMITER '|')"));
    }

    /** Adds one line (without its newline). */
    void line(String line) throws SQLException {
        buffer.append(line).append('\n');
        if (buffer.length() >= CHUNK) {
            flush();
        }
    }

    private void flush() throws SQLException {
        byte[] bytes = buffer.toString().getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(bytes, 0, bytes.length);
        buffer.setLength(0);
    }

    /** Ends the COPY; returns the rows copied. */
    long finish() throws SQLException {
        flush();
        finished = true;
        return copy.endCopy();
    }

    @Override
    public void close() throws SQLException {
        if (!finished && copy.isActive()) {
            copy.cancelCopy();
        }
    }
}
