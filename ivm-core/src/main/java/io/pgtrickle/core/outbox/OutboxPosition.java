package io.pgtrickle.core.outbox;

/**
 * The position of one change in an outbox: the entry's offset and the change's row index in it.
 * Positions of one stream table's outbox are totally ordered, so a publisher that knows the last
 * position a target holds resumes right after it.
 */
public record OutboxPosition(long offset, int rowIndex) implements Comparable<OutboxPosition> {
    /** Before every change of every outbox. */
    public static final OutboxPosition START = new OutboxPosition(0, -1);

    public OutboxPosition {
        if (offset < 0 || rowIndex < -1) {
            throw new IllegalArgumentException("invalid outbox position " + offset + ":" + rowIndex);
        }
    }

    /** Parses {@link #toString()}'s form, {@code <offset>:<row_index>}. */
    public static OutboxPosition parse(String text) {
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not an outbox position (<offset>:<row_index>): " + text);
        }
        try {
            return new OutboxPosition(Long.parseLong(text.substring(0, colon)), Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an outbox position (<offset>:<row_index>): " + text, e);
        }
    }

    /** Whether {@code change} of the entry at {@code entryOffset} comes after this position. */
    public boolean isBefore(long entryOffset, int changeRowIndex) {
        return compareTo(new OutboxPosition(entryOffset, changeRowIndex)) < 0;
    }

    @Override
    public int compareTo(OutboxPosition o) {
        int c = Long.compare(offset, o.offset);
        return c != 0 ? c : Integer.compare(rowIndex, o.rowIndex);
    }

    @Override
    public String toString() {
        return offset + ":" + rowIndex;
    }
}
