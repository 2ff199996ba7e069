package io.pgtrickle.relay.target;

/**
 * What one {@link Target#publish} did.
 *
 * @param published messages the target stored now
 * @param deduplicated messages the target already held and refused as repeats
 */
public record PublishResult(int published, int deduplicated) {
    public PublishResult plus(PublishResult o) {
        return new PublishResult(published + o.published, deduplicated + o.deduplicated);
    }
}
