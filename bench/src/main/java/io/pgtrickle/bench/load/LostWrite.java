package io.pgtrickle.bench.load;

/**
 * A writer transaction the audit found missing from, or doubled in, {@code load_join}, and where
 * on its way through capture, buffer, window and cleanup the evidence places the fault.
 *
 * @param xid the writer's transaction ({@code pg_current_xact_id()})
 * @param doubled true when an order of it shows more than once, false when one is missing
 * @param detail what the evidence says, for the report
 */
public record LostWrite(Kind kind, long xid, boolean doubled, String detail) {

    /** The stages, in the order an order id passes them. */
    public enum Kind {
        NEVER_DELIVERED("never delivered"),
        NOT_BUFFERED("not buffered"),
        BUFFERED_UNDER_ANOTHER_XID("buffered under another xid"),
        OUTSIDE_EVERY_WINDOW("outside every window"),
        CLEANED_BEFORE_USE("cleaned before use"),
        /** The evidence fits none of the above (e.g. doubled though buffered once under its own xid). */
        UNEXPLAINED("unexplained");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }
}
