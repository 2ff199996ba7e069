package io.pgtrickle.relay.target;

/**
 * What a {@link Target#flush} (or {@link Target#publish}) made durable.
 *
 * @param published messages the target stored now
 * @param deduplicated messages the target already held and refused as repeats
 */
public record PublishResult(int published, int deduplicated) {
    public static final PublishResult NONE = new PublishResult(0, 0);

    public PublishResult plus(PublishResult o) {
        return new PublishResult(published + o.published, deduplicated + o.deduplicated);
    }
}
