package io.pgtrickle.core.error;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Translates PostgreSQL errors into {@link PgTrickleException}s with a fitting code. */
public final class SqlErrors {
    private SqlErrors() {
    }

    /** Wraps {@code e}; {@code context} says what was being done, e.g. "creating stream table x". */
    public static PgTrickleException translate(String context, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        ErrorCode code;
        if (e instanceof SQLTransientConnectionException || e instanceof SQLNonTransientConnectionException
                || state.startsWith("08") || state.equals("57P01") || state.equals("57P03")) {
            code = ErrorCode.CONNECTION_FAILED;
        } else if (state.equals("42P07")) {
            code = ErrorCode.NAME_TAKEN;
        } else if (state.startsWith("42") || state.startsWith("22") || state.startsWith("0A")) {
            code = ErrorCode.INVALID_QUERY;
        } else {
            code = ErrorCode.INTERNAL;
        }
        return new PgTrickleException(code, context + ": " + describe(e), e);
    }

    /**
     * As {@link #translate}, for a call of one of the engine's own SQL functions, whose errors carry
     * SQLSTATEs for what the caller got wrong: a missing object, a name taken, dependants, a bad name,
     * a bad argument.
     */
    public static PgTrickleException translateCall(String context, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        ErrorCode code = switch (state) {
            case "42P01", "42704", "P0002" -> ErrorCode.NOT_FOUND;
            case "42710", "42P07", "42723" -> ErrorCode.NAME_TAKEN;
            case "2BP01" -> ErrorCode.HAS_DEPENDANTS;
            case "42602", "42622", "3F000", "42939" -> ErrorCode.INVALID_NAME;
            case "22023", "22004", "42703", "42804", "23502", "23514", "55006", "55000" -> ErrorCode.INVALID_ARGUMENT;
            default -> null;
        };
        return code == null ? translate(context, e) : new PgTrickleException(code, context + ": " + describe(e), e);
    }

    /** The server's message with its hint, without pgjdbc's decorations. */
    public static String describe(SQLException e) {
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
            ServerErrorMessage m = p.getServerErrorMessage();
            StringBuilder s = new StringBuilder(m.getMessage());
            // A detail naming our internal aliases (__pgt_…) confuses more than it helps.
            if (m.getDetail() != null && !m.getDetail().contains("__pgt_")) {
                s.append(" (").append(m.getDetail()).append(')');
            }
            if (m.getHint() != null) {
                s.append("; hint: ").append(m.getHint());
            }
            return s.toString();
        }
        return e.getMessage();
    }
}
