package io.pgtrickle.core.inbox;

/**
 * An event to deliver into an inbox. The inbox refuses a NULL, empty or blank {@code eventId}; the
 * other parts may be {@code null}.
 *
 * @param eventId the event's identity: the same event delivered again must carry the same id
 * @param eventType what happened, e.g. {@code order.created} (counted per type in {@code <name>_stats})
 * @param source where it came from, e.g. a topic
 * @param aggregateId the entity it is about
 * @param payload JSON text, or {@code null}
 * @param headers JSON text, or {@code null} for none
 */
public record InboxEvent(String eventId, String eventType, String source, String aggregateId, String payload,
                         String headers) {
    /** An event with an id, a type and a JSON payload. */
    public static InboxEvent of(String eventId, String eventType, String payload) {
        return new InboxEvent(eventId, eventType, null, null, payload, null);
    }
}
