package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BufferMaintenancePolicyTest {
    @Test
    void theDefaultPassesEveryTwoSecondsOverBuffersOf256KilobytesWithA50msLockWait() {
        BufferMaintenance.Policy p = BufferMaintenance.Policy.DEFAULT;
        assertThat(p.interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.minBytes()).isEqualTo(256 * 1024);
        assertThat(p.vacuumDeadRows()).isEqualTo(10_000);
        assertThat(p.lockTimeout()).isEqualTo(Duration.ofMillis(50));
    }

    @Test
    void aNegativeIntervalIsRejectedNamingIt() {
        assertThatThrownBy(() -> new BufferMaintenance.Policy(Duration.ofSeconds(-1), 0, 0, Duration.ofMillis(50)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interval");
    }

    @Test
    void negativeThresholdsAreRejectedNamingThem() {
        assertThatThrownBy(() -> new BufferMaintenance.Policy(Duration.ZERO, -1, 0, Duration.ofMillis(50)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minBytes -1");
    }

    @Test
    void aLockTimeoutUnderOneMillisecondIsRejected() {
        // lock_timeout = 0 would mean "wait forever": exactly what the pass must never do to writers.
        assertThatThrownBy(() -> new BufferMaintenance.Policy(Duration.ZERO, 0, 0, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lockTimeout");
    }
}
