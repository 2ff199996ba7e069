package io.pgtrickle.cli;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Rows laid out in aligned columns, the way psql prints them; numbers are right-aligned. Rows
 * may carry a one-character marker (the demo marks new rows with {@code +}, removed ones with
 * {@code -}); without markers there is no marker column.
 */
final class TextTable {
    private final List<String> headers;
    private final List<Boolean> rightAligned;
    private final List<String> markers = new ArrayList<>();
    private final List<List<String>> rows = new ArrayList<>();

    TextTable(List<String> headers, List<Boolean> rightAligned) {
        if (headers.size() != rightAligned.size()) {
            throw new IllegalArgumentException("one alignment per column: " + headers + " " + rightAligned);
        }
        this.headers = List.copyOf(headers);
        this.rightAligned = List.copyOf(rightAligned);
    }

    /** A table of left-aligned columns. */
    static TextTable of(String... headers) {
        List<Boolean> left = new ArrayList<>();
        for (int i = 0; i < headers.length; i++) {
            left.add(false);
        }
        return new TextTable(List.of(headers), left);
    }

    /** Runs {@code sql} and keeps its rows as text; numeric columns are right-aligned, NULL is empty. */
    static TextTable query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> headers = new ArrayList<>();
            List<Boolean> numeric = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                headers.add(md.getColumnLabel(i));
                numeric.add(isNumeric(md.getColumnType(i)));
            }
            TextTable table = new TextTable(headers, numeric);
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= headers.size(); i++) {
                    row.add(Objects.toString(rs.getString(i), ""));
                }
                table.add(row);
            }
            return table;
        }
    }

    private static boolean isNumeric(int sqlType) {
        return switch (sqlType) {
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT, Types.NUMERIC, Types.DECIMAL,
                    Types.REAL, Types.FLOAT, Types.DOUBLE -> true;
            default -> false;
        };
    }

    TextTable add(List<String> row) {
        return add(" ", row);
    }

    /** Adds a row with a one-character {@code marker} in front. */
    TextTable add(String marker, List<String> row) {
        if (row.size() != headers.size()) {
            throw new IllegalArgumentException("expected " + headers.size() + " cells, got " + row);
        }
        markers.add(marker);
        rows.add(List.copyOf(row));
        return this;
    }

    /** The same columns without rows. */
    TextTable emptyCopy() {
        return new TextTable(headers, rightAligned);
    }

    List<String> headers() {
        return headers;
    }

    List<List<String>> rows() {
        return List.copyOf(rows);
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    /** The table as lines, each starting with {@code indent}, ending with a newline. */
    String render(String indent) {
        int[] widths = new int[headers.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = headers.get(i).length();
            for (List<String> row : rows) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        boolean marked = markers.stream().anyMatch(m -> !m.isBlank());
        StringBuilder out = new StringBuilder();
        line(out, indent, marked ? " " : null, headers, widths, List.of());
        out.append(indent).append(marked ? "  " : "");
        for (int i = 0; i < widths.length; i++) {
            out.append(i == 0 ? "-" : "+-").append("-".repeat(widths[i])).append('-');
        }
        stripTrailing(out);
        out.append('\n');
        for (int r = 0; r < rows.size(); r++) {
            line(out, indent, marked ? markers.get(r) : null, rows.get(r), widths, rightAligned);
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String indent, String marker, List<String> cells, int[] widths,
                             List<Boolean> right) {
        out.append(indent);
        if (marker != null) {
            out.append(marker).append(' ');
        }
        for (int i = 0; i < cells.size(); i++) {
            String cell = cells.get(i);
            String pad = " ".repeat(widths[i] - cell.length());
            out.append(i == 0 ? " " : "| ");
            out.append(!right.isEmpty() && right.get(i) ? pad + cell : cell + pad);
            out.append(' ');
        }
        stripTrailing(out);
        out.append('\n');
    }

    private static void stripTrailing(StringBuilder out) {
        int end = out.length();
        while (end > 0 && out.charAt(end - 1) == ' ') {
            end--;
        }
        out.setLength(end);
    }
}
