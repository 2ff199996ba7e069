package io.pgtrickle.core.outbox;

/**
 * One row-level change of an outbox entry: {@code op} is {@code insert}, {@code update} or
 * {@code delete}; {@code key}, {@code before} and {@code after} are JSON text (user columns only;
 * {@code before} is null for an insert, {@code after} for a delete).
 */
public record OutboxChange(int rowIndex, String op, String key, String before, String after) {
}
