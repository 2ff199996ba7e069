package io.pgtrickle.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LongListTest {
    @Test
    void growsPastItsFirstCapacityAndKeepsTheOrder() {
        LongList l = new LongList();
        for (long v = 0; v < 5000; v++) {
            l.add(v * 3);
        }

        assertThat(l.size()).isEqualTo(5000);
        assertThat(l.get(4999)).isEqualTo(14_997L);
        assertThat(l.toArray()).hasSize(5000).startsWith(0L, 3L, 6L);
    }

    @Test
    void concatJoinsListsOneAfterTheOther() {
        LongList a = new LongList();
        LongList b = new LongList();
        a.add(1);
        a.add(2);
        b.add(7);

        assertThat(LongList.concat(List.of(a, b, new LongList()))).containsExactly(1L, 2L, 7L);
    }
}
