package io.pgtrickle.format;

/** Header names every published message carries, whatever its format. */
public final class Headers {
    /** {@code <stream_table>:<offset>:<row_index>}: the identity of the change. */
    public static final String DEDUP_KEY = "dedup_key";
    /** {@code <offset>:<row_index>}: targets read it back to find where to resume. */
    public static final String POSITION = "pgt_position";
    public static final String OP = "op";
    public static final String REFRESH_ID = "refresh_id";
    public static final String STREAM_TABLE = "stream_table";

    private Headers() {
    }
}
