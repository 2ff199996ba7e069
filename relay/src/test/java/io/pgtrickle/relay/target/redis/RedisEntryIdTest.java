package io.pgtrickle.relay.target.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.outbox.OutboxPosition;
import org.junit.jupiter.api.Test;

class RedisEntryIdTest {
    @Test
    void anEntryIdIsTheOffsetAndTheRowIndexPlusOneAndReadsBackToThePosition() {
        OutboxPosition p = new OutboxPosition(1042, 0);
        assertThat(RedisTarget.entryId(p).toString()).isEqualTo("1042-1");
        assertThat(RedisTarget.position(RedisTarget.entryId(p))).isEqualTo(p);
    }

    @Test
    void entryIdsOrderLikePositions() {
        OutboxPosition a = new OutboxPosition(7, 9);
        OutboxPosition b = new OutboxPosition(8, 0);
        assertThat(RedisTarget.entryId(a)).isLessThan(RedisTarget.entryId(b));
        assertThat(RedisTarget.entryId(new OutboxPosition(0, 0)).toString()).isEqualTo("0-1");
    }
}
